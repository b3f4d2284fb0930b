"""FHIR routes, mounted at /api/v1/fhir.

- ``GET /api/v1/fhir/Patient/{id}/$everything``: the patient's record as a searchset Bundle
  (roles that see patient records; another clinic's patient is 404).
- ``GET /api/v1/fhir/$export``: a Bulk Data manifest listing one NDJSON file per resource type;
  ``GET /api/v1/fhir/$export/{type}.ndjson`` streams one of them. Admins and clinicians get
  identified data unless they ask ``deidentified=true``; statisticians get de-identified data only.

The export is answered at once (streamed), not through Bulk Data's asynchronous kick-off and
status polling; every file streamed is recorded as an export.
"""

from __future__ import annotations

import json

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
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


@router.get("/$export", summary="Bulk export manifest: one NDJSON file per resource type", response={200: dict})
def bulk_manifest(request, clinic: str = "", deidentified: bool | None = None,
                  type_: str = Query("", alias="_type")):
    deid = selectors.bulk_deidentified_for(request.auth, deidentified)
    selectors.bulk_patients(user=request.auth, clinic_code=clinic or None)  # 404 for a foreign clinic
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
