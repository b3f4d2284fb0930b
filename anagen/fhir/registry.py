"""Where other apps add resources to the FHIR export.

The studies app adds ResearchStudy and ResearchSubject this way (``anagen/studies/fhir.py``), from
its ``AppConfig.ready``::

    from anagen.fhir.registry import register

    def study_resources(patient_ids, opts):
        # ResearchSubject per enrolled patient (opts.ref("Patient", pk) as individual) and the
        # ResearchStudy each points at; the exporter drops repeats by (resourceType, id).
        ...

    register(types=("ResearchStudy", "ResearchSubject"), provider=study_resources)

A provider is called once per chunk of patients with their primary keys and the
:class:`anagen.fhir.mapping.ExportOptions` (ids and de-identification come from there, so a
de-identified export stays de-identified), and yields resources as dicts. A blinded study must
not put the arm in a resource here unless the export is for an unblinded role.
"""

from __future__ import annotations

from typing import Callable, Iterable

Provider = Callable[[list[int], object], Iterable[dict]]

_providers: list[tuple[tuple[str, ...], Provider]] = []


def register(*, types: tuple[str, ...], provider: Provider) -> None:
    """Add ``provider``'s resources (of ``types``) to every export."""
    if any(p is provider for _, p in _providers):
        return
    _providers.append((tuple(types), provider))


def unregister(provider: Provider) -> None:
    _providers[:] = [(t, p) for t, p in _providers if p is not provider]


def providers() -> list[tuple[tuple[str, ...], Provider]]:
    return list(_providers)


def extra_types() -> tuple[str, ...]:
    out: list[str] = []
    for types, _ in _providers:
        out.extend(t for t in types if t not in out)
    return tuple(out)
