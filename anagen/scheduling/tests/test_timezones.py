"""Stored in UTC, shown in the clinic's timezone."""

from datetime import date, datetime, time, timezone as dt_timezone

import pytest
from django.utils import timezone

from anagen.accounts.models import Clinic, Room
from anagen.scheduling.services import appointment_book


@pytest.fixture
def new_york(coordinator, clinician):
    c = Clinic.objects.create(name="New York", slug="new-york", address="5th Avenue", timezone="America/New_York")
    Room.objects.create(clinic=c, name="Room 1")
    coordinator.clinics.add(c)
    clinician.clinics.add(c)
    for u in (coordinator, clinician):
        u.forget_cached_access()
    return c


def test_a_new_york_clinic_shows_0900_for_1400_utc_in_winter(new_york, coordinator, clinician, hours, make_patient,
                                                              login):
    hours(clinician, new_york, start="09:00", end="17:00")
    winter = date(timezone.localdate().year + 1, 1, 15)
    starts = datetime.combine(winter, time(14, 0), tzinfo=dt_timezone.utc)
    a = appointment_book(actor=coordinator, patient=make_patient(new_york), clinician=clinician, clinic=new_york,
                         kind="free_consultation", starts_at=starts, room=new_york.rooms.get())
    a.refresh_from_db()
    assert a.starts_at == starts
    client = login(coordinator)
    day = client.get(f"/calendar/?clinic={new_york.pk}&date={winter:%Y-%m-%d}").content.decode()
    assert "09:00–09:30" in day and "14:00" not in day and "America/New_York" in day
    detail = client.get(f"/calendar/appointments/{a.pk}/").content.decode()
    assert "09:00" in detail


def test_a_booking_at_0830_new_york_time_is_outside_0900_hours(new_york, coordinator, clinician, hours, make_patient):
    from anagen.core.errors import ActionError

    hours(clinician, new_york, start="09:00", end="17:00")
    winter = date(timezone.localdate().year + 1, 1, 15)
    with pytest.raises(ActionError, match="08:30–09:00"):
        appointment_book(actor=coordinator, patient=make_patient(new_york), clinician=clinician, clinic=new_york,
                         kind="free_consultation", starts_at=datetime.combine(winter, time(13, 30), tzinfo=dt_timezone.utc),
                         room=new_york.rooms.get())


def test_the_form_reads_times_in_the_clinics_zone(new_york, coordinator, clinician, hours, make_patient, login):
    from anagen.scheduling.models import Appointment

    hours(clinician, new_york, start="09:00", end="17:00")
    winter = date(timezone.localdate().year + 1, 1, 15)
    p = make_patient(new_york)
    r = login(coordinator).post(f"/calendar/book/?clinic={new_york.pk}", {
        "clinic": new_york.pk, "patient": p.pk, "clinician": clinician.pk, "kind": "free_consultation",
        "starts_at": f"{winter:%Y-%m-%d}T09:00", "room": new_york.rooms.get().pk})
    assert r.status_code == 302
    assert Appointment.objects.get().starts_at == datetime.combine(winter, time(14, 0), tzinfo=dt_timezone.utc)
