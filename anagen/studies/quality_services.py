"""Data quality of a study (issue item 8): queries on a data point and source-data verification
flags, and split-scalp per-side values. Keyword-only, one transaction each, refused once the
database is locked (:func:`anagen.studies.lock.check_not_locked`).

Who does what:

- a query is raised by a study statistician (blinded or not) or a coordinator on the team;
- it is answered by an investigator or a coordinator (the site);
- it is closed by whoever raised it or a study statistician; a closed query stays;
- source-data verification flags are set and withdrawn by statisticians and coordinators;
- per-side values (split-scalp) are recorded by investigators and coordinators.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from anagen.core.errors import ActionError, Conflict, NotFound

from .lock import check_not_locked
from .models import (
    DataQuery,
    Design,
    QueryStatus,
    Side,
    SideMeasurement,
    SourceVerification,
    StudyRole,
    Subject,
    SubjectStatus,
)
from .services import _check_study_role, _text, member_role

RAISE_ROLES = (StudyRole.STATISTICIAN, StudyRole.UNBLINDED_STATISTICIAN, StudyRole.COORDINATOR)
ANSWER_ROLES = (StudyRole.INVESTIGATOR, StudyRole.COORDINATOR)
STATISTICIAN_ROLES = (StudyRole.STATISTICIAN, StudyRole.UNBLINDED_STATISTICIAN)
SDV_ROLES = (StudyRole.STATISTICIAN, StudyRole.UNBLINDED_STATISTICIAN, StudyRole.COORDINATOR)
SIDE_VALUE_ROLES = (StudyRole.INVESTIGATOR, StudyRole.COORDINATOR)


def _subject_in_study(actor, subject: Subject) -> Subject:
    subject = Subject.objects.select_related("study").get(pk=subject.pk)
    if subject.status == SubjectStatus.SCREEN_FAILED:
        raise ActionError(f"{subject.code} is a screen failure: it has no study data to query.", code="screen_failure")
    if not actor.can_see_clinic(subject.site_id):
        raise NotFound("No such subject at a clinic you work at.")
    return subject


def _visit_of(actor, subject: Subject, visit):
    """The subject's own assessment visit, held at a clinic the actor works at (a visit the patient
    made at another clinic of the group is not the actor's to record on)."""
    if visit is not None and visit.patient_id != subject.patient_id:
        raise ActionError("That assessment visit is not this subject's.", field="visit")
    if visit is not None and not actor.can_see_clinic(visit.clinic_id):
        raise NotFound("No such assessment visit at a clinic you work at.")
    return visit


def _data_point(value) -> str:
    return _text(value, "data_point", "data point (e.g. 'density_per_cm2 at week 12')", 120, required=True)


@transaction.atomic
def query_raise(*, actor, subject: Subject, data_point: str, question: str, visit=None) -> DataQuery:
    subject = _subject_in_study(actor, subject)
    _check_study_role(actor, subject.study, RAISE_ROLES, "raise a data query")
    check_not_locked(subject.study)
    return DataQuery.objects.create(
        study=subject.study, subject=subject, visit=_visit_of(actor, subject, visit), data_point=_data_point(data_point),
        question=_text(question, "question", "question", 2000, required=True), raised_by=actor,
        raised_at=timezone.now())


def _query_locked(query: DataQuery) -> DataQuery:
    return DataQuery.objects.select_for_update().select_related("study", "subject").get(pk=query.pk)


@transaction.atomic
def query_answer(*, actor, query: DataQuery, answer: str) -> DataQuery:
    query = _query_locked(query)
    _check_study_role(actor, query.study, ANSWER_ROLES, "answer a data query")
    _subject_in_study(actor, query.subject)
    check_not_locked(query.study)
    if query.status == QueryStatus.CLOSED:
        raise Conflict("This query is closed; raise a new one if the data point needs another question.",
                       code="query_closed")
    query.answer = _text(answer, "answer", "answer", 2000, required=True)
    query.status, query.answered_by, query.answered_at = QueryStatus.ANSWERED, actor, timezone.now()
    query.save()
    return query


@transaction.atomic
def query_close(*, actor, query: DataQuery, note: str = "") -> DataQuery:
    query = _query_locked(query)
    role = member_role(actor, query.study)
    if role is None:
        raise NotFound("No such study, or you are not on its team.")
    if query.raised_by_id != actor.pk and role not in STATISTICIAN_ROLES:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Only whoever raised the query or a study statistician closes it.")
    check_not_locked(query.study)
    if query.status == QueryStatus.CLOSED:
        raise Conflict("This query is already closed.", code="query_closed")
    if query.status == QueryStatus.OPEN and not (note or "").strip():
        raise ActionError("The query has no answer yet: say why it is closed without one.", field="note")
    query.close_note = _text(note, "note", "note", 2000)
    query.status, query.closed_by, query.closed_at = QueryStatus.CLOSED, actor, timezone.now()
    query.save()
    return query


@transaction.atomic
def sdv_flag(*, actor, subject: Subject, data_point: str, note: str = "") -> SourceVerification:
    """Flag a data point as verified against the source record."""
    subject = _subject_in_study(actor, subject)
    _check_study_role(actor, subject.study, SDV_ROLES, "verify source data")
    check_not_locked(subject.study)
    point = _data_point(data_point)
    if SourceVerification.objects.filter(subject=subject, data_point=point).exists():
        raise Conflict(f"{point} of {subject.code} is already verified.", code="already_verified")
    return SourceVerification.objects.create(
        study=subject.study, subject=subject, data_point=point, note=_text(note, "note", "note", 2000),
        verified_by=actor, verified_at=timezone.now())


@transaction.atomic
def sdv_withdraw(*, actor, verification: SourceVerification) -> None:
    """Withdraw a verification flag (the data changed after it was verified, say); audited."""
    v = SourceVerification.objects.select_related("study").get(pk=verification.pk)
    _check_study_role(actor, v.study, SDV_ROLES, "verify source data")
    check_not_locked(v.study)
    v.delete()


def _check_side_image(subject: Subject, visit, image) -> None:
    """The half's photograph must be the subject's own target-area image of this visit, not voided."""
    again = f"choose one of {subject.code}'s target-area images of this visit, or none"
    if image.visit.patient_id != subject.patient_id:
        raise ActionError(f"That photograph is another patient's: {again}.", code="wrong_image", field="image")
    if image.visit_id != visit.pk:
        raise ActionError(f"That photograph was taken at another visit: {again}.", code="wrong_image",
                          field="image")
    if image.kind != "target":
        raise ActionError(f"That photograph is not a target-area image: {again}.", code="wrong_image",
                          field="image")
    if image.voided_at is not None:
        raise ActionError(f"That photograph was voided: {again}.", code="wrong_image", field="image")


@transaction.atomic
def side_value_record(*, actor, subject: Subject, visit, side: str, density_per_cm2, image=None) -> SideMeasurement:
    """Record (or correct) the target-area density of one scalp half at an assessment visit.

    ``image``: the half's target-area photograph at that visit the value was counted from; once
    it is coded and its blinded reading is final, the analysis takes the reading's count."""
    subject = _subject_in_study(actor, subject)
    _check_study_role(actor, subject.study, SIDE_VALUE_ROLES, "record per-side values")
    check_not_locked(subject.study)
    if subject.study.design != Design.SPLIT_SCALP:
        raise ActionError("Per-side values belong to split-scalp studies.", code="not_split_scalp")
    _visit_of(actor, subject, visit)
    if side not in Side.values:
        raise ActionError("Choose the left or the right side.", field="side")
    try:
        value = float(density_per_cm2)
    except (TypeError, ValueError):
        raise ActionError("Give the density as a number of hairs per cm².", field="density_per_cm2") from None
    if not 0 <= value <= 1000:
        raise ActionError("A density is between 0 and 1000 hairs per cm².", field="density_per_cm2")
    if image is not None:
        _check_side_image(subject, visit, image)
    row, _ = SideMeasurement.objects.update_or_create(
        subject=subject, visit=visit, side=side,
        defaults={"density_per_cm2": value, "recorded_by": actor, "recorded_at": timezone.now(),
                  "source_image": image})
    return row
