"""``anagen evidence analyze``: the primary analysis of a study dataset CSV.

Split-scalp: the paired difference with its 95 % interval and the Wilcoxon signed-rank test;
parallel: ANCOVA on baseline. ``--json`` prints the result as JSON (with the library version).
"""

from __future__ import annotations

import json

from anagen.evidence._args import Parser, fail
from anagen.evidence.analysis import primary_analysis
from anagen.evidence.dataset import ANALYSIS_SETS, DESIGNS, DatasetError, read_dataset

PROG = "anagen evidence analyze"


def _fmt(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _p(p: float | None) -> str:
    if p is None:
        return "p n/a"
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.4f}"


def main(argv: list[str]) -> int:
    p = Parser(prog=PROG, description="Primary analysis of a study dataset (columns in docs/evidence.md).")
    p.add_argument("dataset", help="the study dataset CSV")
    p.add_argument("--design", choices=DESIGNS, help="refuse the file unless it is this design")
    p.add_argument("--visit", type=int, help="visit week to analyse (default: the last)")
    p.add_argument("--set", dest="analysis_set", choices=sorted(ANALYSIS_SETS), default="itt",
                   help="analysis set (default itt: intention-to-treat)")
    p.add_argument("--endpoint", help="endpoint to analyse when the file holds several")
    p.add_argument("--active", help="the active arm (default: the arm that is not the control)")
    p.add_argument("--control", help="the control arm (default: placebo/control/vehicle/sham)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    args = p.parse_args(argv)
    try:
        df = read_dataset(args.dataset)
        result = primary_analysis(df, visit_week=args.visit, analysis_set=args.analysis_set, endpoint=args.endpoint,
                                  active=args.active, control=args.control, design=args.design)
    except (DatasetError, ValueError) as exc:
        return fail(PROG, str(exc))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(f"{result.design} study, {result.endpoint} at week {result.visit_week}, "
          f"{ANALYSIS_SETS[result.analysis_set]} set")
    for r in result.results:
        print(f"  {r.method}: {r.contrast} = {_fmt(r.estimate)} "
              f"(95% CI {_fmt(r.ci[0])} to {_fmt(r.ci[1])}), {_p(r.p_value)}, n = {r.n}, missing = {r.n_missing}"
              + (f"  [{r.note}]" if r.note else ""))
    return 0
