"""The patient's appointments on the patient page, and booking from it."""

from django.test import RequestFactory

from anagen.patients.sections import sections_for


def _request(user):
    r = RequestFactory().get("/")
    r.user = user
    return r


def test_the_patient_page_lists_their_appointments(book, coordinator, patient):
    a = book("10:00")
    sections = [s for s in sections_for(_request(coordinator), patient) if "appointments" in s]
    assert len(sections) == 1
    assert list(sections[0]["appointments"]) == [a]
    assert f"patient={patient.pk}" in sections[0]["book_url"]


def test_roles_without_calendar_access_get_no_section(book, evaluator, coordinator_b, patient):
    book("10:00")
    for user in (evaluator, coordinator_b):
        assert not [s for s in sections_for(_request(user), patient) if "appointments" in s]


def test_the_booking_form_is_prefilled_and_searches_patients(login, coordinator, open_clinic, patient, make_patient):
    make_patient(open_clinic, first_name="Other", email="other@example.test")
    client = login(coordinator)
    body = client.get(f"/calendar/book/?clinic={open_clinic.pk}&patient={patient.pk}").content.decode()
    assert f'<option value="{patient.pk}" selected>' in body
    body = client.get(f"/calendar/book/?clinic={open_clinic.pk}&q=pat@example.test").content.decode()
    assert "Pat Patient" in body and "Other Patient" not in body
