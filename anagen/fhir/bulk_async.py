"""FHIR Bulk Data's asynchronous request pattern, made by the job worker.

A client sends the kick-off ``GET /api/v1/fhir/$export`` with ``Prefer: respond-async`` and gets
``202 Accepted`` with a ``Content-Location`` status URL. The worker writes the NDJSON files (the
same writer as ``anagen fhir export --all``: bounded memory, validated types, the export
recorded) into one ZIP kept as the requester's prepared document (:mod:`anagen.jobs.prepared`).
Polling the status URL answers ``202`` with ``X-Progress`` while the work runs, then ``200`` with
the Bulk Data manifest whose ``output`` URLs serve each file from that ZIP; ``DELETE`` on the
status URL removes the files. Only the requester reaches the status URL and the files, and the
right to the export is checked again at every file.

See https://hl7.org/fhir/uv/bulkdata/export.html (Bulk Data Access IG, request flow).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from django.utils import timezone

from . import selectors
from .models import ExportVia

MANIFEST = "manifest.json"


def _scope(user, params: dict):
    deid = selectors.bulk_deidentified_for(user, params.get("deidentified"))
    _patients, clinic = selectors.bulk_patients(user=user, clinic_code=params.get("clinic") or None)
    return deid, clinic


def prepared_check(user, params: dict):
    """The synchronous export's own rules: the role, de-identification, the clinic."""
    from anagen.jobs.prepared import Access

    deid, clinic = _scope(user, params)
    return Access(title="FHIR bulk export" + (f" of {clinic.name}" if clinic else ""),
                  subject=f"clinic:{clinic.slug}" if clinic else "fhir:bulk",
                  clinic_id=clinic.pk if clinic else None,
                  detail={"deidentified": deid, "types": params.get("types") or "all"})


def prepared_produce(user, params: dict):
    """Write the NDJSON files and the manifest into a ZIP (a temporary file the job stores)."""
    from anagen.jobs.prepared import Made

    from .services import bulk_export_write

    deid, _clinic = _scope(user, params)
    opts = selectors.export_options(deidentified=deid, site_url=params.get("site_url", ""))
    work = Path(tempfile.mkdtemp(prefix="anagen-fhir-bulk-"))
    fd, zip_path = tempfile.mkstemp(prefix="anagen-fhir-bulk-", suffix=".zip")
    os.close(fd)
    try:
        manifest = bulk_export_write(actor=user, out_dir=work, opts=opts, clinic_code=params.get("clinic") or None,
                                     user_scope=user, via=ExportVia.API)
        wanted = set(params.get("types") or [])
        manifest["output"] = [o for o in manifest["output"] if not wanted or o["type"] in wanted]
        manifest["request"] = params.get("request", "")
        manifest["requiresAccessToken"] = True
        with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for out in manifest["output"]:
                zf.write(work / out["url"], arcname=out["url"])
            zf.writestr(MANIFEST, json.dumps(manifest, indent=2))
    except BaseException:
        os.unlink(zip_path)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Made(path=zip_path, filename=f"fhir-export-{timezone.localdate():%Y-%m-%d}.zip",
                content_type="application/zip")


def manifest_of(handle) -> dict:
    with zipfile.ZipFile(handle) as zf:
        return json.loads(zf.read(MANIFEST))


def iter_member(handle, name: str, chunk: int = 64 * 1024):
    """The bytes of one NDJSON file in the ZIP, a chunk at a time (the handle is closed at the end)."""
    try:
        with zipfile.ZipFile(handle) as zf, zf.open(name) as member:
            while block := member.read(chunk):
                yield block
    finally:
        handle.close()
