"""``anagen send_due_emails``: send the patient e-mails (confirmations, reminders, cancellations)
whose time has come, each with the appointment's .ics attached. Run it every few minutes."""

from django.core.management.base import BaseCommand

from anagen.scheduling.notifications import send_due


class Command(BaseCommand):
    help = "Send queued appointment e-mails that are due, through Django's e-mail backend."

    def handle(self, *args, **options):
        sent, failed = send_due()
        self.stdout.write(f"{sent} e-mail(s) sent, {failed} failed (left queued for the next run).")
