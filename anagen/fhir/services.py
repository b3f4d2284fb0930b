"""Writes of the FHIR export: the export record (audited) and the NDJSON files.

Every export, whichever way it leaves (API or command line), is recorded by
:func:`export_record` as a :class:`~anagen.fhir.models.FhirExport` row, which the audit trail
tracks with its actor. (When the hash-chained ``audit_event`` lands, this is the one place that
should also emit an "export" event.)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from auditlog.signals import accessed
from django.db import transaction
from django.utils import timezone

from anagen.audit.events import record_event
from anagen.core.errors import ActionError

from . import selectors, validation
from .mapping import ExportOptions
from .models import ExportScope, ExportVia, FhirExport

NDJSON_SUFFIX = ".ndjson"


@transaction.atomic
def export_record(*, actor, via: str, scope: str, deidentified: bool, patient=None, clinic=None,
                  resource_counts: dict[str, int] | None = None, destination: str = "") -> FhirExport:
    """Record one export (who, what, identified or not) in the export log and the audit trail.

    A one-patient export is also logged as an access to the patient's record, so the patient
    page's history shows who took the record out and when.
    """
    if via not in ExportVia.values or scope not in ExportScope.values:
        raise ActionError(f"Unknown export kind {via}/{scope}.")
    export = FhirExport.objects.create(actor=actor if getattr(actor, "pk", None) else None, via=via, scope=scope,
                                       deidentified=deidentified, patient=patient, clinic=clinic,
                                       resource_counts=dict(resource_counts or {}), destination=destination[:255])
    if patient is not None:
        accessed.send(sender=type(patient), instance=patient)
    record_event("export", subject=f"patient:{patient.pk}" if patient is not None else scope,
                 clinic_id=getattr(patient, "clinic_id", None) or getattr(clinic, "pk", None),
                 detail={"what": "FHIR", "via": via, "scope": scope, "deidentified": deidentified, "export": export.pk})
    return export


def dumps(resource: dict) -> str:
    """One resource as one compact NDJSON line (no newline inside, as Bulk Data requires)."""
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":"))


def bulk_export_write(*, actor, out_dir: str | os.PathLike, opts: ExportOptions, clinic_code: str | None = None,
                      user_scope=None, validate: bool = False, via: str = ExportVia.COMMAND) -> dict:
    """Write one NDJSON file per resource type (``Patient.ndjson``, ``Observation.ndjson``, …) and
    a Bulk Data style ``manifest.json`` into ``out_dir``; returns the manifest.

    ``user_scope``: the staff member whose clinics bound the export (None: every clinic). The
    files are written into a temporary folder beside ``out_dir`` and moved in only when every
    resource has been written (and, with ``validate``, has passed the FHIR models), so a failed
    export leaves no half-written files.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ActionError(f"{out} is a file; give a folder for the NDJSON files.", field="out")
    out.mkdir(parents=True, exist_ok=True)
    patients, clinic = selectors.bulk_patients(user=user_scope, clinic_code=clinic_code)
    started = timezone.now()
    work = Path(tempfile.mkdtemp(prefix=".fhir-export-", dir=out))
    files: dict[str, object] = {}
    counts: dict[str, int] = {}
    try:
        for resource in selectors.export_resources(patients, opts):
            if validate:
                try:
                    validation.validate(resource)
                except validation.InvalidResource as exc:
                    raise ActionError(f"Export stopped, nothing was written: {exc}", code="invalid_fhir") from None
            rtype = resource["resourceType"]
            fh = files.get(rtype)
            if fh is None:
                fh = files[rtype] = open(work / f"{rtype}{NDJSON_SUFFIX}", "w", encoding="utf-8")
            fh.write(dumps(resource) + "\n")
            counts[rtype] = counts.get(rtype, 0) + 1
        for fh in files.values():
            fh.close()
        manifest = {
            "transactionTime": started.isoformat(),
            "request": f"anagen fhir export --all{' --clinic ' + clinic_code if clinic_code else ''}"
                       f"{' --deidentified' if opts.deidentified else ''}",
            "requiresAccessToken": False,
            "output": [{"type": t, "url": f"{t}{NDJSON_SUFFIX}", "count": counts[t]}
                       for t in selectors.resource_types() if t in counts],
            "error": [],
            "extension": {"deidentified": opts.deidentified},
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        # Old files of types this export no longer has would read as part of it: remove them.
        for t in selectors.resource_types():
            stale = out / f"{t}{NDJSON_SUFFIX}"
            if t not in counts and stale.exists():
                stale.unlink()
        for name in [f"{t}{NDJSON_SUFFIX}" for t in counts] + ["manifest.json"]:
            os.replace(work / name, out / name)
    finally:
        for fh in files.values():
            if not fh.closed:
                fh.close()
        shutil.rmtree(work, ignore_errors=True)
    export_record(actor=actor, via=via, scope=ExportScope.BULK, deidentified=opts.deidentified, clinic=clinic,
                  resource_counts=counts, destination=str(out))
    return manifest
