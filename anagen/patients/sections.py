"""Sections other apps add to the patient page.

An app registers a section once, in its ``AppConfig.ready()``::

    from anagen.patients.sections import register
    register(30, screening_section)

where ``screening_section(request, patient)`` returns ``{"template": "screening/_patient.html",
**context}``, or None when the user may not see it. Optional keys: ``title`` (the section's name
in the chart's section links; default: the app's verbose name) and ``facts``, a list of
``(label, text)`` pairs shown in the chart's compact header (e.g. the next appointment). The patient page includes the sections in
``order``; a section that fails is logged and left out, so one app cannot break the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.apps import apps
from django.template.loader import get_template
from django.utils.text import slugify

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


class _SafeTemplate:
    """What ``{% include section.template %}`` renders: the section's template, and if it fails
    while rendering, nothing (the error is logged with the section's name)."""

    def __init__(self, key: str, template):
        self.key = key
        self.inner = getattr(template, "template", template)  # the engine-level Template (not named
        # "template": {% include %} would unwrap it and skip the guard)

    def render(self, context):
        try:
            return self.inner.render(context)
        except Exception:
            log.exception("patient page section %s failed to render", self.key)
            return ""


def sections_for(request, patient) -> list[dict]:
    """The sections this request's user may see for ``patient``, in order."""
    out = []
    for _, key, func in list(_registry):
        try:
            section = func(request, patient)
        except Exception:
            log.exception("patient page section %s failed for patient %s", key, patient.pk)
            continue
        if not (section and section.get("template")):
            continue
        try:
            # Resolved here, so a missing or broken template leaves the section out, not the page.
            section["template"] = _SafeTemplate(key, get_template(section["template"]))
        except Exception:
            log.exception("patient page section %s: template %r cannot be loaded", key, section.get("template"))
            continue
        app = apps.get_containing_app_config(func.__module__)
        section.setdefault("title", app.verbose_name if app else key.rsplit(".", 1)[-1])
        section["anchor"] = "chart-" + slugify(f"{app.label if app else ''} {func.__name__}")
        section["facts"] = [tuple(f) for f in section.get("facts") or () if f and f[1]]
        out.append(section)
    return out
