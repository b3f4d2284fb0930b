"""What the engine makes of the synthetic generator's harder cases, by kind of field.

Usage::

    python benchmarks/trichoscopy_synthetic_cases.py [--seeds 60-67] [--hairs 14]

Each row is a kind of field (`generate_scalp`, 200 px/mm, light skin unless stated, no
vellus, crossings or touching pairs): plain; every hair glossy; two pressed pairs and
one pressed triple; empty openings and flakes; border hairs; grey and blond hair on
light, medium and dark skin; and a bare field (no hair at all, openings, flakes, glare
and bubbles) on light and dark skin. It prints, as means per field over the seeds, the
true number of hairs, the engine's `hair_count` and its error, the rule's true count
(`counted_count`), the engine's `rule_count` and the rule's mean absolute error, and for
the pressed groups how many of the true groups were read as one shaft of 2 or 3 hairs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anagen.trichoscopy import Profile, analyze  # noqa: E402
from anagen.trichoscopy.synthetic import generate_scalp  # noqa: E402

PX_PER_MM = 200.0
BASE = dict(px_per_mm=PX_PER_MM, vellus_fraction=0.0, crossings=0, parallel_pairs=0)
BARE = dict(px_per_mm=PX_PER_MM, n_hairs=0, crossings=0, parallel_pairs=0, empty_openings=8, flakes=6,
            glare=3, bubbles=2, jpeg_quality=80, noise=4)


def cases(hairs: int) -> list[tuple[str, dict]]:
    rows = [
        ("plain", {}),
        ("glossy (every hair)", {"glossy_fraction": 1.0}),
        ("2 pressed pairs and 1 pressed triple", {"pressed_pairs": 2, "pressed_triples": 1}),
        ("6 empty openings and 6 flakes", {"empty_openings": 6, "flakes": 6}),
        ("8 border hairs", {"border_hairs": 8}),
    ]
    for colour in ("grey", "blond"):
        for tone in ("light", "medium", "dark"):
            rows.append((f"{colour} hair, {tone} skin", {"hair_colours": (colour,), "skin_tone": tone}))
    out = [(name, {**BASE, "n_hairs": hairs, **extra}) for name, extra in rows]
    out += [(f"bare field, {tone} skin (openings, flakes, glare, bubbles)", {**BARE, "skin_tone": tone})
            for tone in ("light", "dark")]
    return out


def pressed_found(sample, result) -> tuple[int, int]:
    """True pressed groups, and how many of them lie under a detected hair of a shaft
    read as 2 or more (its midpoint within a shaft width of the group's axis)."""
    groups: dict[int, list] = {}
    for t in sample.truth.hairs:
        groups.setdefault(t.unit, []).append(t)
    groups = {u: g for u, g in groups.items() if len(g) > 1}
    found = 0
    multi = [h for h in result.hairs if h.multiplicity >= 2]
    for g in groups.values():
        root = np.mean([t.root for t in g], axis=0)
        tip = np.mean([t.tip for t in g], axis=0)
        mid = (root + tip) / 2
        width = max(t.width_px for t in g)
        if any(np.hypot(*(np.array(h.midpoint) - mid)) < 2 * width + 0.1 * np.hypot(*(tip - root)) for h in multi):
            found += 1
    return len(groups), found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="60-67", help="a range, e.g. 60-67")
    parser.add_argument("--hairs", type=int, default=14)
    args = parser.parse_args(argv)
    lo, hi = (int(x) for x in args.seeds.split("-"))
    seeds = range(lo, hi + 1)
    profile = Profile(name="synthetic-200", px_per_mm=PX_PER_MM)
    print(f"seeds {lo} to {hi}, {args.hairs} hairs per field unless bare; means per field")
    print("| field | true hairs | `hair_count` | error | true `counted_count` | `rule_count` | rule MAE | "
          "pressed groups read as 2+ |")
    print("|---|---|---|---|---|---|---|---|")
    for name, kwargs in cases(args.hairs):
        true, got, true_rule, got_rule, groups, found = [], [], [], [], 0, 0
        for seed in seeds:
            sample = generate_scalp(seed=seed, **kwargs)
            result = analyze(sample.image, profile)
            true.append(sample.truth.hair_count)
            got.append(result.hair_count)
            true_rule.append(sample.truth.counted_count)
            got_rule.append(result.rule_count)
            g, f = pressed_found(sample, result)
            groups += g
            found += f
        t, c = np.array(true, float), np.array(got, float)
        tr, cr = np.array(true_rule, float), np.array(got_rule, float)
        pressed = f"{found} of {groups}" if groups else ""
        print(f"| {name} | {t.mean():.1f} | {c.mean():.1f} | {np.mean(c - t):+.2f} | {tr.mean():.1f} | "
              f"{cr.mean():.1f} | {np.mean(np.abs(cr - tr)):.2f} | {pressed} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
