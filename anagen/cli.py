"""The ``anagen`` console command.

``anagen trichoscopy ...`` runs the image engine and ``anagen evidence ...`` the statistics
library, both without Django; every other word is a Django
management command (``anagen migrate``, ``anagen runserver``, ``anagen demo``,
``anagen token create --user EMAIL``).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "trichoscopy":
        from anagen.trichoscopy.cli import main as trichoscopy_main

        return trichoscopy_main(argv[1:])
    if argv and argv[0] == "evidence":
        from anagen.evidence.cli import main as evidence_main

        return evidence_main(argv[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["anagen", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
