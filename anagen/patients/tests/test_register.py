"""Registering patients: numbers, normalization, duplicates, bad input, roles."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from anagen.core.errors import ActionError
from anagen.patients.models import Patient
from anagen.patients.services import DuplicatePatient, patient_register, patient_update

from .factories import make_patient


def test_it_registers_with_a_patient_number_and_normalized_contact(coordinator, clinic):
    p = make_patient(coordinator, clinic, email=" Jane.Doe@Example.TEST ", phone="+44 7700 900 123")
    q = make_patient(coordinator, clinic, first_name="John", email="", phone="")
    assert p.patient_number == "AN-000001" and q.patient_number == "AN-000002"
    assert p.email == "jane.doe@example.test"
    assert p.phone == "+447700900123"
    assert p.created_by == coordinator


def test_it_refuses_empty_names(coordinator, clinic):
    with pytest.raises(ActionError, match="first name") as exc:
        patient_register(actor=coordinator, clinic=clinic, first_name="  ", last_name="Doe")
    assert exc.value.field == "first_name"
    assert not Patient.objects.exists()


def test_it_refuses_a_date_of_birth_in_the_future(coordinator, clinic):
    with pytest.raises(ActionError, match="in the future"):
        make_patient(coordinator, clinic, date_of_birth=date.today() + timedelta(days=1))
    assert not Patient.objects.exists()


def test_it_refuses_a_bad_email_and_a_bad_phone(coordinator, clinic):
    with pytest.raises(ActionError, match="not an e-mail"):
        make_patient(coordinator, clinic, email="jane@")
    with pytest.raises(ActionError, match="not a phone number"):
        make_patient(coordinator, clinic, phone="ring me")


def test_same_name_and_birthday_is_a_duplicate_naming_the_existing_record(coordinator, clinic):
    first = make_patient(coordinator, clinic)
    with pytest.raises(DuplicatePatient) as exc:
        make_patient(coordinator, clinic, first_name="JANE", email="other@example.test", phone="")
    assert exc.value.code == "duplicate"
    assert exc.value.existing == first
    assert first.patient_number in exc.value.message and "register anyway" in exc.value.message
    assert Patient.objects.count() == 1


@pytest.mark.parametrize("overrides, why", [
    ({"first_name": "Janet", "phone": ""}, "e-mail"),
    ({"first_name": "Janet", "email": "", "phone": "+44 7700 900 123"}, "phone"),
])
def test_same_email_or_phone_at_the_clinic_is_a_duplicate(coordinator, clinic, overrides, why):
    make_patient(coordinator, clinic)
    with pytest.raises(DuplicatePatient, match=why):
        make_patient(coordinator, clinic, date_of_birth=date(1990, 1, 1), **overrides)


def test_register_anyway_creates_a_second_record(coordinator, clinic):
    make_patient(coordinator, clinic)
    make_patient(coordinator, clinic, allow_duplicate=True)
    assert Patient.objects.count() == 2


def test_the_same_person_at_another_clinic_is_not_a_duplicate(coordinator, coordinator_b, clinic, clinic_b):
    make_patient(coordinator, clinic)
    make_patient(coordinator_b, clinic_b)
    assert Patient.objects.count() == 2


def test_only_front_desk_registers_and_only_at_their_clinics(clinician, coordinator, clinic_b, clinic):
    with pytest.raises(PermissionDenied):
        make_patient(clinician, clinic)
    with pytest.raises(PermissionDenied):
        make_patient(coordinator, clinic_b)


def test_coordinators_cannot_set_a_diagnosis(coordinator, clinician, clinic):
    with pytest.raises(PermissionDenied):
        make_patient(coordinator, clinic, diagnosis="male_aga")
    p = make_patient(coordinator, clinic)
    with pytest.raises(PermissionDenied):
        patient_update(actor=coordinator, patient=p, diagnosis="male_aga")
    p = patient_update(actor=clinician, patient=p, diagnosis="male_aga")
    assert p.get_diagnosis_display() == "Male pattern androgenetic alopecia"


def test_clinicians_cannot_edit_contact_details(clinician, coordinator, clinic):
    p = make_patient(coordinator, clinic)
    with pytest.raises(PermissionDenied):
        patient_update(actor=clinician, patient=p, phone="07700 900999")


def test_editing_contact_details_renormalizes_and_checks_duplicates(coordinator, clinic):
    a = make_patient(coordinator, clinic)
    b = make_patient(coordinator, clinic, first_name="Bob", email="bob@example.test", phone="")
    b = patient_update(actor=coordinator, patient=b, phone="07700 900 777", last_name="Smith")
    assert b.phone == "+447700900777" and "smith" in b.search_text
    with pytest.raises(DuplicatePatient, match=a.patient_number):
        patient_update(actor=coordinator, patient=b, email="jane.doe@example.test")
    b.refresh_from_db()
    assert b.email == "bob@example.test"


def test_patient_changes_are_in_the_audit_trail(coordinator, clinic):
    from anagen.audit.selectors import record_history

    p = make_patient(coordinator, clinic)
    patient_update(actor=coordinator, patient=p, address="2 New St")
    actions = [h.action for h in record_history(p)]
    assert actions == ["updated", "created"]
