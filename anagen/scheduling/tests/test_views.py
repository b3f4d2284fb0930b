"""Calendar pages, booking form and an appointment's page, with the personas."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from anagen.scheduling.models import Appointment

from .conftest import at


def _local(day, hhmm):
    return f"{day:%Y-%m-%d}T{hhmm}"


def test_the_day_calendar_lists_the_clinics_appointments(login, coordinator, book, day, open_clinic):
    book("10:00")
    r = login(coordinator).get(f"/calendar/?clinic={open_clinic.pk}&date={day:%Y-%m-%d}")
    assert r.status_code == 200
    body = r.content.decode()
    assert "10:00–10:30" in body and "Pat Patient" in body and "kind-free_consultation" in body
    assert "rel=\"prev\"" in body and f"date={(day - timedelta(days=1)):%Y-%m-%d}" in body


def test_the_week_calendar_shows_seven_days(login, coordinator, book, day, open_clinic):
    book("10:00", day=day + timedelta(days=3))
    r = login(coordinator).get(f"/calendar/?clinic={open_clinic.pk}&view=week&date={day:%Y-%m-%d}")
    body = r.content.decode()
    assert body.count('class="cal-day') == 7 and "10:00–10:30" in body
    assert f"date={(day + timedelta(days=7)):%Y-%m-%d}" in body


def test_a_clinicians_calendar_shows_their_appointments_only(login, coordinator, book, day, open_clinic, clinic,
                                                             hours, make_patient):
    from anagen.accounts.services import staff_create

    other = staff_create(email="doc2@birmingham.test", password=None, roles=["clinician"], clinics=[clinic],
                         first_name="Otto", last_name="Other")
    hours(other, clinic)
    book("10:00")
    book("10:00", clinician=other, patient=make_patient(clinic, first_name="Ona"), room=clinic.rooms.get(name="Procedure 1"))
    body = login(coordinator).get(f"/calendar/clinicians/{other.pk}/?date={day:%Y-%m-%d}").content.decode()
    assert "Ona Patient" in body and "Pat Patient" not in body


def test_the_calendar_needs_no_query_per_appointment(login, coordinator, book, day, open_clinic, make_patient,
                                                     django_assert_max_num_queries, clinic, hours):
    from anagen.accounts.services import staff_create

    for i in range(4):
        doc = staff_create(email=f"d{i}@birmingham.test", password=None, roles=["clinician"], clinics=[clinic])
        hours(doc, clinic)
        for h in range(8, 18):
            book(f"{h:02d}:00", clinician=doc, kind="video_consultation", patient=make_patient(clinic))
    client = login(coordinator)
    with django_assert_max_num_queries(15):
        r = client.get(f"/calendar/?clinic={open_clinic.pk}&date={day:%Y-%m-%d}")
    assert r.content.decode().count("Video consultation") >= 40


def test_a_bad_date_falls_back_to_today_with_a_message(login, coordinator, open_clinic):
    r = login(coordinator).get(f"/calendar/?clinic={open_clinic.pk}&date=31-31-2020")
    assert r.status_code == 200 and "is not a date" in r.content.decode()


def test_booking_through_the_form(login, coordinator, open_clinic, clinician, patient, day, rooms):
    client = login(coordinator)
    assert client.get(f"/calendar/book/?clinic={open_clinic.pk}").status_code == 200
    r = client.post(f"/calendar/book/?clinic={open_clinic.pk}", {
        "clinic": open_clinic.pk, "patient": patient.pk, "clinician": clinician.pk, "kind": "free_consultation",
        "starts_at": _local(day, "10:00"), "room": rooms["Consulting 1"].pk})
    a = Appointment.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/calendar/appointments/{a.pk}/"
    assert a.starts_at == at(open_clinic, day, "10:00")


def test_the_form_shows_empty_fields_without_writing(login, coordinator, open_clinic):
    r = login(coordinator).post(f"/calendar/book/?clinic={open_clinic.pk}", {"clinic": open_clinic.pk})
    assert r.status_code == 400
    body = r.content.decode()
    assert "Choose the patient." in body and "Give the date and time." in body
    assert not Appointment.objects.exists()


def test_the_form_shows_a_clash_with_409(login, coordinator, book, open_clinic, clinician, make_patient, day, rooms):
    book("10:00")
    r = login(coordinator).post(f"/calendar/book/?clinic={open_clinic.pk}", {
        "clinic": open_clinic.pk, "patient": make_patient(open_clinic).pk, "clinician": clinician.pk,
        "kind": "free_consultation", "starts_at": _local(day, "10:15"), "room": rooms["Procedure 1"].pk})
    assert r.status_code == 409 and "already booked" in r.content.decode()
    assert Appointment.objects.count() == 1


def test_the_form_refuses_a_patient_of_another_clinic(login, coordinator, open_clinic, clinician, patient_b, day):
    r = login(coordinator).post(f"/calendar/book/?clinic={open_clinic.pk}", {
        "clinic": open_clinic.pk, "patient": patient_b.pk, "clinician": clinician.pk, "kind": "free_consultation",
        "starts_at": _local(day, "10:00")})
    assert r.status_code == 400 and "not registered at this clinic" in r.content.decode()


def test_a_clinician_is_offered_follow_ups_only(login, clinician, open_clinic, patient, day, rooms):
    client = login(clinician)
    body = client.get(f"/calendar/book/?clinic={open_clinic.pk}").content.decode()
    assert 'value="follow_up"' in body and 'value="procedure"' not in body
    r = client.post(f"/calendar/book/?clinic={open_clinic.pk}", {
        "clinic": open_clinic.pk, "patient": patient.pk, "clinician": clinician.pk, "kind": "procedure",
        "starts_at": _local(day, "10:00"), "room": rooms["Procedure 1"].pk})
    assert r.status_code == 400 and not Appointment.objects.exists()


def test_the_appointment_page_shows_details_and_history(login, coordinator, book):
    a = book("10:00")
    body = login(coordinator).get(f"/calendar/appointments/{a.pk}/").content.decode()
    assert "Pat Patient" in body and "History" in body and "created" in body and "Reschedule" in body
    assert "Confirmation" in body


def test_reschedule_cancel_from_the_page(login, coordinator, book, open_clinic, day):
    a = book("10:00")
    client = login(coordinator)
    r = client.post(f"/calendar/appointments/{a.pk}/reschedule", {"starts_at": _local(day, "13:00")})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.starts_at == at(open_clinic, day, "13:00")
    r = client.post(f"/calendar/appointments/{a.pk}/cancel", {"reason": ""})
    assert r.status_code == 400 and "Fill in: reason" in r.content.decode()
    r = client.post(f"/calendar/appointments/{a.pk}/cancel", {"reason": "Patient unwell"})
    a.refresh_from_db()
    assert r.status_code == 302 and a.status == "cancelled"


def test_no_show_before_the_start_is_refused_on_the_page(login, coordinator, book):
    a = book("10:00")
    r = login(coordinator).post(f"/calendar/appointments/{a.pk}/no-show")
    assert r.status_code == 400 and "once it has started" in r.content.decode()


def test_no_show_and_complete_from_the_page(login, coordinator, book):
    a = book("10:00")
    b = book("11:00")
    Appointment.objects.filter(pk__in=[a.pk, b.pk]).update(starts_at=timezone.now() - timedelta(hours=2),
                                                          ends_at=timezone.now() - timedelta(hours=1))
    client = login(coordinator)
    assert client.post(f"/calendar/appointments/{a.pk}/no-show").status_code == 302
    assert client.post(f"/calendar/appointments/{b.pk}/complete").status_code == 302
    assert set(Appointment.objects.values_list("status", flat=True)) == {"no_show", "completed"}


def test_the_ics_download(login, coordinator, book):
    a = book("10:00")
    r = login(coordinator).get(f"/calendar/appointments/{a.pk}/ics")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
    assert Calendar.from_ical(r.content).walk("VEVENT")[0].decoded("DTSTART") == a.starts_at


def test_availability_page_adds_and_refuses_bad_hours(login, coordinator, clinic, clinician):
    client = login(coordinator)
    assert client.get(f"/calendar/availability/?clinic={clinic.pk}").status_code == 200
    r = client.post(f"/calendar/availability/?clinic={clinic.pk}", {
        "clinic": clinic.pk, "clinician": clinician.pk, "weekday": 0, "start_time": "17:00", "end_time": "09:00",
        "valid_from": "2030-01-01"})
    assert r.status_code == 400 and "ends (09:00) before it starts" in r.content.decode()
    r = client.post(f"/calendar/availability/?clinic={clinic.pk}", {
        "clinic": clinic.pk, "clinician": clinician.pk, "weekday": 0, "start_time": "09:00", "end_time": "17:00",
        "valid_from": "2030-01-01"})
    assert r.status_code == 302 and clinician.availability.count() == 1


def test_clinicians_see_hours_but_cannot_change_them(login, clinician, clinic):
    client = login(clinician)
    assert client.get(f"/calendar/availability/?clinic={clinic.pk}").status_code == 200
    r = client.post(f"/calendar/availability/?clinic={clinic.pk}", {"clinic": clinic.pk, "clinician": clinician.pk})
    assert r.status_code == 403
