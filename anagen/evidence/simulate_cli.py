"""``anagen evidence simulate``: write a simulated study dataset (CSV) from a design and a seed."""

from __future__ import annotations

from anagen.evidence._args import Parser, fail
from anagen.evidence.dataset import DESIGNS, to_csv
from anagen.evidence.simulate import StudySpec, simulate_study

PROG = "anagen evidence simulate"


def _weeks(text: str) -> tuple[int, ...]:
    try:
        weeks = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise ValueError(f"--visits takes whole weeks separated by commas, e.g. 12,24,48; not {text!r}") from None
    return weeks


def main(argv: list[str]) -> int:
    defaults = StudySpec()
    p = Parser(prog=PROG, description="Simulate a parallel or split-scalp study into a dataset CSV "
                                      "(columns in docs/evidence.md). Densities in hairs/cm2.")
    p.add_argument("--design", choices=DESIGNS, required=True)
    p.add_argument("--n", type=int, required=True, help="subjects per arm (split-scalp: subjects)")
    p.add_argument("--effect", type=float, required=True,
                   help="true difference in mean change, active minus control, at the last visit")
    p.add_argument("--sd", type=float, default=defaults.sd_change, help="SD of a subject's change (default %(default)s)")
    p.add_argument("--correlation", type=float, default=defaults.correlation,
                   help="correlation of two changes of one subject: sides or visits (default %(default)s)")
    p.add_argument("--sd-baseline", type=float, default=defaults.sd_baseline,
                   help="between-subject SD of baseline density (default %(default)s)")
    p.add_argument("--measurement-sd", type=float, default=defaults.sd_measurement,
                   help="the counter's measurement error SD per reading (default %(default)s)")
    p.add_argument("--control-change", type=float, default=defaults.control_change,
                   help="true mean change in the control arm at the last visit (default %(default)s)")
    p.add_argument("--dropout", type=float, default=defaults.dropout, help="share lost to follow-up (default %(default)s)")
    p.add_argument("--visits", default=",".join(str(w) for w in defaults.visit_weeks),
                   help="visit weeks, comma-separated (default %(default)s)")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True, help="the dataset CSV to write")
    args = p.parse_args(argv)
    try:
        spec = StudySpec(design=args.design, n_per_arm=args.n, effect=args.effect, sd_change=args.sd,
                         correlation=args.correlation, sd_baseline=args.sd_baseline,
                         sd_measurement=args.measurement_sd, control_change=args.control_change,
                         dropout=args.dropout, visit_weeks=_weeks(args.visits))
        df = simulate_study(spec, seed=args.seed)
    except ValueError as exc:
        return fail(PROG, str(exc))
    try:
        to_csv(df, args.out)
    except OSError as exc:
        return fail(PROG, f"cannot write {args.out}: {exc.strerror or exc}")
    print(f"wrote {len(df)} rows ({df['subject'].nunique()} subjects, {args.design}, visits at weeks "
          f"{', '.join(str(w) for w in sorted(spec.visit_weeks))}) to {args.out}")
    return 0
