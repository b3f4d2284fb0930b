"""Treatment fixtures built through the real services: patients, consents, screenings, stock."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from anagen.treatments import services
from anagen.treatments.models import Modality


@pytest.fixture
def patient(clinic, coordinator):
    from anagen.patients.services import patient_register

    return patient_register(actor=coordinator, clinic=clinic, first_name="Oliver", last_name="Hartley",
                            date_of_birth=date(1985, 3, 14), email="oliver@example.test")


@pytest.fixture
def other_patient(clinic, coordinator):
    from anagen.patients.services import patient_register

    return patient_register(actor=coordinator, clinic=clinic, first_name="Nadia", last_name="Okafor",
                            date_of_birth=date(1979, 8, 2))


@pytest.fixture
def patient_b(clinic_b, coordinator_b):
    from anagen.patients.services import patient_register

    return patient_register(actor=coordinator_b, clinic=clinic_b, first_name="Bea", last_name="Solihull")


def give_consent(patient, actor, kind="treatment"):
    from anagen.patients.services import consent_record

    return consent_record(actor=actor, patient=patient, kind=kind, document_version="v1 2025")


def screen(patient, actor, modality: str, decision: str = "candidate"):
    """A screening decision for one modality, stored as the screening app stores it."""
    from anagen.screening.models import RuleSet, Screening

    rule_set = RuleSet.objects.filter(is_active=True).first() or RuleSet.objects.create(version=999, rules=[],
                                                                                         is_active=True)
    return Screening.objects.create(patient=patient, modality=modality, decision=decision, reasons=[], facts={},
                                    rule_set=rule_set, performed_by=actor)


@pytest.fixture
def consented(patient, clinician):
    give_consent(patient, clinician)
    return patient


def modality(code: str) -> Modality:
    return Modality.objects.get(code=code)


@pytest.fixture
def prp_plan(consented, clinician):
    screen(consented, clinician, "prp")
    return services.plan_create(actor=clinician, patient=consented, modalities=[modality("prp")],
                                start_on=timezone.localdate() + timedelta(days=7))


@pytest.fixture
def exosome(clinician):
    return services.product_create(actor=clinician, name="ExoRenew 10B", manufacturer="Regen Labs", kind="exosome",
                                   unit="vial")


@pytest.fixture
def lot(exosome, clinician, clinic):
    return services.lot_receive(actor=clinician, product=exosome, clinic=clinic, lot_number="EXR-2405",
                                expires_on=timezone.localdate() + timedelta(days=200), quantity=Decimal("3"))


@pytest.fixture
def released_sample(consented, clinician, lab_scientist):
    s = services.sample_harvest(actor=clinician, patient=consented, kind="biopsy", biopsy_count=3,
                                biopsy_diameter_mm="2")
    services.custody_record(actor=lab_scientist, sample=s, step="received")
    services.custody_record(actor=lab_scientist, sample=s, step="processed",
                            details={"processing_method": "mechanical disaggregation in saline"})
    services.custody_record(actor=lab_scientist, sample=s, step="qc_passed",
                            details={"cell_count": 250000, "viability_pct": 91.5})
    services.custody_record(actor=lab_scientist, sample=s, step="released")
    s.refresh_from_db()
    return s
