"""``anagen evidence ...``: the evidence library for a statistician without the web app.

Each subcommand lives in its own module and registers itself in ``SUBCOMMANDS`` as
``name -> "module:function"``; the function takes the remaining arguments and returns an exit
code.
"""

from __future__ import annotations

import sys
from importlib import import_module

SUBCOMMANDS: dict[str, str] = {}
SUBCOMMANDS["power"] = "anagen.evidence.power_cli:main"  # sample size and power
SUBCOMMANDS["simulate"] = "anagen.evidence.simulate_cli:main"
SUBCOMMANDS["analyze"] = "anagen.evidence.analyze_cli:main"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in SUBCOMMANDS:
        names = ", ".join(sorted(SUBCOMMANDS)) or "(none yet)"
        stream = sys.stdout if argv and argv[0] in {"-h", "--help"} else sys.stderr
        if argv and argv[0] not in {"-h", "--help"}:
            print(f"anagen evidence: unknown command {argv[0]!r}.", file=stream)
        print(f"usage: anagen evidence COMMAND ...   commands: {names}", file=stream)
        return 0 if stream is sys.stdout else 2
    module_name, _, func_name = SUBCOMMANDS[argv[0]].partition(":")
    return int(getattr(import_module(module_name), func_name)(argv[1:]) or 0)
