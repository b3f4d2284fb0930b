"""django-auditlog's ``auditlogflush`` would empty the audit trail: here it refuses."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Disabled: the audit trail is append-only and is never flushed."

    def add_arguments(self, parser):
        # Accept the original options so that a script calling it gets the refusal, not a usage error.
        parser.add_argument("-y", "--yes", action="store_true")
        parser.add_argument("-b", "--before-date")
        parser.add_argument("-t", "--truncate", action="store_true")

    def handle(self, *args, **options):
        raise CommandError(
            "The audit trail is append-only: auditlogflush is disabled. Entries are kept for the "
            "clinic's record-keeping period; see docs/audit.md.")
