"""The patient e-mail outbox: confirmation, reminder, cancellation, and `anagen send_due_emails`."""

from datetime import timedelta

from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from icalendar import Calendar

from anagen.scheduling.models import ScheduledEmail
from anagen.scheduling.notifications import send_due
from anagen.scheduling.services import appointment_cancel, appointment_reschedule

from .conftest import at


def _queued(a):
    return {e.kind: e for e in ScheduledEmail.objects.filter(appointment=a, cancelled_at__isnull=True)}


def test_booking_queues_a_confirmation_now_and_a_reminder_a_day_before(book):
    a = book("10:00")
    q = _queued(a)
    assert set(q) == {"confirmation", "reminder"}
    assert q["confirmation"].send_after <= timezone.now()
    assert q["reminder"].send_after == a.starts_at - timedelta(hours=24)
    assert q["confirmation"].to == "pat@example.test"
    assert "Birmingham" in q["confirmation"].body and "male" not in q["confirmation"].body.lower()


def test_the_confirmation_is_sent_when_the_booking_commits(book, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        a = book("10:00")
    assert len(mail.outbox) == 1
    msg = mail.outbox[0]
    assert msg.to == ["pat@example.test"] and "booked" in msg.subject
    name, content, mimetype = msg.attachments[0]
    assert name.endswith(".ics") and mimetype == "text/calendar"
    assert Calendar.from_ical(content).walk("VEVENT")[0]["UID"] == f"appointment-{a.pk}@anagen"
    assert _queued(a)["confirmation"].sent_at is not None


def test_no_email_when_the_patient_has_no_address(book, make_patient, open_clinic):
    a = book("10:00", patient=make_patient(open_clinic, email=""))
    assert not ScheduledEmail.objects.filter(appointment=a).exists()


def test_no_reminder_for_an_appointment_sooner_than_the_reminder_time(book, monkeypatch):
    # Booked two weeks ahead with reminders 30 days before: the confirmation is the reminder.
    monkeypatch.setattr("anagen.scheduling.notifications.REMINDER_BEFORE", timedelta(days=30))
    a = book("10:00")
    assert set(_queued(a)) == {"confirmation"}


def test_reschedule_moves_the_reminder(book, coordinator, open_clinic, day):
    a = book("10:00")
    old_reminder = _queued(a)["reminder"]
    appointment_reschedule(actor=coordinator, appointment=a, starts_at=at(open_clinic, day + timedelta(days=1), "12:00"))
    old_reminder.refresh_from_db()
    assert old_reminder.cancelled_at is not None
    q = _queued(a)
    assert q["reminder"].send_after == at(open_clinic, day, "12:00")
    assert "moved" in q["confirmation"].subject


def test_cancel_withdraws_unsent_emails_and_queues_a_cancellation(book, coordinator):
    a = book("10:00")
    appointment_cancel(actor=coordinator, appointment=a, reason="ill")
    assert set(_queued(a)) == {"cancellation"}


def test_the_command_sends_due_emails_once(book, capsys):
    a = book("10:00")
    call_command("send_due_emails")
    assert "1 e-mail(s) sent" in capsys.readouterr().out
    assert len(mail.outbox) == 1  # the confirmation; the reminder is not due yet
    call_command("send_due_emails")
    assert len(mail.outbox) == 1
    sent, failed = send_due(now=a.starts_at - timedelta(hours=23))
    assert (sent, failed) == (1, 0)
    assert "Reminder" in mail.outbox[1].subject


def test_a_failing_mail_server_leaves_the_email_queued(book, settings, monkeypatch):
    a = book("10:00")

    def broken(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    assert send_due() == (0, 1)
    e = _queued(a)["confirmation"]
    assert e.sent_at is None and e.attempts == 1 and "connection refused" in e.last_error
    monkeypatch.undo()
    assert send_due() == (1, 0)
