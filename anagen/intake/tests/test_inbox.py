"""The coordinators' inbox: scoping, answer, close, convert in one step."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from anagen.intake import services
from anagen.intake.models import Inquiry, InquiryStatus
from anagen.patients.models import Patient
from anagen.patients.tests.factories import make_patient
from anagen.scheduling.models import Appointment


def _inquiry(clinic=None, **over):
    data = dict(kind="consultation", name="Jane Doe", email="jane@example.test", phone="07700 900123",
                concern="Thinning at the crown", preferred_clinic=clinic, prefers_video=clinic is None,
                preferred_times="mornings", consent_to_contact=True, client="test")
    data.update(over)
    return services.inquiry_submit(**data)


@pytest.fixture
def hours(coordinator, clinician, clinic):
    from anagen.scheduling.services import availability_add

    for day in range(7):
        availability_add(actor=coordinator, clinician=clinician, clinic=clinic, weekday=day, start_time=time(8),
                         end_time=time(20), valid_from=date.today() - timedelta(days=1),
                         room=clinic.rooms.get(name="Consulting 1"))


def _slot(days=3, hour=10):
    return datetime.combine(date.today() + timedelta(days=days), time(hour))


def test_inbox_shows_my_clinics_and_unassigned_inquiries_only(login, coordinator, clinic, clinic_b):
    _inquiry(clinic, name="Birmingham Person")
    _inquiry(None, name="Video Person")
    _inquiry(clinic_b, name="Solihull Person")
    body = login(coordinator).get("/inbox/").content.decode()
    assert "Birmingham Person" in body and "Video Person" in body and "Solihull Person" not in body


@pytest.mark.parametrize("persona", ["clinician", "evaluator", "lab_scientist", "statistician", "stranger"])
def test_only_front_desk_sees_the_inbox(request, login, api_client, persona, clinic):
    user = request.getfixturevalue(persona)
    i = _inquiry(clinic)
    assert login(user).get("/inbox/").status_code == 403
    assert login(user).get(f"/inbox/{i.pk}/").status_code == 403
    assert api_client(user).get("/api/v1/inquiries").status_code == 403


def test_another_clinics_inquiry_is_404(login, api_client, coordinator_b, clinic):
    i = _inquiry(clinic)
    assert login(coordinator_b).get(f"/inbox/{i.pk}/").status_code == 404
    assert api_client(coordinator_b).get(f"/api/v1/inquiries/{i.pk}").status_code == 404


def test_answer_is_emailed_and_recorded(login, coordinator, clinic):
    i = _inquiry(clinic)
    r = login(coordinator).post(f"/inbox/{i.pk}/answer/", {"answer": "Yes, PRP may suit you."})
    assert r.status_code == 302
    i.refresh_from_db()
    assert i.status == InquiryStatus.ANSWERED and i.answered_by == coordinator and i.answer_emailed
    assert mail.outbox[0].to == ["jane@example.test"] and "PRP may suit you" in mail.outbox[0].body


def test_answer_without_email_is_saved_and_not_sent(coordinator, clinic):
    i = _inquiry(clinic, email="")
    i = services.inquiry_answer(actor=coordinator, inquiry=i, answer="We will phone you.")
    assert i.status == InquiryStatus.ANSWERED and not i.answer_emailed and not mail.outbox


def test_an_empty_answer_is_refused(login, coordinator, clinic):
    i = _inquiry(clinic)
    r = login(coordinator).post(f"/inbox/{i.pk}/answer/", {"answer": ""})
    assert r.status_code == 400
    i.refresh_from_db()
    assert i.status == InquiryStatus.NEW


def test_close_then_no_more_actions(login, coordinator, clinic):
    i = _inquiry(clinic)
    assert login(coordinator).post(f"/inbox/{i.pk}/close/", {"reason": "spam"}).status_code == 302
    i.refresh_from_db()
    assert i.status == InquiryStatus.CLOSED and i.closed_by == coordinator
    with pytest.raises(services.ActionError, match="already closed"):
        services.inquiry_answer(actor=coordinator, inquiry=i, answer="late")


def test_convert_registers_and_books_in_one_step(login, coordinator, clinician, clinic, hours):
    i = _inquiry(clinic)
    when = _slot()
    r = login(coordinator).post(f"/inbox/{i.pk}/convert/", {
        "first_name": "Jane", "last_name": "Doe", "date_of_birth": "1985-04-12", "clinic": clinic.pk,
        "clinician": clinician.pk, "starts_at": when.strftime("%Y-%m-%dT%H:%M"), "mode": "in_person"})
    assert r.status_code == 302, r.content.decode()[:2000]
    i.refresh_from_db()
    p = Patient.objects.get()
    a = Appointment.objects.get()
    assert i.status == InquiryStatus.CONVERTED and i.converted_patient == p and i.converted_appointment == a
    assert p.phone == "+447700900123" and p.email == "jane@example.test"
    assert a.kind == "free_consultation" and a.clinician == clinician
    assert timezone.localtime(a.starts_at, clinic.tz).replace(tzinfo=None) == when
    assert p.consents.get().kind == "contact"


def test_a_double_booking_writes_nothing_and_says_why(login, coordinator, clinician, clinic, hours):
    from anagen.scheduling.services import appointment_book

    other = make_patient(coordinator, clinic, first_name="Other", email="o@example.test", phone="")
    when = _slot()
    appointment_book(actor=coordinator, patient=other, clinician=clinician, clinic=clinic,
                     kind="free_consultation", starts_at=when)
    i = _inquiry(clinic)
    r = login(coordinator).post(f"/inbox/{i.pk}/convert/", {
        "first_name": "Jane", "last_name": "Doe", "clinic": clinic.pk, "clinician": clinician.pk,
        "starts_at": when.strftime("%Y-%m-%dT%H:%M"), "mode": "in_person"})
    assert r.status_code == 400 and "already booked" in r.content.decode()
    i.refresh_from_db()
    assert i.status == InquiryStatus.NEW
    assert Patient.objects.count() == 1 and Appointment.objects.count() == 1


def test_convert_offers_the_existing_patient_on_a_duplicate(login, coordinator, clinician, clinic, hours):
    existing = make_patient(coordinator, clinic)  # same e-mail and phone as the inquiry
    i = _inquiry(clinic)
    data = {"first_name": "Jane", "last_name": "Doe", "clinic": clinic.pk, "clinician": clinician.pk,
            "starts_at": _slot().strftime("%Y-%m-%dT%H:%M"), "mode": "video"}
    client = login(coordinator)
    r = client.post(f"/inbox/{i.pk}/convert/", data)
    body = r.content.decode()
    assert existing.patient_number in body and "Same person: book for the existing patient record" in body
    assert 'type="radio" name="duplicate_choice"' in body
    assert not Appointment.objects.exists()
    r = client.post(f"/inbox/{i.pk}/convert/", {**data, "duplicate_choice": "existing",
                                                 "existing_patient_id": existing.pk}, follow=True)
    a = Appointment.objects.get()
    assert a.patient == existing and a.kind == "video_consultation" and a.room is None
    assert Patient.objects.count() == 1
    said = [str(m) for m in r.context["messages"]]
    assert said == [f"Booked the existing patient {existing.full_name} ({existing.patient_number}) for video "
                    "consultation; no new record was created."]


def test_convert_registering_a_different_person_says_so(login, coordinator, clinician, clinic, hours):
    existing = make_patient(coordinator, clinic)
    i = _inquiry(clinic)
    data = {"first_name": "Jane", "last_name": "Doe", "clinic": clinic.pk, "clinician": clinician.pk,
            "starts_at": _slot().strftime("%Y-%m-%dT%H:%M"), "mode": "video"}
    r = login(coordinator).post(f"/inbox/{i.pk}/convert/", {**data, "duplicate_choice": "new",
                                                             "existing_patient_id": existing.pk}, follow=True)
    new = Patient.objects.exclude(pk=existing.pk).get()
    assert Appointment.objects.get().patient == new
    said = [str(m) for m in r.context["messages"]]
    assert said == [f"Registered a new patient, {new.full_name} ({new.patient_number}), and booked video consultation."]


def test_convert_choosing_the_existing_record_without_one_writes_nothing(login, coordinator, clinician, clinic,
                                                                          hours, clinic_b):
    stranger = make_patient(coordinator, clinic, first_name="Far", email="far@example.test", phone="")
    stranger.clinic = clinic_b
    stranger.save()
    i = _inquiry(clinic)
    data = {"first_name": "Jane", "last_name": "Doe", "clinic": clinic.pk, "clinician": clinician.pk,
            "starts_at": _slot().strftime("%Y-%m-%dT%H:%M"), "mode": "video", "duplicate_choice": "existing"}
    client = login(coordinator)
    r = client.post(f"/inbox/{i.pk}/convert/", data)
    assert r.status_code == 400 and "no existing record to book for" in r.content.decode()
    # Another clinic's record is never silently replaced by a new registration.
    r = client.post(f"/inbox/{i.pk}/convert/", {**data, "existing_patient_id": stranger.pk})
    assert r.status_code == 400 and "not in a clinic you work at" in r.content.decode()
    i.refresh_from_db()
    assert i.status == InquiryStatus.NEW
    assert Patient.objects.count() == 1 and not Appointment.objects.exists()


def test_convert_refuses_existing_patient_and_register_anyway_together(api_client, coordinator, clinician,
                                                                        clinic, hours):
    existing = make_patient(coordinator, clinic)
    i = _inquiry(clinic)
    body = {"clinic_id": clinic.pk, "clinician_id": clinician.pk, "starts_at": _slot().isoformat(),
            "first_name": "Jane", "last_name": "Doe", "existing_patient_id": existing.pk, "allow_duplicate": True}
    r = api_client(coordinator).post(f"/api/v1/inquiries/{i.pk}/convert", body, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "contradictory"
    assert "not both" in r.json()["detail"]
    i.refresh_from_db()
    assert i.status == InquiryStatus.NEW and Patient.objects.count() == 1 and not Appointment.objects.exists()


def test_convert_through_the_api(api_client, coordinator, clinician, clinic, hours):
    i = _inquiry(clinic)
    c = api_client(coordinator)
    body = {"clinic_id": clinic.pk, "clinician_id": clinician.pk, "starts_at": _slot().isoformat(),
            "first_name": "Jane", "last_name": "Doe"}
    r = c.post(f"/api/v1/inquiries/{i.pk}/convert", body, content_type="application/json")
    assert r.status_code == 201 and r.json()["patient_number"] == "AN-000001"
    r = c.post(f"/api/v1/inquiries/{i.pk}/convert", body, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "not_open"


def test_api_answer_and_close_validate_bodies(api_client, coordinator, clinic):
    i = _inquiry(clinic)
    c = api_client(coordinator)
    r = c.post(f"/api/v1/inquiries/{i.pk}/answer", {}, content_type="application/json")
    assert r.status_code == 400
    r = c.post(f"/api/v1/inquiries/{i.pk}/answer", {"answer": " "}, content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "answer"
    r = c.post(f"/api/v1/inquiries/{i.pk}/close", {"reason": "duplicate"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert [x["id"] for x in c.get("/api/v1/inquiries", {"status": "closed"}).json()] == [i.pk]


def test_inquiry_history_is_on_its_page(login, coordinator, clinic):
    i = _inquiry(clinic)
    services.inquiry_close(actor=coordinator, inquiry=i)
    body = login(coordinator).get(f"/inbox/{i.pk}/").content.decode()
    assert "History" in body and "updated" in body
    assert Inquiry.objects.get().status == "closed"
