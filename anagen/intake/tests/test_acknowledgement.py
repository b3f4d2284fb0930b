"""The sender of an inquiry gets an acknowledgement e-mail, through the outbox, exactly once."""

from django.core import mail

from anagen.intake.models import Inquiry
from anagen.scheduling.models import EmailKind, ScheduledEmail
from anagen.scheduling.notifications import send_due

GOOD = {"name": "Jane Doe", "email": "jane@example.test", "phone": "", "concern": "Is PRP right for me? I take warfarin.",
        "consent_to_contact": "on", "website": ""}


def test_a_question_is_acknowledged_once_in_plain_words(client, clinic, django_capture_on_commit_callbacks):
    clinic.phone = "0121 496 0000"
    clinic.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/consultation/", {**GOOD, "preferred_clinic": str(clinic.pk)}).status_code == 302
    email = ScheduledEmail.objects.get()
    assert email.kind == EmailKind.ACKNOWLEDGEMENT and email.appointment is None and email.sent_at is not None
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["jane@example.test"] and sent.subject == "We have received your request for a free consultation"
    assert sent.body.startswith("Dear Jane Doe,") and "0121 496 0000" in sent.body and not sent.attachments
    # Nothing from the inquiry itself: no concern, no medication.
    assert "PRP" not in sent.body and "warfarin" not in sent.body
    # The outbox's later runs send nothing again.
    assert send_due() == (0, 0)
    assert len(mail.outbox) == 1


def test_the_outbox_sends_it_when_the_mail_server_was_down(client, db, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "anagen.intake.tests.test_acknowledgement.BrokenBackend"
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/ask/", GOOD)
    email = ScheduledEmail.objects.get()
    assert email.sent_at is None and email.attempts == 1 and "down" in email.last_error
    assert Inquiry.objects.count() == 1  # the inquiry is kept whatever the mail server does
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_due() == (1, 0) and send_due() == (0, 0)
    assert [m.subject for m in mail.outbox] == ["We have received your question"]


def test_no_address_or_a_bot_gets_no_acknowledgement(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/ask/", {**GOOD, "email": "", "phone": "07700 900123"})
        client.post("/ask/", {**GOOD, "website": "http://spam.example"})
    assert Inquiry.objects.count() == 1
    assert not ScheduledEmail.objects.exists() and not mail.outbox


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")
