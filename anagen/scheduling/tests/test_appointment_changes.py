"""Reschedule, cancel, no-show and complete."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anagen.core.errors import ActionError, Conflict, NotFound
from anagen.scheduling.models import Appointment
from anagen.scheduling.services import (
    NotAllowed,
    appointment_cancel,
    appointment_complete,
    appointment_mark_no_show,
    appointment_reschedule,
)

from .conftest import at


def _started(a: Appointment) -> Appointment:
    """Pretend the appointment began an hour ago (the services refuse to book in the past)."""
    Appointment.objects.filter(pk=a.pk).update(starts_at=timezone.now() - timedelta(hours=1),
                                               ends_at=timezone.now() - timedelta(minutes=30))
    a.refresh_from_db()
    return a


def test_it_moves_an_appointment_keeping_its_length(book, coordinator, open_clinic, day):
    a = book("10:00", kind="procedure")
    moved = appointment_reschedule(actor=coordinator, appointment=a, starts_at=at(open_clinic, day, "14:00"))
    assert moved.starts_at == at(open_clinic, day, "14:00") and moved.duration_minutes == 120
    assert moved.room.name == "Procedure 1" and moved.sequence == 1


def test_moving_onto_another_booking_is_refused(book, coordinator, open_clinic, day, make_patient):
    a = book("10:00")
    book("11:00", patient=make_patient(open_clinic, first_name="Other"))
    with pytest.raises(Conflict, match="11:00–11:30"):
        appointment_reschedule(actor=coordinator, appointment=a, starts_at=at(open_clinic, day, "10:45"))
    a.refresh_from_db()
    assert a.starts_at == at(open_clinic, day, "10:00")


def test_moving_within_its_own_slot_does_not_clash_with_itself(book, coordinator, open_clinic, day):
    a = book("10:00")
    moved = appointment_reschedule(actor=coordinator, appointment=a, starts_at=at(open_clinic, day, "10:15"))
    assert moved.starts_at == at(open_clinic, day, "10:15")


def test_moving_to_the_past_or_outside_hours_is_refused(book, coordinator, open_clinic, day):
    a = book("10:00")
    with pytest.raises(ActionError, match="in the past"):
        appointment_reschedule(actor=coordinator, appointment=a, starts_at=timezone.now() - timedelta(days=1))
    with pytest.raises(ActionError, match="not available"):
        appointment_reschedule(actor=coordinator, appointment=a, starts_at=at(open_clinic, day, "19:00"))


def test_moving_needs_a_time(book, coordinator):
    with pytest.raises(ActionError, match="Fill in: starts at"):
        appointment_reschedule(actor=coordinator, appointment=book("10:00"), starts_at=None)


def test_moving_to_another_clinician_checks_their_clinic(book, coordinator, open_clinic, day, clinician_b):
    with pytest.raises(ActionError, match="does not work at Birmingham"):
        appointment_reschedule(actor=coordinator, appointment=book("10:00"), starts_at=at(open_clinic, day, "12:00"),
                               clinician=clinician_b)


def test_a_cancelled_appointment_cannot_be_moved(book, coordinator, open_clinic, day):
    a = appointment_cancel(actor=coordinator, appointment=book("10:00"), reason="ill")
    with pytest.raises(ActionError, match="only booked appointments can be moved"):
        appointment_reschedule(actor=coordinator, appointment=a, starts_at=at(open_clinic, day, "12:00"))


def test_cancel_needs_a_reason_and_records_it(book, coordinator):
    a = book("10:00")
    with pytest.raises(ActionError, match="reason"):
        appointment_cancel(actor=coordinator, appointment=a, reason="  ")
    a = appointment_cancel(actor=coordinator, appointment=a, reason="Patient is travelling")
    assert a.status == "cancelled" and a.cancelled_by == coordinator and a.cancellation_reason == "Patient is travelling"
    with pytest.raises(ActionError, match="already cancelled"):
        appointment_cancel(actor=coordinator, appointment=a, reason="again")


def test_no_show_and_complete_only_once_started(book, coordinator):
    a = book("10:00")
    with pytest.raises(ActionError, match="once it has started"):
        appointment_mark_no_show(actor=coordinator, appointment=a)
    with pytest.raises(ActionError, match="once it has started"):
        appointment_complete(actor=coordinator, appointment=a)
    a = _started(a)
    assert appointment_mark_no_show(actor=coordinator, appointment=a).status == "no_show"
    with pytest.raises(ActionError, match="already no-show"):
        appointment_complete(actor=coordinator, appointment=a)


def test_a_clinician_completes_an_appointment(book, clinician):
    a = _started(book("10:00"))
    assert appointment_complete(actor=clinician, appointment=a).status == "completed"


def test_clinicians_move_follow_ups_but_not_procedures(book, clinician, open_clinic, day):
    f = book("10:00", kind="follow_up")
    assert appointment_reschedule(actor=clinician, appointment=f, starts_at=at(open_clinic, day, "15:00"))
    p = book("11:00", kind="procedure")
    with pytest.raises(NotAllowed):
        appointment_reschedule(actor=clinician, appointment=p, starts_at=at(open_clinic, day, "13:00"))
    with pytest.raises(NotAllowed):
        appointment_cancel(actor=clinician, appointment=p, reason="no")


def test_another_clinics_coordinator_cannot_touch_it(book, coordinator_b, open_clinic, day):
    a = book("10:00")
    with pytest.raises(NotFound):
        appointment_cancel(actor=coordinator_b, appointment=a, reason="no")
    with pytest.raises(NotFound):
        appointment_reschedule(actor=coordinator_b, appointment=a, starts_at=at(open_clinic, day, "12:00"))
    a.refresh_from_db()
    assert a.status == "booked"


def test_every_change_is_in_the_audit_trail(book, coordinator, open_clinic, day):
    from anagen.audit.selectors import record_history

    a = book("10:00")
    appointment_reschedule(actor=coordinator, appointment=a, starts_at=at(open_clinic, day, "12:00"))
    appointment_cancel(actor=coordinator, appointment=a, reason="ill")
    actions = [h.action for h in record_history(a)]
    assert actions == ["updated", "updated", "created"]
    assert "status" in record_history(a)[0].changes
