"""Patient e-mails about appointments, through an outbox (``ScheduledEmail``).

Booking queues a confirmation (due now) and a reminder (24 hours before; not queued when the
appointment is sooner than that, since the confirmation is then the reminder). Rescheduling
withdraws the unsent reminder, queues a new one and a confirmation of the new time;
cancelling withdraws every unsent e-mail and queues a cancellation. Nothing is queued when the
patient has no e-mail address.

Confirmations and cancellations are also sent as soon as the transaction commits; everything
else goes out with ``anagen send_due_emails`` (run it every few minutes from cron or a
worker). Sending claims the row first (``sent_at`` set by a conditional UPDATE), so two
senders never send the same e-mail twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from .models import Appointment, EmailKind, ScheduledEmail

log = logging.getLogger(__name__)

REMINDER_BEFORE = timedelta(hours=24)


def _when(appointment: Appointment) -> str:
    local = timezone.localtime(appointment.starts_at, appointment.clinic.tz)
    return f"{local:%A %d %B %Y at %H:%M} ({appointment.clinic.timezone})"


def _where(appointment: Appointment) -> str:
    if appointment.is_video:
        return f"By video. Join here at the time of your appointment: {appointment.meeting_url}"
    room = f", {appointment.room.name}" if appointment.room_id else ""
    return f"Anagen {appointment.clinic.name}{room}, {appointment.clinic.address}"


def _body(appointment: Appointment, opening: str) -> str:
    patient = appointment.patient
    lines = [f"Dear {patient.first_name},", "", opening, "",
             f"What: {appointment.get_kind_display()} with {appointment.clinician}",
             f"When: {_when(appointment)}",
             f"Where: {_where(appointment)}", ""]
    if appointment.clinic.phone:
        lines.append(f"To change or cancel, call us on {appointment.clinic.phone}.")
    lines.append(f"Anagen {appointment.clinic.name}")
    return "\n".join(lines)


def _queue(appointment: Appointment, kind: str, subject: str, opening: str, send_after: datetime) -> ScheduledEmail | None:
    to = (appointment.patient.email or "").strip()
    if not to:
        return None
    return ScheduledEmail.objects.create(appointment=appointment, kind=kind, to=to, subject=subject,
                                         body=_body(appointment, opening), send_after=send_after)


def _queue_reminder(appointment: Appointment, now: datetime) -> None:
    send_after = appointment.starts_at - REMINDER_BEFORE
    if send_after > now:
        _queue(appointment, EmailKind.REMINDER, f"Reminder: your {appointment.get_kind_display().lower()} tomorrow",
               "This is a reminder of your appointment.", send_after)


def _send_on_commit(email: ScheduledEmail | None) -> None:
    if email is not None:
        pk = email.pk
        transaction.on_commit(lambda: send_email(pk))


def withdraw_unsent(appointment: Appointment, kinds: tuple[str, ...] | None = None) -> int:
    qs = ScheduledEmail.objects.filter(appointment=appointment, sent_at__isnull=True, cancelled_at__isnull=True)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs.update(cancelled_at=timezone.now())


def queue_booked(appointment: Appointment) -> None:
    now = timezone.now()
    email = _queue(appointment, EmailKind.CONFIRMATION, f"Your {appointment.get_kind_display().lower()} is booked",
                   "Your appointment is booked. The calendar file attached adds it to your calendar.", now)
    _queue_reminder(appointment, now)
    _send_on_commit(email)


def queue_rescheduled(appointment: Appointment) -> None:
    now = timezone.now()
    withdraw_unsent(appointment)
    email = _queue(appointment, EmailKind.CONFIRMATION, f"Your {appointment.get_kind_display().lower()} has moved",
                   "Your appointment has moved to a new time. The calendar file attached updates your calendar.", now)
    _queue_reminder(appointment, now)
    _send_on_commit(email)


def queue_cancelled(appointment: Appointment) -> None:
    withdraw_unsent(appointment)
    email = _queue(appointment, EmailKind.CANCELLATION, f"Your {appointment.get_kind_display().lower()} is cancelled",
                   "Your appointment has been cancelled. Call us to book a new time.", timezone.now())
    _send_on_commit(email)


def queue_message(*, kind: str, to: str, subject: str, body: str) -> ScheduledEmail | None:
    """Queue an e-mail that belongs to no appointment (an inquiry's acknowledgement), due now and
    sent as soon as the transaction commits. Nothing is queued without an address."""
    to = (to or "").strip()
    if not to:
        return None
    email = ScheduledEmail.objects.create(kind=kind, to=to, subject=subject, body=body, send_after=timezone.now())
    _send_on_commit(email)
    return email


def send_email(pk: int, now: datetime | None = None) -> bool:
    """Send one queued e-mail, with the appointment's .ics attached when it has one; True when sent now.

    Never raises: a failure is logged, counted in ``attempts`` and left for the next run.
    """
    from .ics import appointment_ics, ics_filename

    now = now or timezone.now()
    claimed = ScheduledEmail.objects.filter(pk=pk, sent_at__isnull=True, cancelled_at__isnull=True,
                                            send_after__lte=now).update(sent_at=timezone.now())
    if not claimed:
        return False
    email = ScheduledEmail.objects.select_related("appointment__clinic", "appointment__clinician",
                                                  "appointment__room").get(pk=pk)
    try:
        message = EmailMessage(subject=email.subject, body=email.body, from_email=settings.DEFAULT_FROM_EMAIL,
                               to=[email.to])
        if email.appointment_id is not None:
            message.attach(ics_filename(email.appointment), appointment_ics(email.appointment), "text/calendar")
        message.send()
    except Exception as exc:  # the mail server's trouble must not break a booking
        log.warning("e-mail %s (appointment %s) not sent: %s", pk, email.appointment_id, exc)
        ScheduledEmail.objects.filter(pk=pk).update(sent_at=None, attempts=email.attempts + 1, last_error=str(exc)[:500])
        return False
    ScheduledEmail.objects.filter(pk=pk).update(attempts=email.attempts + 1, last_error="")
    return True


def send_due(now: datetime | None = None) -> tuple[int, int]:
    """Send every due, unsent, not withdrawn e-mail; return (sent, failed)."""
    now = now or timezone.now()
    due = list(ScheduledEmail.objects.filter(sent_at__isnull=True, cancelled_at__isnull=True, send_after__lte=now)
               .values_list("pk", flat=True))
    sent = sum(1 for pk in due if send_email(pk, now))
    return sent, len(due) - sent
