"""Writes for appointments, clinician availability and the patient e-mail outbox.

Every booking rule is enforced here, once, for the pages, the API, the admin and commands:

- only admins and coordinators book and move any kind; clinicians book and move follow-up
  assessments; everyone acts only at the clinics they work at;
- the clinician works at the clinic and is available then (``ClinicianAvailability``, in the
  clinic's local time); the room belongs to the clinic, a procedure needs a procedure room,
  a video consultation has no room and gets a meeting link;
- no clinician (across all clinics, in person or by video) and no room is ever double-booked.
  The check runs inside the transaction after locking the clinician's and the room's rows
  (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite takes its write lock at ``BEGIN IMMEDIATE``),
  so two simultaneous requests for the same slot serialize and the second sees the first.

Times given without a timezone are read in the clinic's local time; everything is stored in UTC.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from anagen.accounts.models import Clinic, Role, Room, User
from anagen.core.errors import ActionError, Conflict, NotFound
from anagen.core.permissions import BOOKING_ROLES, FRONT_DESK_ROLES, has_role
from anagen.patients.models import Patient

from . import notifications, rules
from .models import (
    DEFAULT_DURATIONS,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    ClinicianAvailability,
)

MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 8 * 60


class NotAllowed(ActionError):
    """The actor's role does not allow this action (answered with 403)."""

    status = 403
    code = "forbidden"


# --- helpers ------------------------------------------------------------------------------------

def duration_for(kind: str) -> int:
    """Default length of ``kind`` in minutes: the admin-edited AppointmentType, else the default."""
    minutes = AppointmentType.objects.filter(kind=kind).values_list("duration_minutes", flat=True).first()
    return int(minutes or DEFAULT_DURATIONS[kind])


def local_text(dt: datetime, clinic: Clinic, fmt: str = "%a %d/%m/%Y %H:%M") -> str:
    return timezone.localtime(dt, clinic.tz).strftime(fmt)


def _span_text(start: datetime, end: datetime, clinic: Clinic) -> str:
    return f"{local_text(start, clinic)}–{local_text(end, clinic, '%H:%M')}"


def _is_front_desk(actor) -> bool:
    return has_role(actor, *FRONT_DESK_ROLES)


def _check_may_book(actor, clinic: Clinic, kind: str, verb: str = "book") -> None:
    if not has_role(actor, *BOOKING_ROLES):
        raise NotAllowed("Your role does not allow booking appointments.")
    if not actor.can_see_clinic(clinic.pk):
        raise NotFound("That clinic is not one you work at.")
    if not _is_front_desk(actor) and kind != AppointmentKind.FOLLOW_UP:
        label = AppointmentKind(kind).label.lower()
        raise NotAllowed(f"Clinicians may {verb} follow-up assessments only; ask a coordinator to {verb} a {label}.")


def _check_may_see(actor, appointment: Appointment) -> None:
    if not has_role(actor, *BOOKING_ROLES):
        raise NotAllowed("Your role does not allow working with appointments.")
    if not actor.can_see_clinic(appointment.clinic_id):
        raise NotFound("No appointment with that id at the clinics you work at.")


def _aware(starts_at: datetime, clinic: Clinic) -> datetime:
    """In UTC, so that adding a duration is real elapsed time, also across a DST change."""
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at, clinic.tz)
    return starts_at.astimezone(dt_timezone.utc)


def _meeting_url() -> str:
    return settings.VIDEO_MEETING_BASE_URL.rstrip("/") + "/" + secrets.token_urlsafe(18)


def _windows(clinician: User, clinic: Clinic) -> list[rules.Window]:
    return [rules.Window(weekday=a.weekday, start_time=a.start_time, end_time=a.end_time, valid_from=a.valid_from,
                         valid_until=a.valid_until, room_id=a.room_id)
            for a in ClinicianAvailability.objects.filter(clinician=clinician, clinic=clinic)]


def _hours_text(windows: list[rules.Window], day: date) -> str:
    current = [w for w in windows if w.valid_from <= day and (w.valid_until is None or day <= w.valid_until)]
    if not current:
        return "no hours are set there"
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    parts = sorted({(w.weekday, w.start_time, w.end_time) for w in current})
    return "their hours there: " + ", ".join(f"{names[d]} {s:%H:%M}–{e:%H:%M}" for d, s, e in parts)


def _validate_slot(*, clinic: Clinic, clinician: User, kind: str, starts_at: datetime, ends_at: datetime,
                   room: Room | None) -> Room | None:
    """Check everything but clashes; return the room to use (from the availability when none given)."""
    if starts_at < timezone.now():
        raise ActionError(f"{_span_text(starts_at, ends_at, clinic)} is in the past; choose a time from now on.",
                          field="starts_at")
    if not clinician.is_active or not clinician.has_role(Role.CLINICIAN):
        raise ActionError(f"{clinician} is not an active clinician; choose a clinician.", field="clinician")
    if not clinician.can_see_clinic(clinic.pk):
        raise ActionError(f"{clinician} does not work at {clinic.name}; choose a clinician of {clinic.name}.",
                          field="clinician")
    video = kind == AppointmentKind.VIDEO_CONSULTATION
    if video and room is not None:
        raise ActionError("A video consultation takes no room; leave the room empty.", field="room")
    if room is not None:
        _check_room(room, clinic, kind)

    windows = _windows(clinician, clinic)
    window = rules.covering_window(windows, starts_at, ends_at, clinic.tz, room_id=None if video or room is None else room.pk)
    if window is None:
        day = timezone.localtime(starts_at, clinic.tz).date()
        raise ActionError(f"{clinician} is not available at {clinic.name} on {_span_text(starts_at, ends_at, clinic)} "
                          f"({clinic.timezone}); {_hours_text(windows, day)}. Choose a time inside those hours.",
                          field="starts_at", code="unavailable")
    if not video and room is None:
        if window.room_id is None:
            raise ActionError(f"Choose a room at {clinic.name} for this appointment.", field="room")
        room = Room.objects.get(pk=window.room_id)
        _check_room(room, clinic, kind)
    return room


def _check_room(room: Room, clinic: Clinic, kind: str) -> None:
    if room.clinic_id != clinic.pk:
        raise ActionError(f"Room {room.name} is at {room.clinic.name}, not {clinic.name}; choose a room of {clinic.name}.",
                          field="room")
    if not room.is_active:
        raise ActionError(f"Room {room.name} is out of use; choose another room.", field="room")
    if kind == AppointmentKind.PROCEDURE and not room.is_procedure_room:
        raise ActionError(f"{room.name} is not a procedure room; book the procedure in a procedure room.", field="room")


def _lock_and_check_clashes(*, clinician: User, room: Room | None, starts_at: datetime, ends_at: datetime,
                            exclude_pk: int | None = None) -> None:
    """Lock the clinician's (then the room's) row and refuse any overlapping booked appointment.

    Always clinician first, then room, so two transactions never wait on each other in a cycle.
    """
    User.objects.select_for_update().filter(pk=clinician.pk).first()
    if room is not None:
        Room.objects.select_for_update().filter(pk=room.pk).first()
    booked = (Appointment.objects.select_related("clinic", "room", "clinician")
              .filter(status=AppointmentStatus.BOOKED, starts_at__lt=ends_at, ends_at__gt=starts_at))
    if exclude_pk is not None:
        booked = booked.exclude(pk=exclude_pk)
    clash = booked.filter(clinician=clinician).first()
    if clash is not None:
        where = "by video" if clash.is_video else f"at {clash.clinic.name}"
        raise Conflict(f"{clinician} is already booked {_span_text(clash.starts_at, clash.ends_at, clash.clinic)} "
                       f"({clash.get_kind_display()} {where}); choose another time or clinician.", field="starts_at")
    if room is not None:
        clash = booked.filter(room=room).first()
        if clash is not None:
            raise Conflict(f"Room {room.name} is already booked {_span_text(clash.starts_at, clash.ends_at, clash.clinic)} "
                           f"({clash.get_kind_display()} with {clash.clinician}); choose another time or room.",
                           field="room")


def _require(**values) -> None:
    missing = [name for name, value in values.items() if value in (None, "")]
    if missing:
        raise ActionError("Fill in: " + ", ".join(m.replace("_", " ") for m in missing) + ".", field=missing[0],
                          code="required")


# --- appointments -------------------------------------------------------------------------------

@transaction.atomic
def appointment_book(*, actor: User, patient: Patient, clinician: User, clinic: Clinic, kind: str,
                     starts_at: datetime, room: Room | None = None, notes: str = "",
                     duration_minutes: int | None = None) -> Appointment:
    """Book ``patient`` with ``clinician`` at ``clinic``; queue the confirmation and the reminder.

    Raises Conflict (409) on a double booking, NotFound for a clinic or patient outside the
    actor's clinics, NotAllowed (403) for the wrong role, ActionError for anything else.
    """
    if not has_role(actor, *BOOKING_ROLES):
        raise NotAllowed("Your role does not allow booking appointments.")
    _require(patient=patient, clinician=clinician, clinic=clinic, kind=kind, starts_at=starts_at)
    if kind not in AppointmentKind.values:
        raise ActionError(f"Unknown kind {kind!r}; choose one of: {', '.join(AppointmentKind.values)}.", field="kind")
    _check_may_book(actor, clinic, kind)
    if not actor.can_see_clinic(patient.clinic_id):
        raise NotFound("No patient with that id at the clinics you work at.")
    if duration_minutes in (None, ""):
        duration_minutes = duration_for(kind)
    try:
        duration_minutes = int(duration_minutes)
    except (TypeError, ValueError):
        raise ActionError("Give the duration as a whole number of minutes.", field="duration_minutes") from None
    if not MIN_DURATION_MINUTES <= duration_minutes <= MAX_DURATION_MINUTES:
        raise ActionError(f"A duration of {duration_minutes} minutes is out of range; use "
                          f"{MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES} minutes.", field="duration_minutes")
    starts_at = _aware(starts_at, clinic)
    ends_at = starts_at + timedelta(minutes=duration_minutes)
    room = _validate_slot(clinic=clinic, clinician=clinician, kind=kind, starts_at=starts_at, ends_at=ends_at, room=room)
    _lock_and_check_clashes(clinician=clinician, room=room, starts_at=starts_at, ends_at=ends_at)
    appointment = Appointment.objects.create(
        clinic=clinic, patient=patient, clinician=clinician, room=room, kind=kind, starts_at=starts_at,
        ends_at=ends_at, notes=(notes or "").strip(), created_by=actor,
        meeting_url=_meeting_url() if kind == AppointmentKind.VIDEO_CONSULTATION else "",
    )
    notifications.queue_booked(appointment)
    return appointment


@transaction.atomic
def appointment_reschedule(*, actor: User, appointment: Appointment, starts_at: datetime, room: Room | None = None,
                           clinician: User | None = None) -> Appointment:
    """Move a booked appointment (same length); ``room``/``clinician`` empty keeps the current ones."""
    _check_may_see(actor, appointment)
    _check_may_book(actor, appointment.clinic, appointment.kind, verb="move")
    _require(starts_at=starts_at)
    appointment = Appointment.objects.select_for_update().select_related("clinic", "patient").get(pk=appointment.pk)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ActionError(f"This appointment is {appointment.get_status_display().lower()}; only booked appointments "
                          "can be moved. Book a new one instead.", code="not_booked")
    clinic = appointment.clinic
    clinician = clinician or appointment.clinician
    if room is None and appointment.kind != AppointmentKind.VIDEO_CONSULTATION:
        room = appointment.room
    starts_at = _aware(starts_at, clinic)
    ends_at = starts_at + (appointment.ends_at - appointment.starts_at)
    room = _validate_slot(clinic=clinic, clinician=clinician, kind=appointment.kind, starts_at=starts_at,
                          ends_at=ends_at, room=room)
    _lock_and_check_clashes(clinician=clinician, room=room, starts_at=starts_at, ends_at=ends_at,
                            exclude_pk=appointment.pk)
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    appointment.clinician, appointment.room = clinician, room
    appointment.sequence += 1
    appointment.save()
    notifications.queue_rescheduled(appointment)
    return appointment


@transaction.atomic
def appointment_cancel(*, actor: User, appointment: Appointment, reason: str) -> Appointment:
    """Cancel a booked appointment: unsent e-mails are withdrawn and a cancellation is queued."""
    _check_may_see(actor, appointment)
    _check_may_book(actor, appointment.clinic, appointment.kind, verb="cancel")
    reason = (reason or "").strip()
    _require(reason=reason)
    appointment = Appointment.objects.select_for_update().select_related("clinic", "patient").get(pk=appointment.pk)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ActionError(f"This appointment is already {appointment.get_status_display().lower()}; "
                          "only booked appointments can be cancelled.", code="not_booked")
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = timezone.now()
    appointment.cancelled_by = actor
    appointment.cancellation_reason = reason
    appointment.sequence += 1
    appointment.save()
    notifications.queue_cancelled(appointment)
    return appointment


def _close(*, actor: User, appointment: Appointment, status: str, verb: str) -> Appointment:
    _check_may_see(actor, appointment)
    appointment = Appointment.objects.select_for_update().select_related("clinic").get(pk=appointment.pk)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ActionError(f"This appointment is already {appointment.get_status_display().lower()}.", code="not_booked")
    if appointment.starts_at > timezone.now():
        raise ActionError(f"The appointment starts {local_text(appointment.starts_at, appointment.clinic)}; it can be "
                          f"marked {verb} once it has started. Cancel it instead if it will not take place.",
                          code="not_started")
    appointment.status = status
    appointment.save()
    notifications.withdraw_unsent(appointment)
    return appointment


@transaction.atomic
def appointment_mark_no_show(*, actor: User, appointment: Appointment) -> Appointment:
    return _close(actor=actor, appointment=appointment, status=AppointmentStatus.NO_SHOW, verb="a no-show")


@transaction.atomic
def appointment_complete(*, actor: User, appointment: Appointment) -> Appointment:
    return _close(actor=actor, appointment=appointment, status=AppointmentStatus.COMPLETED, verb="completed")


# --- availability -------------------------------------------------------------------------------

@transaction.atomic
def availability_add(*, actor: User, clinician: User, clinic: Clinic, weekday: int, start_time: time,
                     end_time: time, valid_from: date, room: Room | None = None,
                     valid_until: date | None = None) -> ClinicianAvailability:
    """Add a weekly window in which ``clinician`` sees patients at ``clinic`` (clinic's local time)."""
    if not has_role(actor, *FRONT_DESK_ROLES):
        raise NotAllowed("Only coordinators and admins set clinicians' hours.")
    _require(clinician=clinician, clinic=clinic, weekday=weekday, start_time=start_time, end_time=end_time,
             valid_from=valid_from)
    if not actor.can_see_clinic(clinic.pk):
        raise NotFound("That clinic is not one you work at.")
    if not clinician.has_role(Role.CLINICIAN) or not clinician.can_see_clinic(clinic.pk):
        raise ActionError(f"{clinician} is not a clinician of {clinic.name}; choose a clinician of {clinic.name}.",
                          field="clinician")
    if int(weekday) not in range(7):
        raise ActionError("Choose a weekday (0 Monday to 6 Sunday).", field="weekday")
    if end_time <= start_time:
        raise ActionError(f"The window ends ({end_time:%H:%M}) before it starts ({start_time:%H:%M}); "
                          "give an end time after the start time.", field="end_time")
    if valid_until is not None and valid_until < valid_from:
        raise ActionError("'Valid until' is before 'valid from'; fix the dates.", field="valid_until")
    if room is not None and room.clinic_id != clinic.pk:
        raise ActionError(f"Room {room.name} is at {room.clinic.name}, not {clinic.name}.", field="room")
    return ClinicianAvailability.objects.create(clinician=clinician, clinic=clinic, room=room, weekday=int(weekday),
                                                start_time=start_time, end_time=end_time, valid_from=valid_from,
                                                valid_until=valid_until)


@transaction.atomic
def availability_remove(*, actor: User, availability: ClinicianAvailability) -> None:
    if not has_role(actor, *FRONT_DESK_ROLES):
        raise NotAllowed("Only coordinators and admins set clinicians' hours.")
    if not actor.can_see_clinic(availability.clinic_id):
        raise NotFound("That clinic is not one you work at.")
    availability.delete()
