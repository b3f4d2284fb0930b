"""Booking rules, through the service."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anagen.core.errors import ActionError, Conflict, NotFound
from anagen.scheduling.models import Appointment, AppointmentType, ScheduledEmail
from anagen.scheduling.services import NotAllowed, appointment_book

from .conftest import at, next_monday


def test_it_books_with_the_default_duration(book):
    a = book("10:00")
    assert a.status == "booked"
    assert a.ends_at - a.starts_at == timedelta(minutes=30)
    assert a.room.name == "Consulting 1" and a.meeting_url == ""


def test_procedures_last_two_hours_by_default(book):
    a = book("10:00", kind="procedure")
    assert a.ends_at - a.starts_at == timedelta(hours=2)


def test_durations_come_from_the_admin_edited_type(book):
    AppointmentType.objects.update_or_create(kind="follow_up", defaults={"duration_minutes": 45})
    a = book("10:00", kind="follow_up")
    assert a.duration_minutes == 45


def test_an_explicit_duration_wins(book):
    assert book("10:00", duration_minutes=50).duration_minutes == 50


@pytest.mark.parametrize("minutes", [0, 4, 481, "abc"])
def test_a_silly_duration_is_refused(book, minutes):
    with pytest.raises(ActionError, match="minutes"):
        book("10:00", duration_minutes=minutes)
    assert not Appointment.objects.exists()


def test_times_are_stored_in_utc(book, open_clinic, day):
    a = book("10:00")
    a.refresh_from_db()
    assert a.starts_at == at(open_clinic, day, "10:00")
    assert a.starts_at.utcoffset() == timedelta(0)


def test_a_naive_time_is_read_in_the_clinic_timezone(book, open_clinic, day):
    from datetime import datetime, time

    a = book(starts_at=datetime.combine(day, time(11, 0)))
    assert timezone.localtime(a.starts_at, open_clinic.tz).hour == 11


@pytest.mark.parametrize("missing", ["patient", "clinician", "clinic", "kind", "starts_at"])
def test_empty_fields_are_named(book, missing):
    with pytest.raises(ActionError) as exc:
        book("10:00", **{missing: None if missing != "kind" else ""})
    assert exc.value.field == missing and "Fill in" in exc.value.message
    assert not Appointment.objects.exists()


def test_an_unknown_kind_is_refused(book):
    with pytest.raises(ActionError, match="Unknown kind"):
        book("10:00", kind="massage")


def test_a_time_in_the_past_is_refused(book, open_clinic):
    with pytest.raises(ActionError, match="in the past"):
        book(starts_at=timezone.now() - timedelta(hours=1))
    assert not Appointment.objects.exists()


def test_it_fits_exactly_in_the_gap_between_two_others(book):
    book("10:00")
    book("11:00")
    middle = book("10:30")
    assert middle.pk


def test_a_one_minute_overlap_is_refused_and_names_the_clash(book):
    book("10:00")
    with pytest.raises(Conflict) as exc:
        book("10:29")
    msg = exc.value.message
    assert "Clara Clinician is already booked" in msg and "10:00–10:30" in msg and "Free consultation" in msg
    assert exc.value.status == 409
    assert Appointment.objects.count() == 1


def test_overlap_at_the_end_is_refused_too(book):
    book("11:00")
    with pytest.raises(Conflict, match="11:00–11:30"):
        book("10:31")


def test_a_cancelled_appointment_frees_its_slot(book, coordinator):
    from anagen.scheduling.services import appointment_cancel

    a = book("10:00")
    appointment_cancel(actor=coordinator, appointment=a, reason="patient asked")
    assert book("10:00").pk != a.pk


def test_outside_the_clinicians_hours_is_refused(coordinator, clinic, clinician, patient, hours, rooms, day):
    hours(clinician, clinic, start="09:00", end="13:00")
    with pytest.raises(ActionError, match="not available at Birmingham") as exc:
        appointment_book(actor=coordinator, patient=patient, clinician=clinician, clinic=clinic,
                         kind="free_consultation", starts_at=at(clinic, day, "12:45"), room=rooms["Consulting 1"])
    assert "09:00–13:00" in exc.value.message and exc.value.code == "unavailable"


def test_hours_outside_their_validity_do_not_count(coordinator, clinic, clinician, patient, hours, rooms, day):
    hours(clinician, clinic, valid_until=day - timedelta(days=1))
    with pytest.raises(ActionError, match="not available"):
        appointment_book(actor=coordinator, patient=patient, clinician=clinician, clinic=clinic,
                         kind="free_consultation", starts_at=at(clinic, day, "10:00"), room=rooms["Consulting 1"])


def test_a_room_of_another_clinic_is_refused(book, clinic_b):
    with pytest.raises(ActionError, match="Consulting A is at Solihull, not Birmingham") as exc:
        book("10:00", room=clinic_b.rooms.get())
    assert exc.value.field == "room"


def test_a_clinician_who_does_not_work_at_the_clinic_is_refused(book, clinician_b):
    with pytest.raises(ActionError, match="does not work at Birmingham") as exc:
        book("10:00", clinician=clinician_b)
    assert exc.value.field == "clinician"


def test_a_non_clinician_cannot_be_booked(book, lab_scientist):
    with pytest.raises(ActionError, match="not an active clinician"):
        book("10:00", clinician=lab_scientist)


def test_a_procedure_needs_a_procedure_room(book, rooms):
    with pytest.raises(ActionError, match="not a procedure room"):
        book("10:00", kind="procedure", room=rooms["Consulting 1"])


def test_the_room_comes_from_the_clinicians_hours_when_not_given(coordinator, clinic, clinician, patient, hours,
                                                                 rooms, day):
    hours(clinician, clinic, room=rooms["Procedure 1"])
    a = appointment_book(actor=coordinator, patient=patient, clinician=clinician, clinic=clinic, kind="procedure",
                         starts_at=at(clinic, day, "10:00"))
    assert a.room == rooms["Procedure 1"]


def test_without_a_room_anywhere_it_asks_for_one(book):
    with pytest.raises(ActionError, match="Choose a room") as exc:
        book("10:00", room=None)
    assert exc.value.field == "room"


def test_hours_tied_to_a_room_do_not_cover_another_room(coordinator, clinic, clinician, patient, hours, rooms, day):
    hours(clinician, clinic, room=rooms["Procedure 1"])
    with pytest.raises(ActionError, match="not available"):
        appointment_book(actor=coordinator, patient=patient, clinician=clinician, clinic=clinic,
                         kind="free_consultation", starts_at=at(clinic, day, "10:00"), room=rooms["Consulting 1"])


def test_the_room_is_never_double_booked(book, clinic, hours, make_patient, rooms):
    from anagen.accounts.services import staff_create

    other = staff_create(email="doc2@birmingham.test", password=None, roles=["clinician"], clinics=[clinic],
                         first_name="Otto", last_name="Other")
    hours(other, clinic)
    book("10:00", kind="procedure")
    with pytest.raises(Conflict, match="Room Procedure 1 is already booked") as exc:
        book("11:00", kind="procedure", clinician=other, patient=make_patient(clinic, first_name="Second"))
    assert exc.value.field == "room"
    # The consulting room is free at the same time.
    assert book("11:00", clinician=other, room=rooms["Consulting 1"])


def test_a_clinician_is_not_double_booked_across_clinics(book, clinic, clinic_b, clinician, hours, make_patient,
                                                         coordinator):
    clinician.clinics.add(clinic_b)
    coordinator.clinics.add(clinic_b)
    for u in (clinician, coordinator):
        u.forget_cached_access()
    hours(clinician, clinic_b)
    book("10:00")
    with pytest.raises(Conflict, match="at Birmingham"):
        book("10:15", clinic=clinic_b, room=clinic_b.rooms.get(), patient=make_patient(clinic_b))


def test_a_clinician_is_not_double_booked_by_video(book):
    book("10:00", kind="video_consultation")
    with pytest.raises(Conflict, match="Video consultation by video"):
        book("10:15")


def test_a_video_consultation_gets_a_meeting_link_and_no_room(book, settings):
    settings.VIDEO_MEETING_BASE_URL = "https://meet.example.test/"
    a = book("10:00", kind="video_consultation")
    b = book("11:00", kind="video_consultation")
    assert a.room is None and a.clinic_id
    assert a.meeting_url.startswith("https://meet.example.test/")
    assert len(a.meeting_url.rsplit("/", 1)[1]) >= 20 and a.meeting_url != b.meeting_url


def test_a_video_consultation_with_a_room_is_refused(book, rooms):
    with pytest.raises(ActionError, match="takes no room"):
        book("10:00", kind="video_consultation", room=rooms["Consulting 1"])


def test_a_video_consultation_needs_hours_at_its_clinic(coordinator, clinic, clinician, patient, day):
    with pytest.raises(ActionError, match="not available at Birmingham"):
        appointment_book(actor=coordinator, patient=patient, clinician=clinician, clinic=clinic,
                         kind="video_consultation", starts_at=at(clinic, day, "10:00"))


def test_a_patient_of_another_clinic_is_not_found(book, patient_b):
    with pytest.raises(NotFound):
        book("10:00", patient=patient_b)


def test_a_clinic_the_actor_does_not_work_at_is_not_found(book, clinic_b):
    with pytest.raises(NotFound):
        book("10:00", clinic=clinic_b, room=clinic_b.rooms.get())


def test_clinicians_book_follow_ups_only(book, clinician):
    assert book("10:00", actor=clinician, kind="follow_up").created_by == clinician
    with pytest.raises(NotAllowed, match="follow-up assessments only"):
        book("11:00", actor=clinician, kind="free_consultation")


@pytest.mark.parametrize("persona", ["evaluator", "lab_scientist", "statistician", "stranger"])
def test_other_roles_cannot_book(book, request, persona):
    with pytest.raises(NotAllowed):
        book("10:00", actor=request.getfixturevalue(persona))
    assert not Appointment.objects.exists()


def test_nothing_is_half_written_when_a_booking_fails(book):
    book("10:00")
    with pytest.raises(Conflict):
        book("10:10")
    assert Appointment.objects.count() == 1
    assert ScheduledEmail.objects.count() == 2  # the first booking's confirmation and reminder only


def test_booking_on_a_clock_change_day_keeps_real_durations(coordinator, clinic, clinician, patient, hours, rooms):
    # The last Sunday of October: 01:00-02:00 happens twice in London.
    year = next_monday().year + 1
    from datetime import date
    d = date(year, 10, 31)
    d -= timedelta(days=(d.weekday() + 1) % 7)
    hours(clinician, clinic, start="00:00", end="06:00")
    a = appointment_book(actor=coordinator, patient=patient, clinician=clinician, clinic=clinic, kind="procedure",
                         starts_at=at(clinic, d, "00:30"), room=rooms["Procedure 1"])
    assert (a.ends_at - a.starts_at) == timedelta(hours=2)
