"""Evidence library: do the trial analyses keep their promises on simulated studies, and how
fast is the mixed model? Prints numbers; it is not a test.

For each scenario (split-scalp and parallel; no effect and a realistic effect) it simulates
``--studies`` studies with ``anagen.evidence.simulate`` and analyses each with the library's
primary analysis at the last visit (split-scalp: paired t and Wilcoxon signed-rank; parallel:
ANCOVA), then prints:

- coverage: the share of 95 % intervals that contain the true effect (should be 95 %; with
  2,000 studies the accepted band 93.6-96.4 % is about ±3 binomial standard errors);
- the rejection rate at alpha 0.05: the type I error without an effect (about 5 %), the
  empirical power with one;
- the planned power for the same design, computed with ``statsmodels.stats.power`` directly on
  the expected number analysed (n x (1 - drop-out)) and the SD of the analysed difference, and
  through the library's ``anagen.evidence.power`` with the same inputs.

Then it times a 1,000-subject x 6-visit repeated-measures mixed model through the library
against ``statsmodels`` called directly (the formula interface a statistician would use, and
``MixedLM`` on prepared arrays).

    .venv/bin/python benchmarks/evidence_simulation.py [--studies 2000] [--quick] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import statsmodels.api as sm  # noqa: E402
import statsmodels.formula.api as smf  # noqa: E402
from statsmodels.stats.power import TTestIndPower, TTestPower  # noqa: E402

from anagen.evidence import analysis, power  # noqa: E402
from anagen.evidence.simulate import StudySpec, simulate_study  # noqa: E402

ALPHA = 0.05
# Minoxidil 5 % against placebo at 48 weeks (+18.6 against +3.9 hairs/cm²): a 14.7 difference.
REALISTIC_EFFECT = 14.7


def planned_power(spec: StudySpec, effect: float) -> float:
    """Power by the textbook t-test formula, as a protocol would plan it."""
    n_analysed = spec.n_per_arm * (1 - spec.dropout)
    if spec.design == "parallel":
        # an observed change has SD √(sd_change² + 2·sd_measurement²)
        sd = math.sqrt(spec.sd_change**2 + 2 * spec.sd_measurement**2)
        return float(TTestIndPower().power(effect_size=effect / sd, nobs1=n_analysed, alpha=ALPHA, ratio=1.0))
    # the within-subject difference of two changes: the subject effect cancels, the residuals
    # (1 - ρ)·sd_change² and four readings' measurement error do not
    sd = math.sqrt(2 * (1 - spec.correlation) * spec.sd_change**2 + 4 * spec.sd_measurement**2)
    return float(TTestPower().power(effect_size=effect / sd, nobs=n_analysed, alpha=ALPHA))


def planned_power_library(spec: StudySpec, effect: float) -> float:
    """The same plan through the library's own power functions (``anagen.evidence.power``)."""
    n_analysed = spec.n_per_arm * (1 - spec.dropout)
    if spec.design == "parallel":
        return power.power_parallel(difference=effect, sd=spec.sd_change, n_treatment=n_analysed,
                                    measurement_sd=spec.sd_measurement, alpha=ALPHA)
    sd_difference = math.sqrt(2 * (1 - spec.correlation)) * spec.sd_change
    return power.power_paired(difference=effect, sd=sd_difference, n=n_analysed, measurement_sd=spec.sd_measurement,
                              alpha=ALPHA)


def run_scenario(name: str, spec: StudySpec, n_studies: int, seed: int) -> dict:
    truth = spec.effect_at(spec.last_week)
    covered = rejected = rejected_w = 0
    estimates = []
    start = time.perf_counter()
    for i in range(n_studies):
        df = simulate_study(spec, seed=seed * 1_000_003 + i)
        if spec.design == "split-scalp":
            r = analysis.paired_difference(df)
            w = analysis.wilcoxon_signed_rank(df)
            rejected_w += w.p_value is not None and w.p_value < ALPHA
        else:
            r = analysis.ancova(df)
        covered += r.ci[0] is not None and r.ci[0] <= truth <= r.ci[1]
        rejected += r.p_value is not None and r.p_value < ALPHA
        estimates.append(r.estimate)
    seconds = time.perf_counter() - start
    return {
        "scenario": name, "studies": n_studies, "truth": truth, "mean_estimate": statistics.fmean(estimates),
        "coverage": covered / n_studies, "rejection": rejected / n_studies,
        "rejection_wilcoxon": rejected_w / n_studies if spec.design == "split-scalp" else None,
        "planned_power": planned_power(spec, truth) if truth else ALPHA,
        "planned_power_library": planned_power_library(spec, truth) if truth else ALPHA, "ms_per_study": 1000 * seconds / n_studies,
    }


def time_mixed_model(repeats: int, seed: int) -> dict:
    spec = StudySpec(n_per_arm=500, visit_weeks=(4, 8, 12, 24, 36, 48), dropout=0.1)
    df = simulate_study(spec, seed=seed)

    def library():
        return analysis.repeated_mixed_model(df)

    def direct_formula():
        d = df.assign(change=df["value"] - df["baseline"], treated=(df["arm"] == "active").astype(float))
        d = d.dropna(subset=["change"])
        return smf.mixedlm("change ~ 0 + C(visit_week) + C(visit_week):treated + C(visit_week):baseline", d,
                           groups=d["subject"]).fit(reml=True)

    d = df.assign(change=df["value"] - df["baseline"], treated=(df["arm"] == "active").astype(float))
    d = d.dropna(subset=["change"])
    endog, exog, names = analysis._repeated_design(d["change"].to_numpy(), d["visit_week"].to_numpy(),
                                                   d["treated"].to_numpy(), d["baseline"].to_numpy(),
                                                   sorted(set(d["visit_week"])))
    groups = d["subject"].to_numpy()

    def direct_arrays():
        return sm.MixedLM(endog, exog, groups=groups).fit(reml=True)

    times = {}
    for label, fn in (("library", library), ("statsmodels formula", direct_formula),
                      ("statsmodels arrays", direct_arrays)):
        fn()  # warm-up
        runs = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - t)
        times[label] = statistics.median(runs)
    lib = library().effects[-1]
    ref = direct_formula()
    agree = abs(lib.estimate - ref.fe_params["C(visit_week)[48]:treated"])
    return {"rows": int(len(d)), "subjects": int(d["subject"].nunique()), "times": times, "agreement": agree}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--studies", type=int, default=2000, help="studies per scenario (default 2000)")
    p.add_argument("--quick", action="store_true", help="200 studies per scenario and one timing run")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    n = 200 if args.quick else args.studies
    repeats = 1 if args.quick else 3

    split = StudySpec(design="split-scalp", n_per_arm=25)
    parallel = StudySpec(design="parallel", n_per_arm=40)
    scenarios = [
        ("split-scalp, no effect", replace(split, effect=0.0)),
        (f"split-scalp, effect {REALISTIC_EFFECT}", replace(split, effect=REALISTIC_EFFECT)),
        ("parallel, no effect", replace(parallel, effect=0.0)),
        (f"parallel, effect {REALISTIC_EFFECT}", replace(parallel, effect=REALISTIC_EFFECT)),
    ]
    print(f"Evidence library simulation: {n} studies per scenario, seed {args.seed}")
    print(f"Design: split-scalp 25 subjects, parallel 40 per arm; visits 12, 24, 48 weeks; SD of change 22, "
          f"correlation 0.5, measurement SD 5, drop-out 10 %; analysis at week 48 (ITT)")
    print()
    header = (f"{'scenario':<28} {'true':>6} {'mean est':>9} {'95% CI coverage':>16} {'reject p<0.05':>14} "
              f"{'Wilcoxon':>9} {'planned power':>14} {'power.py':>9} {'ms/study':>9}")
    print(header)
    print("-" * len(header))
    total = time.perf_counter()
    for i, (name, spec) in enumerate(scenarios):
        r = run_scenario(name, spec, n, args.seed + i)
        wil = "" if r["rejection_wilcoxon"] is None else f"{100 * r['rejection_wilcoxon']:.1f}%"
        planned = "(alpha)" if not r["truth"] else f"{100 * r['planned_power']:.1f}%"
        planned_lib = "" if not r["truth"] else f"{100 * r['planned_power_library']:.1f}%"
        print(f"{name:<28} {r['truth']:>6.1f} {r['mean_estimate']:>9.2f} {100 * r['coverage']:>15.1f}% "
              f"{100 * r['rejection']:>13.1f}% {wil:>9} {planned:>14} {planned_lib:>9} {r['ms_per_study']:>9.1f}")
    se = math.sqrt(0.95 * 0.05 / n)
    print(f"\n(with {n} studies a true 95 % coverage reads between {100 * (0.95 - 1.96 * se):.1f} % and "
          f"{100 * (0.95 + 1.96 * se):.1f} % in 95 of 100 runs; a 5 % error rate between "
          f"{100 * max(0.0, 0.05 - 1.96 * math.sqrt(0.05 * 0.95 / n)):.1f} % and "
          f"{100 * (0.05 + 1.96 * math.sqrt(0.05 * 0.95 / n)):.1f} %)")
    print(f"simulation and analysis: {time.perf_counter() - total:.1f} s")

    print("\nRepeated-measures mixed model, 1,000 subjects x 6 visits (median of "
          f"{repeats} run{'s' if repeats > 1 else ''}):")
    m = time_mixed_model(repeats, args.seed)
    lib = m["times"]["library"]
    for label, seconds in m["times"].items():
        print(f"  {label:<22} {seconds:7.2f} s   {seconds / lib:5.2f} x the library")
    print(f"  rows fitted {m['rows']}, subjects {m['subjects']}; library vs formula effect at week 48 differs by "
          f"{m['agreement']:.1e}")
    print(f"  library / statsmodels formula: {lib / m['times']['statsmodels formula']:.2f}; "
          f"library / statsmodels arrays: {lib / m['times']['statsmodels arrays']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
