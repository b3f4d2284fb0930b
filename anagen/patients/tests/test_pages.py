"""Patient pages: who sees what, search, registration with duplicates, the record page."""

from datetime import date

import pytest

from anagen.patients import services
from anagen.patients.models import Patient
from anagen.patients.sections import register, unregister

from .factories import make_patient


@pytest.fixture
def patient(coordinator, clinic):
    return make_patient(coordinator, clinic)


@pytest.mark.parametrize("persona", ["evaluator", "lab_scientist", "statistician", "stranger"])
def test_roles_without_patient_access_get_403(request, login, patient, persona):
    client = login(request.getfixturevalue(persona))
    assert client.get("/patients/").status_code == 403
    assert client.get(f"/patients/{patient.pk}/").status_code == 403


def test_anonymous_visitors_are_sent_to_login(client, patient):
    r = client.get(f"/patients/{patient.pk}/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_another_clinics_patient_is_404(login, coordinator_b, clinician_b, patient):
    assert login(coordinator_b).get(f"/patients/{patient.pk}/").status_code == 404
    assert login(clinician_b).get(f"/patients/{patient.pk}/edit/").status_code == 404


def test_list_shows_only_my_clinics_patients(login, coordinator, coordinator_b, clinic_b, patient):
    make_patient(coordinator_b, clinic_b, first_name="Solly", last_name="Hull", email="s@example.test", phone="")
    body = login(coordinator).get("/patients/").content.decode()
    assert "Doe, Jane" in body and "Hull" not in body


@pytest.mark.parametrize("q", ["jane", "DOE ja", "1985-04-12", "12/04/1985", "07700900123", "+44 7700 900 123",
                               "900123", "jane.doe@example.test", "AN-000001"])
def test_search_finds_by_name_birthday_phone_email_and_number(login, coordinator, patient, q):
    body = login(coordinator).get("/patients/", {"q": q}).content.decode()
    assert "Doe, Jane" in body


def test_search_says_when_nothing_matches(login, coordinator, patient):
    body = login(coordinator).get("/patients/", {"q": "zebedee"}).content.decode()
    assert "No patient matches" in body


def test_list_is_paginated(login, coordinator, clinic):
    for i in range(30):
        make_patient(coordinator, clinic, first_name=f"P{i:02d}", email="", phone="", date_of_birth=None)
    r = login(coordinator).get("/patients/", {"page": 2})
    assert "Page 2 of 2" in r.content.decode()


def test_coordinator_registers_a_patient(login, coordinator, clinic):
    r = login(coordinator).post("/patients/new/", {"clinic": clinic.pk, "first_name": "Ann", "last_name": "Lee",
                                                   "date_of_birth": "02/03/1990", "sex": "female",
                                                   "phone": "07700 900 555", "email": ""})
    p = Patient.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/patients/{p.pk}/"
    assert p.phone == "+447700900555" and p.date_of_birth == date(1990, 3, 2)


def test_registering_a_duplicate_shows_the_existing_record_and_a_register_anyway_box(login, coordinator, clinic, patient):
    data = {"clinic": clinic.pk, "first_name": "Jane", "last_name": "Doe", "date_of_birth": "1985-04-12",
            "sex": "unknown"}
    client = login(coordinator)
    r = client.post("/patients/new/", data)
    body = r.content.decode()
    assert r.status_code == 200 and patient.patient_number in body and "Register anyway" in body
    assert f"/patients/{patient.pk}/" in body
    assert Patient.objects.count() == 1
    r = client.post("/patients/new/", {**data, "allow_duplicate": "on"})
    assert r.status_code == 302 and Patient.objects.count() == 2


def test_a_future_birthday_is_refused_on_the_page(login, coordinator, clinic):
    r = login(coordinator).post("/patients/new/", {"clinic": clinic.pk, "first_name": "A", "last_name": "B",
                                                   "date_of_birth": "2999-01-01", "sex": "unknown"})
    assert "in the future" in r.content.decode() and not Patient.objects.exists()


def test_clinicians_cannot_register_or_edit_contacts(login, clinician, patient):
    client = login(clinician)
    assert client.get("/patients/new/").status_code == 403
    assert client.get(f"/patients/{patient.pk}/edit/").status_code == 403


def test_coordinators_cannot_open_clinical_forms(login, coordinator, patient):
    client = login(coordinator)
    for url in ("diagnosis", "staging/new", "medical-history"):
        assert client.get(f"/patients/{patient.pk}/{url}/").status_code == 403


def test_clinician_records_a_stage_and_it_shows_with_its_history(login, clinician, patient):
    client = login(clinician)
    r = client.post(f"/patients/{patient.pk}/staging/new/", {"scale": "ludwig", "stage": "II", "assessed_on": "2025-01-10"})
    assert r.status_code == 302
    body = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "Current Ludwig" in body and "Staging assessment" in body or "staging assessment" in body


def test_clinician_gets_a_clear_message_for_a_stage_not_on_the_scale(login, clinician, patient):
    r = login(clinician).post(f"/patients/{patient.pk}/staging/new/", {"scale": "ludwig", "stage": "VII",
                                                                       "assessed_on": "2025-01-10"})
    assert "not a Ludwig stage" in r.content.decode()


def test_consent_withdrawal_from_the_page(login, coordinator, patient):
    c = services.consent_record(actor=coordinator, patient=patient, kind="treatment", document_version="v1")
    client = login(coordinator)
    body = client.get(f"/patients/{patient.pk}/").content.decode()
    assert f"/consents/{c.pk}/withdraw/" in body
    r = client.post(f"/patients/{patient.pk}/consents/{c.pk}/withdraw/", {"reason": "by letter"})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.withdrawn_at and "withdrawn" in client.get(f"/patients/{patient.pk}/").content.decode()


def test_detail_page_shows_every_part_of_the_record_and_its_history(login, coordinator, clinician, patient):
    services.prior_treatment_add(actor=clinician, patient=patient, treatment="minoxidil", response="good")
    services.medical_history_update(actor=clinician, patient=patient, keloid_tendency=True)
    services.hair_loss_history_update(actor=clinician, patient=patient, onset_year=2012)
    body = login(clinician).get(f"/patients/{patient.pk}/").content.decode()
    for text in ("Demographics", "Consents", "Staging history", "Hair-loss history", "Medical history",
                 "Prior treatments", "Minoxidil", "2012", "Keloid tendency", "Appointments", "Book an appointment", "History", "created"):
        assert text in body, text


def test_sections_registered_by_other_apps_appear_and_can_hide(login, coordinator, patient, settings, tmp_path):
    def visible(request, patient):
        return {"template": "patients/_test_section.html", "word": "Sectioned"}

    def hidden(request, patient):
        return None

    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    (tmp_path / "patients").mkdir()
    (tmp_path / "patients" / "_test_section.html").write_text("<p>{{ section.word }} {{ patient.patient_number }}</p>")
    register(99, visible)
    register(98, hidden)
    try:
        body = login(coordinator).get(f"/patients/{patient.pk}/").content.decode()
    finally:
        unregister(visible)
        unregister(hidden)
    assert f"Sectioned {patient.patient_number}" in body
