"""Enrolment from a patient's record: eligibility (reasons as in screening), an active research
consent of the study's version, then enrol. Refusals write nothing; screen failures are kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from anagen.core.errors import ActionError, Conflict, NotFound
from anagen.studies import services
from anagen.studies.models import Subject

pytestmark = pytest.mark.django_db


def test_an_eligible_consented_patient_is_enrolled_with_the_protocol_version_and_factors(subject, recruiting_study,
                                                                                         eligible_patient):
    assert subject.code == "S-001" and subject.status == "enrolled"
    assert subject.protocol_version.number == 1
    assert subject.eligibility == {"decision": "eligible", "reasons": []}
    assert subject.consent.document_version == "research v2 2026-01"
    assert subject.factors == {"site": "birmingham", "sex": "male", "stage_group": "unknown"}


def test_an_ineligible_patient_is_refused_with_the_reasons_and_nothing_is_written(recruiting_study, clinician,
                                                                                   clinic, make_patient):
    patient = make_patient(clinic, age=70, anticoagulants=True)
    with pytest.raises(ActionError) as exc:
        services.subject_enrol(actor=clinician, study=recruiting_study, patient=patient)
    assert exc.value.code == "ineligible"
    assert "Age 70 is outside the study's 18 to 65 years" in exc.value.message
    assert "Exclusion met: Takes anticoagulants" in exc.value.message
    assert not Subject.objects.exists()


def test_a_screen_failure_is_kept_with_its_reasons(recruiting_study, clinician, clinic, make_patient):
    patient = make_patient(clinic, age=70)
    failure = services.subject_screen_fail(actor=clinician, study=recruiting_study, patient=patient)
    assert failure.status == "screen_failed" and failure.code == "F-001"
    assert "Age 70" in failure.screen_failure_reason
    assert failure.eligibility["decision"] == "ineligible"


def test_enrolment_needs_an_active_research_consent_of_the_studys_version(recruiting_study, clinician, clinic,
                                                                          make_patient):
    from anagen.patients.services import consent_withdraw

    none = make_patient(clinic, consent=False)
    other_version = make_patient(clinic, consent="research v1 2025-01")
    withdrawn = make_patient(clinic)
    consent_withdraw(actor=clinician, consent=withdrawn.consents.get(), reason="Patient asked by phone.")
    for patient in (none, other_version, withdrawn):
        with pytest.raises(ActionError, match="No active research consent \\(research v2 2026-01\\)") as exc:
            services.subject_enrol(actor=clinician, study=recruiting_study, patient=patient)
        assert exc.value.code == "no_consent"
    assert not Subject.objects.exists()


def test_points_to_confirm_need_the_investigators_confirmation(recruiting_study, clinician, clinic, make_patient):
    patient = make_patient(clinic)
    patient.medical_history.delete()  # anticoagulant use not recorded
    patient = type(patient).objects.get(pk=patient.pk)
    with pytest.raises(ActionError, match="Confirm these points") as exc:
        services.subject_enrol(actor=clinician, study=recruiting_study, patient=patient)
    assert exc.value.code == "needs_review"
    subject = services.subject_enrol(actor=clinician, study=recruiting_study, patient=patient, confirm_review=True)
    assert subject.eligibility["decision"] == "review"


def test_no_enrolment_before_sign_off_nor_twice(draft_study, team, recruiting_study, clinician, subject,
                                               eligible_patient):
    with pytest.raises(Conflict, match="already enrolled"):
        services.subject_enrol(actor=clinician, study=recruiting_study, patient=eligible_patient)


def test_a_draft_study_does_not_recruit(team, clinician, eligible_patient):
    with pytest.raises(Conflict, match="not recruiting"):
        services.subject_enrol(actor=clinician, study=team, patient=eligible_patient)


def test_only_investigators_enrol_and_only_their_clinics_patients(recruiting_study, evaluator, pharmacist,
                                                                  clinician_b, clinician, clinic_b, make_patient,
                                                                  eligible_patient):
    for person in (evaluator, pharmacist):
        with pytest.raises(PermissionDenied):
            services.subject_enrol(actor=person, study=recruiting_study, patient=eligible_patient)
    with pytest.raises(NotFound):
        services.subject_enrol(actor=clinician_b, study=recruiting_study, patient=eligible_patient)
    elsewhere = make_patient(clinic_b)
    with pytest.raises(NotFound):
        services.subject_enrol(actor=clinician, study=recruiting_study, patient=elsewhere)


def test_withdrawal_and_loss_to_follow_up_are_recorded_with_date_and_reason(recruiting_study, clinician, subject):
    today = timezone.localdate()
    with pytest.raises(ActionError, match="reason"):
        services.subject_end(actor=clinician, subject=subject, status="withdrawn", on=today, reason="")
    with pytest.raises(ActionError, match="today or earlier"):
        services.subject_end(actor=clinician, subject=subject, status="withdrawn", on=today + timedelta(days=1),
                             reason="Moved away")
    ended = services.subject_end(actor=clinician, subject=subject, status="withdrawn", on=today,
                                 reason="Moved abroad for work")
    assert (ended.status, ended.ended_on, ended.end_reason) == ("withdrawn", today, "Moved abroad for work")
    with pytest.raises(Conflict):
        services.subject_end(actor=clinician, subject=ended, status="lost_to_follow_up", on=today, reason="x")


def test_an_enrolled_patient_cannot_also_be_recorded_as_a_screen_failure(recruiting_study, clinician, subject,
                                                                         eligible_patient):
    with pytest.raises(Conflict, match="already enrolled"):
        services.subject_screen_fail(actor=clinician, study=recruiting_study, patient=eligible_patient,
                                     reason="Declined")
    assert Subject.objects.count() == 1


def test_closing_recruitment_stops_enrolment_and_is_recorded(recruiting_study, clinician, evaluator, clinic,
                                                             make_patient, eligible_patient, login):
    from auditlog.models import LogEntry

    from anagen.studies.models import StudyMember, StudyRole

    page = login(clinician).get(f"/studies/{recruiting_study.pk}/").content.decode()
    assert "Close recruitment" in page
    if StudyMember.objects.filter(study=recruiting_study, user=evaluator).exists():
        assert "Close recruitment" not in login(evaluator).get(f"/studies/{recruiting_study.pk}/").content.decode()
        with pytest.raises(PermissionDenied):
            services.recruitment_close(actor=evaluator, study=recruiting_study)
    assert StudyMember.objects.get(study=recruiting_study, user=clinician).role == StudyRole.INVESTIGATOR

    r = login(clinician).post(f"/studies/{recruiting_study.pk}/close-recruitment")
    assert r.status_code == 302
    recruiting_study.refresh_from_db()
    assert recruiting_study.status == "closed"
    entry = LogEntry.objects.get_for_object(recruiting_study).filter(changes__icontains="closed").get()
    assert entry.actor == clinician
    with pytest.raises(Conflict, match="closed to recruitment"):
        services.subject_enrol(actor=clinician, study=recruiting_study, patient=eligible_patient)
    with pytest.raises(Conflict, match="nothing to close"):
        services.recruitment_close(actor=clinician, study=recruiting_study)
