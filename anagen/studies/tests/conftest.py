"""Study fixtures, set up through the services: a draft protocol, a signed-off (recruiting) one
with its team, and patients who meet the criteria and have consented to research.

The team of ``recruiting_study``: ``statistician`` (blinded study statistician), ``clinician``
(blinded investigator), ``evaluator`` (blinded evaluator), ``pharmacist`` (unblinded). Not on
it: ``clinician_b`` (another clinic), ``stranger``.
"""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from conftest import PASSWORD

_numbers = itertools.count(1)

CRITERIA = {
    "rules": [
        {"id": "aga", "description": "Androgenetic alopecia", "modalities": "all", "effect": "indication",
         "when": {"fact": "diagnosis", "op": "in", "value": ["male_aga", "female_aga"]}},
        {"id": "anticoagulants", "description": "Takes anticoagulants", "modalities": "all",
         "effect": "contraindication", "when": {"fact": "anticoagulants", "op": "true"}},
    ],
    "age_min_years": 18, "age_max_years": 65, "sexes": ["male", "female"],
}
ARMS = [{"code": "MG", "name": "Micrograft suspension", "is_placebo": False},
        {"code": "PL", "name": "Saline placebo", "is_placebo": True}]
CONSENT_VERSION = "research v2 2026-01"


@pytest.fixture
def draft_study(statistician, clinic):
    from anagen.studies.services import study_create

    return study_create(actor=statistician, title="Micrograft for male pattern hair loss", sites=[clinic], arms=ARMS,
                        registry_id="ISRCTN00000001", sponsor="Anagen Research", target_enrolment=30,
                        research_consent_version=CONSENT_VERSION, criteria=CRITERIA,
                        primary_endpoint="Change in target-area density at week 23",
                        secondary_endpoints=["Terminal density", "Adverse events"],
                        strata_factors=["site", "sex"])


def sign_off(study, statistician, clinician):
    from anagen.studies.services import protocol_sign

    protocol_sign(actor=statistician, study=study, password=PASSWORD, meaning="statistical_approval")
    protocol_sign(actor=clinician, study=study, password=PASSWORD, meaning="clinical_approval")
    study.refresh_from_db()
    return study


@pytest.fixture
def team(draft_study, statistician, clinician, evaluator, pharmacist):
    from anagen.studies.services import member_add

    member_add(actor=statistician, study=draft_study, user=clinician, role="investigator")
    member_add(actor=statistician, study=draft_study, user=evaluator, role="evaluator")
    member_add(actor=statistician, study=draft_study, user=pharmacist, role="unblinded_pharmacist")
    return draft_study


@pytest.fixture
def recruiting_study(team, statistician, clinician):
    return sign_off(team, statistician, clinician)


@pytest.fixture
def make_patient(db, clinician):
    """``make_patient(clinic, age=40, sex="male", consent=True, **extra)``: a patient with a record the criteria can read."""
    from anagen.patients.services import consent_record, medical_history_update, patient_register

    def _make(clinic, *, age=40, sex="male", diagnosis="male_aga", consent: bool | str = True, anticoagulants=False,
              **extra):
        n = next(_numbers)
        today = date.today()
        patient = patient_register(actor=_clinician_for(clinic), clinic=clinic, first_name=f"Pat{n}", last_name="Subject",
                                   date_of_birth=date(today.year - age, 1, 1), sex=sex, diagnosis=diagnosis,
                                   email=f"pat{n}@example.test", allow_duplicate=True, **extra)
        actor = _clinician_for(clinic)
        medical_history_update(actor=actor, patient=patient, anticoagulants=anticoagulants)
        if consent:
            consent_record(actor=actor, patient=patient, kind="research",
                           document_version=consent if isinstance(consent, str) else CONSENT_VERSION)
        return patient

    return _make


def _clinician_for(clinic):
    from anagen.accounts.models import User
    from anagen.accounts.services import staff_create

    email = f"records@{clinic.slug}.test"
    return User.objects.filter(email=email).first() or staff_create(
        email=email, password=None, roles=["coordinator", "clinician"], clinics=[clinic])


@pytest.fixture
def eligible_patient(clinic, make_patient):
    return make_patient(clinic)


@pytest.fixture
def subject(recruiting_study, clinician, eligible_patient):
    from anagen.studies.services import subject_enrol

    return subject_enrol(actor=clinician, study=recruiting_study, patient=eligible_patient)


@pytest.fixture
def unblinded_statistician(clinic):
    """An independent statistician: staff role statistician, study role unblinded_statistician."""
    from anagen.accounts.services import staff_create

    return staff_create(email="ustats@birmingham.test", password=PASSWORD, roles=["statistician"], clinics=[clinic],
                        first_name="Uma", last_name="Unblinded")


@pytest.fixture
def quality_team(recruiting_study, statistician, unblinded_statistician, coordinator):
    """``recruiting_study`` with an unblinded statistician and a (blinded) coordinator added."""
    from anagen.studies.services import member_add

    member_add(actor=statistician, study=recruiting_study, user=unblinded_statistician, role="unblinded_statistician")
    member_add(actor=statistician, study=recruiting_study, user=coordinator, role="coordinator")
    return recruiting_study


@pytest.fixture
def randomized_subject(quality_team, subject, clinician):
    from anagen.studies.randomization import subject_randomize

    subject_randomize(actor=clinician, subject=subject)
    subject.refresh_from_db()
    return subject
