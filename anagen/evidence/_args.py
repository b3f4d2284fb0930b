"""Argument parsing for the ``anagen evidence`` commands: one clear line on bad input, exit 2."""

from __future__ import annotations

import argparse
import sys


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (``prog: error: ...``) and exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def fail(prog: str, message: str) -> int:
    """Print ``message`` as one line on stderr and return exit code 2."""
    print(f"{prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2
