"""Patients to screen, made through the patients app's services."""

from datetime import date

import pytest

# Every contraindication answered "no" and an indication: a clear candidate.
CLEAR_ANSWERS = {
    "pattern": "thinning", "target_area_bald": False, "active_scalp_infection": False, "scalp_inflammation": False,
    "cancer_under_treatment": False, "pregnant_or_breastfeeding": False, "bleeding_disorder": False,
    "anticoagulants": False, "autoimmune_disease": False, "keloid_tendency": False, "bmi": 24,
}


@pytest.fixture
def make_patient(coordinator):
    from anagen.patients.services import patient_register

    def _make(clinic=None, actor=None, **kw):
        kw.setdefault("first_name", "Priya")
        kw.setdefault("last_name", "Patel")
        kw.setdefault("date_of_birth", date(1985, 6, 1))
        kw.setdefault("sex", "female")
        return patient_register(actor=actor or coordinator, clinic=clinic or coordinator.clinics.get(), **kw)

    return _make


@pytest.fixture
def patient(make_patient):
    return make_patient()


@pytest.fixture
def patient_b(make_patient, coordinator_b, clinic_b):
    return make_patient(clinic=clinic_b, actor=coordinator_b, first_name="Sol", last_name="Hull", sex="male")


@pytest.fixture
def clear_answers():
    return dict(CLEAR_ANSWERS)
