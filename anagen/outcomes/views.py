"""Outcome pages: a patient's timeline and progress (with the PDF report) and the outcome table."""

from __future__ import annotations

import csv
import datetime as dt

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from anagen.audit.events import record_event
from anagen.core.errors import ActionError
from anagen.core.permissions import role_required
from anagen.evidence.visits import DEFAULT_VISIT_WEEKS

from . import report, selectors


@require_GET
@role_required(*selectors.TIMELINE_ROLES)
def patient_timeline(request, pk):
    from anagen.assessments.selectors import can_see_photographs

    patient = selectors.patient_for_outcomes(user=request.user, pk=pk)
    return render(request, "outcomes/patient.html", {
        "patient": patient, "can_see_photographs": can_see_photographs(request.user),
        "events": selectors.patient_timeline(user=request.user, patient=patient),
        "progress": selectors.patient_progress(user=request.user, patient=patient),
    })


@require_GET
@role_required(*selectors.TIMELINE_ROLES)
def patient_report(request, pk):
    patient = selectors.patient_for_outcomes(user=request.user, pk=pk)
    pdf = report.progress_report_pdf(user=request.user, patient=patient)
    record_event("export", subject=f"patient:{patient.pk}", clinic_id=patient.clinic_id,
                 detail={"what": "progress report", "format": "pdf"})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.report_filename(patient)}"'
    return response


@require_POST
@role_required(*selectors.TIMELINE_ROLES)
def patient_report_prepare(request, pk):
    """Ask for the progress report in the background; its page shows progress and the download."""
    from anagen.jobs.prepared import request_file

    patient = selectors.patient_for_outcomes(user=request.user, pk=pk)
    prepared = request_file(user=request.user, kind="progress_report", params={"patient": patient.pk})
    return redirect("jobs:prepared", key=prepared.key)


def _filters(request):
    g = request.GET
    weeks = [w for w in g.get("weeks", "").replace(" ", "").split(",") if w]
    return selectors.outcome_filters(user=request.user, clinic=g.get("clinic"), sex=g.get("sex", ""),
                                     scale=g.get("scale", ""), stage=g.get("stage", ""), date_from=g.get("from"),
                                     date_to=g.get("to"), visit_weeks=weeks or None)


@require_GET
@role_required(*selectors.OUTCOMES_ROLES)
def outcome_table(request):
    from anagen.patients.models import Sex, StagingScale

    context = {"clinics": request.user.clinics.order_by("name"), "sexes": Sex.choices, "scales": StagingScale.choices,
               "q": request.GET, "default_weeks": ",".join(str(w) for w in DEFAULT_VISIT_WEEKS)}
    try:
        filters = _filters(request)
    except ActionError as exc:
        context["error"] = exc.message
        return render(request, "outcomes/table.html", context, status=400)
    context["table"] = selectors.outcome_table(user=request.user, filters=filters)
    context["marker"] = selectors.suppressed_marker()
    context["csv_query"] = request.GET.urlencode()
    return render(request, "outcomes/table.html", context)


@require_GET
@role_required(*selectors.OUTCOMES_ROLES)
def outcome_table_csv(request):
    try:
        filters = _filters(request)
    except ActionError as exc:
        return HttpResponse(exc.message + "\n", status=400, content_type="text/plain; charset=utf-8")
    table = selectors.outcome_table(user=request.user, filters=filters)
    record_event("export", subject="outcomes", detail={"what": "outcomes table", "format": "csv",
                                                       "query": request.GET.urlencode()[:500]})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="outcomes-{dt.date.today():%Y-%m-%d}.csv"'
    writer = csv.writer(response)
    for row in selectors.outcome_csv_rows(table):
        writer.writerow(row)
    return response
