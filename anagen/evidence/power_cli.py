"""``anagen evidence power``: sample size for a parallel or split-scalp hair-count study.

``power --design parallel --difference D --sd S [--sd-control S2] [--ratio K] [--rho R]``
    Subjects per arm (``n_per_arm``) for a parallel study; ``--rho`` makes it ANCOVA on
    baseline, ``--ratio`` is treatment : control.
``power --design split-scalp --difference D --sd S``
    Subjects (``n_subjects``) for a split-scalp study; ``--sd`` is the SD of the
    within-patient difference.
``power --table``
    The planning table from published SDs (Olsen et al. 2002; split-scalp scenarios).

Common options: ``--alpha`` (0.05), ``--power`` (0.8), ``--dropout`` (0; the table's 0.1), ``--measurement-sd``
(0, the hair counter's SD per counted image), ``--one-sided``, ``--json``. Bad input exits 2
with a one-line message.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from anagen.evidence.power import planning_table, sample_size_paired, sample_size_parallel

PROG = "anagen evidence power"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        raise _UsageError(message)


def _parser() -> _Parser:
    p = _Parser(prog=PROG, description="Sample size and power for hair-count studies.")
    p.add_argument("--design", choices=["parallel", "split-scalp"], help="study design")
    p.add_argument("--table", action="store_true", help="print the planning table from published SDs")
    p.add_argument("--difference", type=float, help="difference to detect (e.g. hairs/cm²)")
    p.add_argument("--sd", type=float, help="SD (parallel: treatment arm; split-scalp: within-patient difference)")
    p.add_argument("--sd-control", type=float, help="parallel: SD of the control arm (default: --sd)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--power", type=float, default=0.8, help="target power (default 0.8)")
    p.add_argument("--dropout", type=float, help="expected drop-out proportion, e.g. 0.1 (default 0; table 0.1)")
    p.add_argument("--ratio", type=float, help="parallel: allocation ratio treatment:control (default 1)")
    p.add_argument("--rho", type=float, help="parallel: baseline to follow-up correlation, for ANCOVA")
    p.add_argument("--measurement-sd", type=float, default=0.0, help="hair counter SD per counted image")
    p.add_argument("--one-sided", action="store_true", help="one-sided test (default two-sided)")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def _compute(args: argparse.Namespace) -> Any:
    common = {"alpha": args.alpha, "power": args.power}
    if args.dropout is not None:
        common["dropout"] = args.dropout
    if args.table:
        for flag in ("design", "difference", "sd", "sd_control", "ratio", "rho"):
            if getattr(args, flag) is not None:
                option = "--" + flag.replace("_", "-")
                raise _UsageError(f"--table takes only --alpha, --power, --dropout and --json, not {option}")
        return planning_table(**common)
    if args.design is None:
        raise _UsageError("give --design parallel or --design split-scalp (or --table)")
    for flag in ("difference", "sd"):
        if getattr(args, flag) is None:
            raise _UsageError(f"--{flag} is required for --design {args.design}")
    alternative = "one-sided" if args.one_sided else "two-sided"
    if args.design == "split-scalp":
        for flag in ("sd_control", "ratio", "rho"):
            if getattr(args, flag) is not None:
                raise _UsageError(
                    f"--{flag.replace('_', '-')} applies only to --design parallel; for split-scalp "
                    "--sd is the SD of the within-patient difference"
                )
        return sample_size_paired(
            difference=args.difference, sd=args.sd, measurement_sd=args.measurement_sd,
            alternative=alternative, **common,
        )
    return sample_size_parallel(
        difference=args.difference, sd=args.sd, sd_control=args.sd_control,
        ratio=1.0 if args.ratio is None else args.ratio, rho=args.rho,
        measurement_sd=args.measurement_sd, alternative=alternative, **common,
    )


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_result(data: dict[str, Any]) -> None:
    width = max(len(k) for k in data)
    for key, value in data.items():
        print(f"{key.ljust(width)}  {_fmt(value)}")


def _print_table(rows: tuple[Any, ...]) -> None:
    header = ("scenario", "design", "difference", "SD", "n to enrol", "evaluable", "power")
    lines = [header]
    for row in rows:
        r = row.result
        if r.design == "parallel":
            sd = _fmt(r.sd) if r.sd == r.sd_control else f"{_fmt(r.sd)}/{_fmt(r.sd_control)}"
            enrol = str(r.n_per_arm) + " per arm" if r.n_per_arm else f"{r.n_treatment}+{r.n_control}"
            evaluable = f"{r.n_evaluable_treatment}+{r.n_evaluable_control}"
        else:
            sd, enrol, evaluable = _fmt(r.sd), f"{r.n_subjects} subjects", str(r.n_evaluable_subjects)
        lines.append((row.label, r.design, _fmt(r.difference), sd, enrol, evaluable, f"{r.achieved_power:.3f}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
    if rows:
        r = rows[0].result
        print(f"alpha {r.alpha:g}, target power {r.power:g}; sources: {rows[0].source}; "
              "split-scalp SDs 20-25 hairs/cm²")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        result = _compute(args)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except (_UsageError, ValueError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.json:
            data = [row.to_dict() for row in result] if isinstance(result, tuple) else result.to_dict()
            print(json.dumps(data, indent=2))
        elif isinstance(result, tuple):
            _print_table(result)
        else:
            _print_result(result.to_dict())
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
    return 0


if __name__ == "__main__":
    sys.exit(main())
