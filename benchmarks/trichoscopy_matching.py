"""Hair-to-hair matching across visits on synthetic visit pairs with known change.

Usage::

    python benchmarks/trichoscopy_matching.py [--pairs 40] [--retest 30] [--seed 1]

Change pairs: ``generate_visit_pair`` with 18 baseline hairs, 0 to 5 lost and 0 to 5 new,
the follow-up shifted by up to 12 px and turned by up to 3 degrees. The true change is
``new - lost``. For each pair the error of three measured changes is printed:

- *matched*: ``match_visits``' ``matched_change`` (new minus lost over the common field);
- *counts in common field*: ``count_change``, the two independent counts over the same field;
- *counts, whole images*: follow-up ``hair_count`` minus baseline ``hair_count``, what the
  clinic reports without matching.

Test-retest pairs: the same area photographed twice (no hair lost or new), shifted and
turned the same way: the share of pairs whose change is within 1 % of the baseline count,
the mean absolute change in hairs and as a percentage of the baseline count (the true
change is 0). A second test-retest set re-images with a larger shift (up to 40 px, 0.2 mm),
the same turn and a lighting change of up to 15 % (``generate_visit_pair(lighting=...)``).
Time per pair: the matching alone (both analyses given) and
with the two analyses.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anagen.trichoscopy import Profile, analyze, match_visits  # noqa: E402
from anagen.trichoscopy.synthetic import generate_visit_pair  # noqa: E402

PROFILE = Profile(name="synthetic-200", px_per_mm=200.0)
MEASURES = (("matched", "matched"), ("counts in common field", "field"), ("counts, whole images", "whole"))


def one(seed: int, lost: int, new: int, shift: tuple[float, float], rotation: float, lighting: float = 0.0) -> dict:
    base, follow = generate_visit_pair(seed=seed, n_hairs=18, lost=lost, new=new, shift_px=shift, rotation_deg=rotation,
                                       lighting=lighting)
    t0 = time.perf_counter()
    a = analyze(base.image, PROFILE)
    b = analyze(follow.image, PROFILE)
    t1 = time.perf_counter()
    m = match_visits(a, b, PROFILE, baseline_image=base.image, followup_image=follow.image)
    t2 = time.perf_counter()
    return {
        "truth": new - lost, "matched": m.matched_change, "field": m.count_change,
        "whole": b.hair_count - a.hair_count, "baseline_count": m.baseline_count,
        "kept": m.kept, "true_kept": 18 - lost,
        "match_ms": (t2 - t1) * 1000, "total_ms": (t2 - t0) * 1000,
        "rotation_err": abs(m.rotation_deg - rotation),
    }


def draw(rng) -> tuple[tuple[float, float], float]:
    return (float(rng.uniform(-12, 12)), float(rng.uniform(-12, 12))), float(rng.uniform(-3, 3))


def errors(rows: list[dict], key: str) -> tuple[float, float, float, float]:
    err = np.array([r[key] - r["truth"] for r in rows], dtype=float)
    return (float(np.mean(np.abs(err))), float(np.sqrt(np.mean(err**2))), float(np.mean(err)),
            100.0 * float(np.mean(err == 0)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--retest", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    change = []
    for k in range(args.pairs):
        shift, rot = draw(rng)
        change.append(one(1000 + k, int(rng.integers(0, 6)), int(rng.integers(0, 6)), shift, rot))
    retest = []
    for k in range(args.retest):
        shift, rot = draw(rng)
        retest.append(one(5000 + k, 0, 0, shift, rot))
    hard_rng = np.random.default_rng([args.seed, 2])
    retest_hard = []
    for k in range(args.retest):
        shift = (float(hard_rng.uniform(-40, 40)), float(hard_rng.uniform(-40, 40)))
        turn, lighting = float(hard_rng.uniform(-3, 3)), float(hard_rng.uniform(-0.15, 0.15))
        retest_hard.append(one(7000 + k, 0, 0, shift, turn, lighting))

    print(f"change pairs: {len(change)} (18 baseline hairs, 0-5 lost, 0-5 new, shift <= 12 px, turn <= 3 deg)")
    print(f"{'measured change':<26} {'MAE':>6} {'RMSE':>6} {'bias':>6} {'exact %':>8}")
    for label, key in (("matched", "matched"), ("counts in common field", "field"), ("counts, whole images", "whole")):
        mae, rmse, bias, exact = errors(change, key)
        print(f"{label:<26} {mae:>6.2f} {rmse:>6.2f} {bias:>+6.2f} {exact:>8.1f}")
    differ = sum(r["matched"] != r["field"] for r in change)
    print(f"pairs where matched and common-field counts differ: {differ}")
    kept_err = np.array([r["kept"] - r["true_kept"] for r in change])
    print(f"kept hairs: mean error {kept_err.mean():+.2f}, MAE {np.abs(kept_err).mean():.2f}")
    print(f"rotation error: median {np.median([r['rotation_err'] for r in change]):.2f} deg, "
          f"max {max(r['rotation_err'] for r in change):.2f} deg")
    for rows, what in ((retest, "shift <= 12 px, turn <= 3 deg"),
                       (retest_hard, "shift <= 40 px, turn <= 3 deg, lighting +-15 %")):
        print()
        print(f"test-retest pairs: {len(rows)} (same 18 hairs re-imaged, {what}; true change 0)")
        print(f"{'measured change':<26} {'within 1 %':>10} {'MAE':>6} {'% of count':>10} {'max':>5}")
        for label, key in MEASURES:
            ok = np.mean([abs(r[key]) <= 0.01 * max(r["baseline_count"], 1) for r in rows]) * 100
            vals = np.abs([r[key] for r in rows])
            pct = np.mean([100.0 * abs(r[key]) / max(r["baseline_count"], 1) for r in rows])
            print(f"{label:<26} {ok:>9.1f}% {vals.mean():>6.2f} {pct:>9.1f}% {vals.max():>5.0f}")
    print()
    ms = np.array([r["match_ms"] for r in change + retest + retest_hard])
    tot = np.array([r["total_ms"] for r in change + retest + retest_hard])
    print(f"time per pair (640 x 512): matching {np.median(ms):.0f} ms median, {np.percentile(ms, 95):.0f} ms p95; "
          f"with both analyses {np.median(tot):.0f} ms median")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
