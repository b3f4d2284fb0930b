"""Outcomes API: a patient's timeline and measurements, and the outcome table.

The same selectors as the pages: role first (403), then clinic (404).
"""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema

from anagen.api.params import Id
from anagen.core.permissions import check_role

from . import selectors

router = Router(tags=["outcomes"])


class TableQuery(Schema):
    clinic: Id | None = None
    sex: str = ""
    scale: str = ""
    stage: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    weeks: str = ""


@router.get("/patients/{patient_id}/timeline", summary="A patient's journey, oldest event first")
def patient_timeline(request, patient_id: Id):
    patient = selectors.patient_for_outcomes(user=request.user, pk=patient_id)
    events = selectors.patient_timeline(user=request.user, patient=patient)
    return {"patient_id": patient.pk, "patient_number": patient.patient_number,
            "events": [e.to_dict() for e in events]}


@router.get("/patients/{patient_id}/measurements",
            summary="A patient's measured visits with change from baseline, and the treatment sessions")
def patient_measurements(request, patient_id: Id):
    patient = selectors.patient_for_outcomes(user=request.user, pk=patient_id)
    progress = selectors.patient_progress(user=request.user, patient=patient)
    return {"patient_id": patient.pk, **progress.to_dict()}


@router.get("/patients/{patient_id}/report.pdf", summary="A patient's progress report as a PDF (as the page's download)",
            openapi_extra={"responses": {200: {"description": "The progress report",
                                               "content": {"application/pdf": {"schema": {"type": "string",
                                                                                          "format": "binary"}}}}}})
def patient_report(request, patient_id: Id):
    from django.http import HttpResponse
    from django.utils import timezone

    from . import report

    patient = selectors.patient_for_outcomes(user=request.user, pk=patient_id)
    response = HttpResponse(report.progress_report_pdf(user=request.user, patient=patient),
                            content_type="application/pdf")
    filename = f"progress-report-{patient.patient_number}-{timezone.localdate():%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get("/table", summary="Outcomes per treatment across the patients of your clinics (aggregates only)")
def outcome_table(request, q: Query[TableQuery]):
    check_role(request.user, *selectors.OUTCOMES_ROLES)
    weeks = [w for w in q.weeks.replace(" ", "").split(",") if w]
    filters = selectors.outcome_filters(user=request.user, clinic=q.clinic, sex=q.sex, scale=q.scale, stage=q.stage,
                                        date_from=q.date_from, date_to=q.date_to, visit_weeks=weeks or None)
    return selectors.outcome_table(user=request.user, filters=filters).to_dict()
