"""FHIR routes, mounted at /api/v1/fhir.

- ``GET /api/v1/fhir/Patient/{id}/$everything``: the patient's record as a searchset Bundle
  (roles that see patient records; another clinic's patient is 404).
- ``GET /api/v1/fhir/$export``: a Bulk Data manifest listing one NDJSON file per resource type;
  ``GET /api/v1/fhir/$export/{type}.ndjson`` streams one of them. Admins and clinicians get
  identified data unless they ask ``deidentified=true``; statisticians get de-identified data only.

Without ``Prefer: respond-async`` the export is answered at once (streamed); with it, Bulk
Data's asynchronous kick-off: ``202`` and a ``Content-Location`` status URL, polled until the job
worker has written the files (``GET /api/v1/fhir/$export-status/{key}``: ``202`` with
``X-Progress``, then the manifest; ``DELETE`` removes the files). Every file is recorded as an
export (see :mod:`anagen.fhir.bulk_async`).
"""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import UUID

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import http_date
from ninja import Query, Router

from anagen.api.params import Id
from anagen.core.errors import ActionError

from . import selectors, services
from .models import ExportScope, ExportVia

router = Router(tags=["fhir"])

FHIR_JSON = "application/fhir+json"
FHIR_NDJSON = "application/fhir+ndjson"


def _base_url(request) -> str:
    return request.build_absolute_uri("/api/v1/fhir")


def _site_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@router.get("/Patient/{int:patient_id}/$everything", summary="A patient's record as a FHIR R4 Bundle",
            response={200: dict})
def patient_everything(request, patient_id: Id, download: bool = False):
    patient = selectors.patient_for_export(user=request.auth, pk=patient_id)
    opts = selectors.export_options(deidentified=False, site_url=_site_url(request))
    bundle = selectors.patient_bundle(patient, opts, base_url=_base_url(request))
    counts = selectors.count_by_type(e["resource"] for e in bundle["entry"])
    services.export_record(actor=request.auth, via=ExportVia.API, scope=ExportScope.PATIENT, deidentified=False,
                           patient=patient, clinic=patient.clinic, resource_counts=counts)
    response = HttpResponse(json.dumps(bundle, ensure_ascii=False), content_type=FHIR_JSON)
    if download:  # the patient page's link saves a file named after the patient number
        response["Content-Disposition"] = f'attachment; filename="{patient.patient_number}-fhir.json"'
    return response


def _types(raw: str) -> list[str]:
    known = selectors.resource_types()
    if not raw:
        return list(known)
    asked = [t.strip() for t in raw.split(",") if t.strip()]
    unknown = [t for t in asked if t not in known]
    if unknown:
        raise ActionError(f"Not exported: {', '.join(unknown)}. Choose among {', '.join(known)}.", field="_type",
                          code="unknown_type")
    return asked


@router.get("/$export", summary="Bulk export: the manifest at once, or with Prefer: respond-async a "
                                "kick-off answered 202 with a status URL", response={200: dict, 202: None})
def bulk_manifest(request, clinic: str = "", deidentified: bool | None = None,
                  type_: str = Query("", alias="_type")):
    deid = selectors.bulk_deidentified_for(request.auth, deidentified)
    selectors.bulk_patients(user=request.auth, clinic_code=clinic or None)  # 404 for a foreign clinic
    if "respond-async" in request.headers.get("Prefer", ""):
        return _kick_off(request, clinic=clinic, deidentified=deidentified, types=_types(type_) if type_ else [])
    params = [f"deidentified={'true' if deid else 'false'}"] + ([f"clinic={clinic}"] if clinic else [])
    query = "&".join(params)
    return {
        "transactionTime": timezone.now().isoformat(),
        "request": request.build_absolute_uri(),
        "requiresAccessToken": True,
        "output": [{"type": t, "url": f"{_base_url(request)}/$export/{t}.ndjson?{query}"} for t in _types(type_)],
        "error": [],
    }


@router.get("/$export/{rtype}.ndjson", summary="One resource type of a bulk export, as NDJSON")
def bulk_file(request, rtype: str, clinic: str = "", deidentified: bool | None = None):
    deid = selectors.bulk_deidentified_for(request.auth, deidentified)
    if rtype not in selectors.resource_types():
        raise Http404
    patients, clinic_obj = selectors.bulk_patients(user=request.auth, clinic_code=clinic or None)
    opts = selectors.export_options(deidentified=deid, site_url=_site_url(request))
    services.export_record(actor=request.auth, via=ExportVia.API, scope=ExportScope.BULK, deidentified=deid,
                           clinic=clinic_obj, resource_counts={rtype: None})  # streamed: not counted upfront
    lines = (services.dumps(r) + "\n" for r in selectors.export_resources(patients, opts, types=[rtype]))
    response = StreamingHttpResponse(lines, content_type=FHIR_NDJSON)
    response["Content-Disposition"] = f'attachment; filename="{rtype}.ndjson"'
    return response


# --- Bulk Data's asynchronous pattern (kick-off, status, files), made by the job worker ---------


def _kick_off(request, *, clinic: str, deidentified: bool | None, types: list[str]):
    from anagen.jobs.prepared import request_file

    prepared = request_file(user=request.auth, kind="fhir_bulk", params={
        "clinic": clinic, "deidentified": deidentified, "types": types, "site_url": _site_url(request),
        "request": request.build_absolute_uri()})
    response = HttpResponse(status=202)
    response["Content-Location"] = f"{_base_url(request)}/$export-status/{prepared.key}"
    return response


def _outcome(status: int, text: str, code: str = "exception") -> HttpResponse:
    body = {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}]}
    return HttpResponse(json.dumps(body), status=status, content_type=FHIR_JSON)


@router.get("/$export-status/{uuid:key}", summary="Status of an asynchronous bulk export: 202 while it "
                                                  "runs (X-Progress), then the manifest",
            response={200: dict, 202: None})
def bulk_status(request, key: UUID):
    from anagen.jobs import prepared as docs

    from .bulk_async import manifest_of

    item = docs.get_for(user=request.auth, key=key)
    state = docs.state(item)
    if state["status"] in ("queued", "running"):
        response = HttpResponse(status=202)
        response["X-Progress"] = f"{state['status']}, {state['progress']} %"
        response["Retry-After"] = "2"
        return response
    if state["status"] == "failed":
        return _outcome(500, f"The export could not be made: {state['error']}")
    docs.check(request.auth, item.kind, item.params)  # a right withdrawn since the kick-off
    with item.file.open("rb") as fh:
        manifest = manifest_of(fh)
    for out in manifest["output"]:
        out["url"] = f"{_base_url(request)}/$export-status/{item.key}/{out['url']}"
    response = HttpResponse(json.dumps(manifest), content_type="application/json")
    response["Expires"] = http_date((item.created_at + timedelta(hours=docs.keep_hours())).timestamp())
    return response


@router.delete("/$export-status/{uuid:key}", summary="Cancel an asynchronous bulk export or delete its files",
               response={202: None})
def bulk_status_delete(request, key: UUID):
    from anagen.jobs import prepared as docs

    docs.discard(user=request.auth, key=key)
    return HttpResponse(status=202)


@router.get("/$export-status/{uuid:key}/{rtype}.ndjson", summary="One NDJSON file of an asynchronous bulk export")
def bulk_status_file(request, key: UUID, rtype: str):
    from anagen.jobs import prepared as docs

    from .bulk_async import iter_member, manifest_of

    if rtype not in selectors.resource_types():
        raise Http404
    item, handle = docs.open_for_download(user=request.auth, key=key, detail={"file": f"{rtype}.ndjson"})
    names = {out["url"] for out in manifest_of(handle)["output"]}
    if f"{rtype}.ndjson" not in names:
        handle.close()
        raise Http404(f"This export has no {rtype} file.")
    handle.seek(0)
    response = StreamingHttpResponse(iter_member(handle, f"{rtype}.ndjson"), content_type=FHIR_NDJSON)
    response["Content-Disposition"] = f'attachment; filename="{rtype}.ndjson"'
    return response
