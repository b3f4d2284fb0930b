"""Sections other apps add to the patient page.

An app registers a section once, in its ``AppConfig.ready()``::

    from anagen.patients.sections import register
    register(30, screening_section)

where ``screening_section(request, patient)`` returns ``{"template": "screening/_patient.html",
**context}``, or None when the user may not see it. The patient page includes the sections in
``order``; a section that fails is logged and left out, so one app cannot break the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

SectionFunc = Callable[..., "dict | None"]
_registry: list[tuple[int, str, SectionFunc]] = []


def register(order: int, func: SectionFunc) -> SectionFunc:
    """Add ``func`` to the patient page at position ``order`` (registering twice is harmless)."""
    key = f"{func.__module__}.{func.__qualname__}"
    if not any(k == key for _, k, _ in _registry):
        _registry.append((order, key, func))
        _registry.sort(key=lambda item: (item[0], item[1]))
    return func


def unregister(func: SectionFunc) -> None:
    key = f"{func.__module__}.{func.__qualname__}"
    _registry[:] = [item for item in _registry if item[1] != key]


def sections_for(request, patient) -> list[dict]:
    """The sections this request's user may see for ``patient``, in order."""
    out = []
    for _, key, func in list(_registry):
        try:
            section = func(request, patient)
        except Exception:
            log.exception("patient page section %s failed for patient %s", key, patient.pk)
            continue
        if section and section.get("template"):
            out.append(section)
    return out
