"""Facts come from the patient record, overlaid with the questionnaire."""

from datetime import date

import pytest

from anagen.core.errors import ActionError
from anagen.screening.facts import build_facts, clean_answers, initial_answers, record_facts


def test_the_record_gives_sex_age_and_diagnosis(patient, clinician):
    from anagen.patients.services import patient_update

    patient_update(actor=clinician, patient=patient, diagnosis="female_aga")
    patient.refresh_from_db()
    facts = record_facts(patient, today=date(2025, 5, 31))
    assert facts["sex"] == "female"
    assert facts["age"] == 39  # the day before the 40th birthday
    assert facts["diagnosis"] == "female_aga"


def test_unstated_sex_and_missing_birth_date_are_unknown(make_patient):
    p = make_patient(sex="unknown", date_of_birth=None, email="x@example.test")
    facts = record_facts(p)
    assert facts["sex"] is None and facts["age"] is None


def test_the_latest_stage_on_each_scale_is_used(patient, clinician):
    from anagen.patients.services import staging_record

    staging_record(actor=clinician, patient=patient, scale="ludwig", stage="I", assessed_on=date(2024, 1, 1))
    staging_record(actor=clinician, patient=patient, scale="ludwig", stage="II", assessed_on=date(2025, 1, 1))
    staging_record(actor=clinician, patient=patient, scale="sinclair", stage="3", assessed_on=date(2024, 6, 1))
    facts = record_facts(patient)
    assert facts["ludwig_stage"] == "II"
    assert facts["sinclair_stage"] == "3"
    assert facts["norwood_stage"] is None


def test_without_a_medical_history_the_contraindications_are_unknown(patient):
    facts = record_facts(patient)
    assert facts["anticoagulants"] is None and facts["pregnant_or_breastfeeding"] is None
    assert initial_answers(patient)["anticoagulants"] is None


def test_the_medical_history_prefills_and_backs_unanswered_flags(patient):
    from anagen.patients.models import MedicalHistory

    MedicalHistory.objects.create(patient=patient, anticoagulants=True)
    assert initial_answers(patient)["anticoagulants"] is True
    assert initial_answers(patient)["bleeding_disorder"] is False
    facts = build_facts(patient, {"anticoagulants": None})
    assert facts["anticoagulants"] is True
    # The clinician's answer wins: the prescriber agreed to pause them.
    facts = build_facts(patient, {"anticoagulants": False})
    assert facts["anticoagulants"] is False


def test_prior_treatments_become_facts(patient):
    from anagen.patients.models import PriorTreatment

    PriorTreatment.objects.create(patient=patient, treatment="transplant")
    PriorTreatment.objects.create(patient=patient, treatment="finasteride")
    facts = record_facts(patient)
    assert facts["prior_transplant"] is True and facts["prior_antiandrogen"] is True
    assert facts["prior_prp"] is False


@pytest.mark.parametrize("answers, message", [
    ({"colour": "red"}, "Unknown answer 'colour'"),
    ({"anticoagulants": "maybe"}, "Answer 'anticoagulants' with true, false, or null"),
    ({"pattern": "patchy"}, "'patchy' is not a pattern"),
    ({"bmi": "tall"}, "Answer 'bmi' with a number"),
    ({"bmi": 300}, "is not plausible"),
    (["pattern"], "Send the answers as an object"),
])
def test_bad_answers_are_refused_with_a_message(answers, message):
    with pytest.raises(ActionError, match=message):
        clean_answers(answers)


def test_good_answers_are_cleaned():
    assert clean_answers({"bmi": "23.44", "pattern": "receding", "anticoagulants": None, "bleeding_disorder": False}) == {
        "bmi": 23.4, "pattern": "receding", "anticoagulants": None, "bleeding_disorder": False}
