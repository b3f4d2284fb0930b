"""Data queries, source-data verification and the database lock (issue item 8)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from anagen.core.errors import ActionError, Conflict
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _lock(study, who):
    from anagen.studies.lock import study_lock

    return study_lock(actor=who, study=study, password=PASSWORD)


# --- queries -------------------------------------------------------------------------------


def test_query_lifecycle_raised_answered_closed(randomized_subject, statistician, clinician):
    from anagen.studies import quality_services as q

    query = q.query_raise(actor=statistician, subject=randomized_subject, data_point="density_per_cm2 at week 12",
                          question="The value is twice the baseline: please check the image.")
    assert query.status == "open" and query.raised_by == statistician
    query = q.query_answer(actor=clinician, query=query, answer="Checked: the field was recalibrated; value correct.")
    assert query.status == "answered" and query.answered_by == clinician and query.answered_at
    query = q.query_close(actor=statistician, query=query)
    assert query.status == "closed" and query.closed_by == clinician.__class__.objects.get(pk=statistician.pk)
    with pytest.raises(Conflict, match="closed"):
        q.query_answer(actor=clinician, query=query, answer="again")
    with pytest.raises(Conflict, match="already closed"):
        q.query_close(actor=statistician, query=query)


def test_query_roles(randomized_subject, statistician, clinician, evaluator, coordinator):
    from anagen.studies import quality_services as q

    with pytest.raises(PermissionDenied):
        q.query_raise(actor=evaluator, subject=randomized_subject, data_point="x", question="y")
    with pytest.raises(PermissionDenied):
        q.query_raise(actor=clinician, subject=randomized_subject, data_point="x", question="y")
    query = q.query_raise(actor=coordinator, subject=randomized_subject, data_point="sex", question="Recorded as M?")
    with pytest.raises(PermissionDenied):
        q.query_answer(actor=statistician, query=query, answer="yes")
    with pytest.raises(PermissionDenied):
        q.query_close(actor=clinician, query=query, note="n/a")
    with pytest.raises(ActionError, match="no answer yet"):
        q.query_close(actor=coordinator, query=query)
    assert q.query_close(actor=coordinator, query=query, note="Raised in error.").status == "closed"
    with pytest.raises(ActionError):
        q.query_raise(actor=statistician, subject=randomized_subject, data_point="  ", question="y")


def test_sdv_flag_once_and_withdraw(randomized_subject, statistician, clinician):
    from anagen.studies import quality_services as q
    from anagen.studies.models import SourceVerification

    v = q.sdv_flag(actor=statistician, subject=randomized_subject, data_point="baseline density_per_cm2")
    assert v.verified_by == statistician and v.verified_at
    with pytest.raises(Conflict, match="already verified"):
        q.sdv_flag(actor=statistician, subject=randomized_subject, data_point="baseline density_per_cm2")
    with pytest.raises(PermissionDenied):
        q.sdv_flag(actor=clinician, subject=randomized_subject, data_point="sex")
    q.sdv_withdraw(actor=statistician, verification=v)
    assert not SourceVerification.objects.exists()


# --- lock ----------------------------------------------------------------------------------


def test_lock_needs_password_role_and_closed_queries(randomized_subject, statistician, clinician):
    from anagen.studies import quality_services as q
    from anagen.studies.lock import is_locked, study_lock

    study = randomized_subject.study
    with pytest.raises(ActionError, match="password"):
        study_lock(actor=statistician, study=study, password="wrong")
    with pytest.raises(PermissionDenied):
        study_lock(actor=clinician, study=study, password=PASSWORD)
    query = q.query_raise(actor=statistician, subject=randomized_subject, data_point="x", question="Why?")
    with pytest.raises(Conflict, match="1 data query is not closed"):
        _lock(study, statistician)
    q.query_close(actor=statistician, query=query, note="Withdrawn.")
    event = _lock(study, statistician)
    assert event.action == "lock" and is_locked(study)
    with pytest.raises(Conflict, match="already locked"):
        _lock(study, statistician)


def test_lock_refuses_every_study_change(randomized_subject, statistician, clinician, coordinator, make_patient,
                                         clinic):
    from anagen.assessments.services import visit_create
    from anagen.studies import quality_services as q
    from anagen.studies import services
    from anagen.studies.lock import StudyLocked
    from anagen.studies.randomization import allocation_correct, subject_randomize

    study = randomized_subject.study
    other = services.subject_enrol(actor=clinician, study=study, patient=make_patient(clinic))
    _lock(study, statistician)
    late = make_patient(clinic)
    attempts = {
        "enrol": lambda: services.subject_enrol(actor=clinician, study=study, patient=late),
        "screen failure": lambda: services.subject_screen_fail(actor=clinician, study=study, patient=late,
                                                               reason="Declined"),
        "randomize": lambda: subject_randomize(actor=clinician, subject=other),
        "end": lambda: services.subject_end(actor=clinician, subject=randomized_subject, status="withdrawn",
                                            on=date.today(), reason="Moved away"),
        "code-break": lambda: services.code_break(actor=clinician, subject=randomized_subject,
                                                  reason="Severe reaction needing the product name."),
        "correction": lambda: allocation_correct(actor=statistician, allocation=randomized_subject.allocation,
                                                 decision="Analyse as randomized", reason="Wrong stratum"),
        "query": lambda: q.query_raise(actor=statistician, subject=randomized_subject, data_point="x", question="y"),
        "sdv": lambda: q.sdv_flag(actor=statistician, subject=randomized_subject, data_point="x"),
        "visit": lambda: visit_create(actor=clinician, patient=randomized_subject.patient, visit_date=date.today()),
    }
    for what, attempt in attempts.items():
        with pytest.raises(StudyLocked, match="locked on .* cannot change") as info:
            attempt()
        assert info.value.status == 409 and info.value.code == "locked", what


def test_unlock_needs_reason_is_recorded_and_audited(randomized_subject, statistician, clinician):
    from auditlog.models import LogEntry

    from anagen.assessments.services import visit_create
    from anagen.studies.lock import is_locked, study_unlock
    from anagen.studies.models import LockEvent

    study = randomized_subject.study
    _lock(study, statistician)
    with pytest.raises(ActionError, match="Say why"):
        study_unlock(actor=statistician, study=study, password=PASSWORD, reason="")
    with pytest.raises(ActionError, match="password"):
        study_unlock(actor=statistician, study=study, password="nope", reason="A week-12 value was mis-keyed.")
    event = study_unlock(actor=statistician, study=study, password=PASSWORD, reason="A week-12 value was mis-keyed.")
    assert not is_locked(study)
    assert event.reason == "A week-12 value was mis-keyed." and event.by == statistician
    assert [e.action for e in LockEvent.objects.filter(study=study).order_by("at", "id")] == ["lock", "unlock"]
    entry = LogEntry.objects.get_for_object(event).get()
    assert "mis-keyed" in str(entry.changes)  # the audit trail keeps the reason (the actor is set per request)
    # unlocked: the site can change the data again
    assert visit_create(actor=clinician, patient=randomized_subject.patient, visit_date=date.today())


def test_lock_does_not_touch_other_patients_or_care_after_the_lock(randomized_subject, statistician, clinician,
                                                                      make_patient, clinic):
    from anagen.assessments.services import visit_create
    from anagen.studies.lock import check_patient_not_locked
    from anagen.studies.models import LockEvent
    from django.utils import timezone
    from datetime import timedelta

    _lock(randomized_subject.study, statistician)
    assert visit_create(actor=clinician, patient=make_patient(clinic), visit_date=date.today())
    LockEvent.objects.update(at=timezone.now() - timedelta(days=3))
    check_patient_not_locked(randomized_subject.patient_id, date.today())  # after the lock: routine care
