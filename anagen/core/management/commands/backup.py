"""``anagen backup [--out DIR]``: the database and media files, with a manifest of checksums."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from anagen.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "Write a consistent copy of the database and the media files, with SHA-256 checksums."

    def add_arguments(self, parser):
        parser.add_argument("--out", help="an empty or new folder (default: var/backups/<date-time>)")

    def handle(self, *args, **opts):
        out = Path(opts.get("out") or Path(settings.VAR_DIR) / "backups"
                   / timezone.now().strftime("anagen-%Y%m%d-%H%M%S"))
        try:
            manifest = backup(out)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Backed up the {manifest['vendor']} database and "
                          f"{sum(1 for k in manifest['files'] if k.startswith('media/'))} media files to {out}")
