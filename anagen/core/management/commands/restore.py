"""``anagen restore DIR``: load a backup into an empty installation, then verify it."""

from django.core.management.base import BaseCommand, CommandError

from anagen.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup written by `anagen backup` into an empty installation and verify it."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="the backup's folder (it holds manifest.json)")

    def handle(self, *args, **opts):
        try:
            report = restore(opts["folder"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if report.problems:
            for p in report.problems:
                self.stderr.write(p)
            raise CommandError(f"Restored, but verification FAILED: {len(report.problems)} problem(s).")
        self.stdout.write(f"Restored and verified: {report.audit_entries} audit entries intact, "
                          f"{report.files} media files match their checksums.")
