"""Studies API for data quality, the lock and the results, mounted under /api/v1/studies with
the rest of the studies routes (``anagen/studies/api.py`` adds this router). The same services
and the same refusals as the pages: ``{"detail", "code"}`` (``locked``, ``open_queries``,
``bad_password``, ``query_closed``, ``already_verified``...)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from anagen.api.params import Id
from ninja import Field, Router, Schema, Status

from . import analysis_services, blinding, lock, quality_services, selectors
from .models import DataQuery, SourceVerification, StudyRole

router = Router(tags=["studies"])


def _study(request, study_id: Id):
    from .api import _page_role

    _page_role(request)
    return selectors.study_get(user=request.user, pk=study_id)


def _not_evaluator(request, study) -> None:
    if blinding.study_role(request.user, study) == StudyRole.EVALUATOR:
        raise PermissionDenied("Evaluators read coded images; the subjects' data are not shown to them.")


class QueryOut(Schema):
    id: int
    subject: str
    visit_id: int | None = Field(None, description="The assessment visit the query is about, if any.")
    visit_date: date | None = None
    data_point: str
    question: str
    status: str
    raised_by: str
    raised_at: datetime
    answer: str
    answered_at: datetime | None
    close_note: str
    closed_at: datetime | None


def _query_out(q: DataQuery) -> dict:
    return {"id": q.pk, "subject": q.subject.code, "visit_id": q.visit_id,
            "visit_date": q.visit.visit_date if q.visit_id else None, "data_point": q.data_point, "question": q.question,
            "status": q.status, "raised_by": str(q.raised_by), "raised_at": q.raised_at, "answer": q.answer,
            "answered_at": q.answered_at, "close_note": q.close_note, "closed_at": q.closed_at}


def _subjects(request, study):
    return selectors.subject_list(user=request.user, study=study)


@router.get("/{study_id}/queries", response=list[QueryOut], summary="Data queries on subjects at your clinics")
def query_list(request, study_id: Id):
    study = _study(request, study_id)
    _not_evaluator(request, study)
    return [_query_out(q) for q in DataQuery.objects.filter(study=study, subject__in=_subjects(request, study))
            .select_related("subject", "visit", "raised_by")]


class QueryIn(Schema):
    subject_id: int
    visit_id: int | None = Field(None, description="Optional: the subject's own assessment visit, held at a clinic "
                                                   "you work at, that the data point was recorded at.")
    data_point: str
    question: str


@router.post("/{study_id}/queries", response={201: QueryOut}, summary="Raise a query on a subject's data point")
def query_raise(request, study_id: Id, payload: QueryIn):
    study = _study(request, study_id)
    subject = selectors.subject_get(user=request.user, study=study, pk=payload.subject_id)
    visit = None
    if payload.visit_id is not None:
        from anagen.assessments.models import AssessmentVisit
        from anagen.core.errors import NotFound

        visit = AssessmentVisit.objects.filter(pk=payload.visit_id).first()
        if visit is None:  # the service answers the same for a visit at another clinic
            raise NotFound("No such assessment visit at a clinic you work at.", code="no_visit")
    q = quality_services.query_raise(actor=request.user, subject=subject, data_point=payload.data_point,
                                     question=payload.question, visit=visit)
    return Status(201, _query_out(q))


def _query(request, study, query_id: Id) -> DataQuery:
    try:
        return DataQuery.objects.select_related("subject", "visit", "raised_by").get(
            study=study, pk=query_id, subject__in=_subjects(request, study))
    except DataQuery.DoesNotExist:
        raise Http404("No such query in this study at a clinic you work at.") from None


class QueryAnswerIn(Schema):
    answer: str


@router.post("/{study_id}/queries/{query_id}/answer", response=QueryOut, summary="Answer a query (the site)")
def query_answer(request, study_id: Id, query_id: Id, payload: QueryAnswerIn):
    study = _study(request, study_id)
    q = quality_services.query_answer(actor=request.user, query=_query(request, study, query_id), answer=payload.answer)
    return _query_out(q)


class QueryCloseIn(Schema):
    note: str = ""


@router.post("/{study_id}/queries/{query_id}/close", response=QueryOut,
             summary="Close a query (whoever raised it, or a study statistician)")
def query_close(request, study_id: Id, query_id: Id, payload: QueryCloseIn):
    study = _study(request, study_id)
    q = quality_services.query_close(actor=request.user, query=_query(request, study, query_id), note=payload.note)
    return _query_out(q)


class VerificationOut(Schema):
    id: int
    subject: str
    data_point: str
    note: str
    verified_by: str
    verified_at: datetime


def _verification_out(v: SourceVerification) -> dict:
    return {"id": v.pk, "subject": v.subject.code, "data_point": v.data_point, "note": v.note,
            "verified_by": str(v.verified_by), "verified_at": v.verified_at}


@router.get("/{study_id}/verifications", response=list[VerificationOut], summary="Source-data verification flags")
def verification_list(request, study_id: Id):
    study = _study(request, study_id)
    _not_evaluator(request, study)
    return [_verification_out(v) for v in SourceVerification.objects.filter(
        study=study, subject__in=_subjects(request, study)).select_related("subject", "verified_by")]


class VerificationIn(Schema):
    subject_id: int
    data_point: str
    note: str = ""


@router.post("/{study_id}/verifications", response={201: VerificationOut},
             summary="Flag a data point as verified against the source")
def verification_add(request, study_id: Id, payload: VerificationIn):
    study = _study(request, study_id)
    subject = selectors.subject_get(user=request.user, study=study, pk=payload.subject_id)
    v = quality_services.sdv_flag(actor=request.user, subject=subject, data_point=payload.data_point,
                                  note=payload.note)
    return Status(201, _verification_out(v))


class LockEventOut(Schema):
    action: str
    at: datetime
    by: str
    reason: str
    unblinded_at: datetime | None = Field(None, description="A lock: when the unblinding of its analysis was signed.")
    unblinded_by: str | None = None


class LockOut(Schema):
    locked: bool
    results_released: bool = Field(..., description="Locked, and the unblinding of the analysis signed: the "
                                                    "results are open to the study statistician and investigators.")
    events: list[LockEventOut]


def _lock_out(study) -> dict:
    return {"locked": lock.is_locked(study), "results_released": lock.results_released(study),
            "events": [{"action": e.action, "at": e.at, "by": str(e.by), "reason": e.reason,
                        "unblinded_at": e.unblinded_at, "unblinded_by": str(e.unblinded_by) if e.unblinded_by_id else None}
                       for e in study.lock_events.select_related("by", "unblinded_by").order_by("-at", "-id")]}


@router.get("/{study_id}/lock", response=LockOut, summary="Whether the database is locked, and its lock history")
def lock_state(request, study_id: Id):
    return _lock_out(_study(request, study_id))


class LockIn(Schema):
    password: str


class UnlockIn(Schema):
    password: str
    reason: str


@router.post("/{study_id}/lock", response={201: LockOut}, summary="Lock the database (study statistician, password)")
def lock_study(request, study_id: Id, payload: LockIn):
    study = _study(request, study_id)
    lock.study_lock(actor=request.user, study=study, password=payload.password)
    return Status(201, _lock_out(study))


@router.post("/{study_id}/unlock", response={201: LockOut},
             summary="Unlock the database with the reason (study statistician, password)")
def unlock_study(request, study_id: Id, payload: UnlockIn):
    study = _study(request, study_id)
    lock.study_unlock(actor=request.user, study=study, password=payload.password, reason=payload.reason)
    return Status(201, _lock_out(study))


@router.post("/{study_id}/unblinding", response={201: LockOut},
             summary="Sign the unblinding of the analysis of the locked database (study statistician, password)")
def unblind_analysis(request, study_id: Id, payload: LockIn):
    study = _study(request, study_id)
    lock.analysis_unblind(actor=request.user, study=study, password=payload.password)
    return Status(201, _lock_out(study))


class SideValueIn(Schema):
    visit_id: int
    side: str
    density_per_cm2: float
    image_id: int | None = Field(None, description="The half's target-area image at that visit the value was "
                                                   "counted from; once read blind, the analysis takes the reading.")


class SideValueOut(Schema):
    subject: str
    visit_id: int
    visit_date: str
    side: str
    density_per_cm2: float


@router.post("/{study_id}/subjects/{subject_id}/side-values", response={201: SideValueOut},
             summary="Split-scalp: record one scalp half's target-area density at an assessment visit")
def side_value(request, study_id: Id, subject_id: Id, payload: SideValueIn):
    from anagen.assessments.models import AssessmentVisit

    study = _study(request, study_id)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_id)
    visit = AssessmentVisit.objects.filter(pk=payload.visit_id, patient_id=subject.patient_id).first()
    if visit is None:
        raise Http404("No such assessment visit of this subject.")
    image = None
    if payload.image_id is not None:
        from anagen.assessments.models import TrichogramImage

        image = TrichogramImage.objects.filter(pk=payload.image_id, visit=visit).first()
        if image is None:
            raise Http404("No such image at this visit.")
    row = quality_services.side_value_record(actor=request.user, subject=subject, visit=visit, side=payload.side,
                                             density_per_cm2=payload.density_per_cm2, image=image)
    return Status(201, {"subject": subject.code, "visit_id": visit.pk, "visit_date": visit.visit_date.isoformat(),
                        "side": row.side, "density_per_cm2": row.density_per_cm2})


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null (never a number that is not one)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


@router.get("/{study_id}/results", response=dict[str, Any],
            summary="Results (reveal the arms): unblinded statistician; after the lock and the signed "
                    "unblinding of the analysis also the study statistician and investigators")
def results(request, study_id: Id):
    study = _study(request, study_id)
    res = analysis_services.results_for(user=request.user, study=study, figures=False)
    consort = res.consort
    return _clean({
        "interim": res.interim,
        "locked_at": res.data.locked_at.isoformat() if res.data.locked_at else None,
        "design": res.data.design, "endpoint": res.data.endpoint, "primary_visit_week": res.data.primary_week,
        "active": res.data.active, "control": res.data.control,
        "primary": res.primary.to_dict() if res.primary else None,
        "per_protocol": res.per_protocol.to_dict() if res.per_protocol else None,
        "supporting": res.supporting.to_dict() if res.supporting else None,
        "against_control": res.against_control.to_dict() if res.against_control else None,
        "against_control_per_protocol": res.against_control_pp.to_dict() if res.against_control_pp else None,
        "between_active_arms": res.between_active.to_dict() if res.between_active else None,
        "between_active_arms_per_protocol": res.between_active_pp.to_dict() if res.between_active_pp else None,
        "change_by_visit": res.change.to_dict() if res.change else None,
        "consort": None if consort is None else {
            "assessed": consort.assessed, "excluded": dict(consort.excluded), "randomized": consort.randomized,
            "arms": [{"name": a.name, "allocated": a.allocated, "received": a.received, "lost": dict(a.lost),
                      "discontinued": dict(a.discontinued), "analysed": a.analysed} for a in consort.arms],
            "participants_analysed": consort.participants_analysed},
        "baseline": {"columns": res.baseline["columns"],
                     "rows": [{"label": label, "cells": cells} for label, cells in res.baseline["rows"]]},
        "adverse_events": [{k: v for k, v in r.items()} for r in res.adverse_events["rows"]],
        "listing": res.listing,
        "problems": res.problems,
    })


class SampleSizeIn(Schema):
    difference: float
    sd: float
    rho: float | None = None
    power: float = 0.8
    alpha: float = 0.05
    dropout: float = 0.1


@router.post("/{study_id}/sample-size", response=dict[str, Any],
             summary="Sample size for the study's design (evidence library), from effect, SD, power, alpha, drop-out")
def sample_size(request, study_id: Id, payload: SampleSizeIn):
    study = _study(request, study_id)
    result = analysis_services.plan_sample_size(user=request.user, study=study, **payload.dict())
    return _clean(result.to_dict())


# --- exports (the same services and the same rule as the pages' downloads) ---------------

def _file(description: str, media_type: str) -> dict:
    return {"responses": {200: {"description": description, "content": {
        media_type: {"schema": {"type": "string", "format": "binary"}}}}}}


_EXPORT_RULE = ("the unblinded statistician, and after the lock and the signed unblinding of the analysis the study "
                "statistician and investigators, get the full file; until then the blinded study statistician and "
                "investigators get the blinded one")


@router.get("/{study_id}/dataset.csv", summary=f"The analysis dataset as CSV: {_EXPORT_RULE} (no arm columns)",
            openapi_extra=_file("The analysis dataset", "text/csv"))
def dataset_csv(request, study_id: Id):
    from .views_analysis import _csv_response

    study = _study(request, study_id)
    filename, header, rows = analysis_services.dataset_export(user=request.user, study=study)
    return _csv_response(rows, header, filename)


@router.get("/{study_id}/dictionary.csv", summary="The analysis dataset's data dictionary as CSV (same rule)",
            openapi_extra=_file("The data dictionary", "text/csv"))
def dictionary_csv(request, study_id: Id):
    from .views_analysis import _csv_response

    study = _study(request, study_id)
    filename, header, rows = analysis_services.dictionary_export(user=request.user, study=study)
    return _csv_response(rows, header, filename)


@router.get("/{study_id}/odm.xml", summary=f"The study as CDISC ODM 1.3.2 with its audit trail: {_EXPORT_RULE} "
                                          "(no allocation)",
            openapi_extra=_file("The ODM 1.3.2 document", "application/xml"))
def odm_xml(request, study_id: Id):
    from django.http import HttpResponse

    from .odm import odm_for

    export = odm_for(user=request.user, study=_study(request, study_id))
    response = HttpResponse(export.content, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
