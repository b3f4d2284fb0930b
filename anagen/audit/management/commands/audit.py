"""``anagen audit verify [--against HEADFILE]`` and ``anagen audit head [--out FILE]``."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from anagen.audit.chain import export_head, verify


class Command(BaseCommand):
    help = "Check the audit trail's hash chains, or print / write their heads."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("verify", help="Walk every chain; exit 1 at the first problem of each.")
        v.add_argument("--against", metavar="HEADFILE", help="A head written earlier by `anagen audit head --out`.")
        h = sub.add_parser("head", help="Print the chains' heads as JSON (and write them with --out).")
        h.add_argument("--out", metavar="FILE")

    def handle(self, *args, **options):
        if options["action"] == "head":
            data = export_head(options.get("out"))
            self.stdout.write(json.dumps(data, indent=2))
            return
        against = None
        if options.get("against"):
            path = Path(options["against"])
            try:
                against = json.loads(path.read_text())
                if not isinstance(against.get("chains"), dict):
                    raise ValueError
            except (OSError, ValueError, AttributeError):
                raise CommandError(f"{path} is not a head file written by `anagen audit head --out`.") from None
        problems = verify(against=against)
        if problems:
            for p in problems:
                self.stderr.write(str(p))
            raise CommandError(f"The audit trail FAILED verification: {len(problems)} problem(s).")
        from anagen.audit.models import ChainLink

        self.stdout.write(f"The audit trail is intact: {ChainLink.objects.count()} entries verified"
                          + (" against the head file." if against else "."))
