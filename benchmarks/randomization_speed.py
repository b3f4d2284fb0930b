"""Cost of one randomization, as the studies app pays it inside its locked transaction.

Usage::

    python benchmarks/randomization_speed.py [--sizes 100,1000,5000] [--repeat 20]

``allocate`` is a pure function of the earlier subjects, so one call reads all of them: its
time grows linearly with the study's size. For each size this prints the median and the
95th percentile milliseconds of one ``allocate`` call (permuted blocks stratified by site and
sex; minimization on three factors), one ``balance_report`` over the whole study, and one
``sample_size_parallel`` / ``sample_size_paired`` for comparison.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anagen.evidence.power import sample_size_paired, sample_size_parallel  # noqa: E402
from anagen.evidence.randomization import (  # noqa: E402
    RandomizationSpec,
    _block,
    allocate,
    balance_report,
    permuted_block_sequence,
    stratum_key,
)


def _subjects(n: int) -> list[dict[str, str]]:
    rng = random.Random(1)
    return [
        {"sex": rng.choice("MF"), "stage": rng.choice(["mild", "moderate", "severe"]),
         "site": rng.choice(["BHM", "LDN", "MAN", "LEE"])}
        for _ in range(n + 1)
    ]


def _previous(spec: RandomizationSpec, people: list[dict[str, str]]) -> list[tuple[dict[str, str], str]]:
    """Earlier subjects with plausible arms, built without calling allocate n times."""
    if spec.algorithm == "permuted_blocks":
        sequences: dict[str, object] = {}
        out = []
        for f in people:
            key = stratum_key(spec, f)
            seq = sequences.setdefault(key, permuted_block_sequence(spec, key))
            out.append((f, next(seq)[0]))  # type: ignore[call-overload]
        return out
    return [(f, spec.arms[i % 2]) for i, f in enumerate(people)]


def _time_ms(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        _block.cache_clear()  # a fresh worker process has no cached blocks
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    specs = {
        "blocks, strata site x sex": RandomizationSpec(
            algorithm="permuted_blocks", arms=("A", "B"), ratio=(1, 1), seed=1, strata_factors=("site", "sex")),
        "minimization, 3 factors": RandomizationSpec(
            algorithm="minimization", arms=("A", "B"), ratio=(1, 1), seed=1,
            minimization_factors=("sex", "stage", "site")),
    }
    print(f"{'scheme':28} {'earlier':>8} {'allocate p50':>13} {'p95':>8} {'report p50':>11}")
    for n in sizes:
        people = _subjects(n)
        for name, spec in specs.items():
            previous = _previous(spec, people[:n])
            new = people[n]
            a50, a95 = _time_ms(lambda: allocate(spec, factors=new, previous=previous), args.repeat)
            r50, _ = _time_ms(lambda: balance_report(spec, previous), max(3, args.repeat // 5))
            print(f"{name:28} {n:8d} {a50:10.2f} ms {a95:5.2f} ms {r50:8.1f} ms")
    p50, _ = _time_ms(lambda: sample_size_parallel(difference=14.7, sd=25.4, sd_control=21.7), args.repeat)
    q50, _ = _time_ms(lambda: sample_size_paired(difference=10, sd=20), args.repeat)
    print(f"sample_size_parallel (Welch) p50 {p50:.2f} ms; sample_size_paired p50 {q50:.2f} ms")


if __name__ == "__main__":
    main()
