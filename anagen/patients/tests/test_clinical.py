"""Consents, staging, histories and prior treatments."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from anagen.core.errors import ActionError, NotFound
from anagen.patients import selectors, services

from .factories import make_patient


@pytest.fixture
def patient(coordinator, clinic):
    return make_patient(coordinator, clinic)


def test_consent_is_recorded_with_version_time_and_recorder_and_can_be_withdrawn(coordinator, patient):
    c = services.consent_record(actor=coordinator, patient=patient, kind="photography", document_version="v2 2025-01")
    assert c.recorded_by == coordinator and c.given_at and c.is_active
    assert selectors.has_active_consent(patient, "photography")
    services.consent_withdraw(actor=coordinator, consent=c, reason="Patient asked by phone")
    c.refresh_from_db()
    assert c.withdrawn_by == coordinator and c.withdrawn_at and c.withdrawal_reason == "Patient asked by phone"
    assert not selectors.has_active_consent(patient, "photography")
    assert patient.consents.count() == 1  # withdrawal keeps the row


def test_withdrawal_needs_a_reason_and_happens_once(coordinator, patient):
    c = services.consent_record(actor=coordinator, patient=patient, kind="research", document_version="v1")
    with pytest.raises(ActionError, match="why"):
        services.consent_withdraw(actor=coordinator, consent=c, reason=" ")
    services.consent_withdraw(actor=coordinator, consent=c, reason="changed mind")
    with pytest.raises(ActionError, match="already withdrawn"):
        services.consent_withdraw(actor=coordinator, consent=c, reason="again")


def test_consent_needs_a_known_kind_and_a_version(coordinator, patient):
    with pytest.raises(ActionError, match="consent kind"):
        services.consent_record(actor=coordinator, patient=patient, kind="marketing", document_version="v1")
    with pytest.raises(ActionError, match="version"):
        services.consent_record(actor=coordinator, patient=patient, kind="treatment", document_version="")


def test_other_clinics_cannot_record_consents(coordinator_b, patient):
    with pytest.raises(NotFound):
        services.consent_record(actor=coordinator_b, patient=patient, kind="treatment", document_version="v1")


def test_only_clinicians_record_staging(clinician, coordinator, patient):
    with pytest.raises(PermissionDenied):
        services.staging_record(actor=coordinator, patient=patient, scale="norwood", stage="III", assessed_on=date.today())
    services.staging_record(actor=clinician, patient=patient, scale="norwood", stage="III", assessed_on=date(2024, 1, 5))
    services.staging_record(actor=clinician, patient=patient, scale="norwood", stage="III vertex", assessed_on=date(2025, 1, 5))
    assert selectors.current_staging(patient).stage == "III vertex"


@pytest.mark.parametrize("scale, stage, assessed_on, message", [
    ("ludwig", "IV", date(2024, 1, 1), "not a Ludwig stage"),
    ("sinclair", "6", date(2024, 1, 1), "not a Sinclair stage"),
    ("norwood", "II", date.today() + timedelta(days=3), "in the future"),
    ("norwood", "II", date(1980, 1, 1), "before the patient's date of birth"),
])
def test_bad_staging_is_refused(clinician, patient, scale, stage, assessed_on, message):
    with pytest.raises(ActionError, match=message):
        services.staging_record(actor=clinician, patient=patient, scale=scale, stage=stage, assessed_on=assessed_on)
    assert not patient.stagings.exists()


def test_only_clinicians_record_medical_history(clinician, coordinator, patient):
    with pytest.raises(PermissionDenied):
        services.medical_history_update(actor=coordinator, patient=patient, anticoagulants=True)
    h = services.medical_history_update(actor=clinician, patient=patient, anticoagulants=True, medications="warfarin")
    assert patient.medical_history == h and h.anticoagulants and h.updated_by == clinician


def test_hair_loss_history_and_prior_treatments(coordinator, patient):
    services.hair_loss_history_update(actor=coordinator, patient=patient, onset_year=2015, family_history=True,
                                      progression="slow recession")
    assert patient.hair_loss_history.onset_year == 2015
    with pytest.raises(ActionError, match="before the patient was born"):
        services.hair_loss_history_update(actor=coordinator, patient=patient, onset_year=1970)
    t = services.prior_treatment_add(actor=coordinator, patient=patient, treatment="finasteride",
                                     started_on=date(2019, 1, 1), stopped_on=date(2020, 6, 1), response="partial")
    assert str(t) == "Finasteride (partial response)"
    with pytest.raises(ActionError, match="before the start date"):
        services.prior_treatment_add(actor=coordinator, patient=patient, treatment="minoxidil",
                                     started_on=date(2020, 1, 1), stopped_on=date(2019, 1, 1))
    assert patient.prior_treatments.count() == 1
