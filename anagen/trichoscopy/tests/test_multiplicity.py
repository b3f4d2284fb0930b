"""One multiplicity decision per detected shaft (fixed seeds, synthetic scenes)."""

import json

import numpy as np
import pytest

from anagen.trichoscopy import ImageAnalysis, Profile, analyze
from anagen.trichoscopy.detect import DEFAULT_SETTINGS, DetectorSettings, ShaftEvidence, shaft_multiplicity
from anagen.trichoscopy.synthetic import _draw_hair, _finish, _skin

PX_PER_MM = 200.0
SPOTS = [(110, 130), (320, 130), (530, 130), (110, 380), (320, 380), (530, 380)]
COLOUR = (40, 30, 25)


def _scene(seed, kind, gap=1.0):
    """Six units: three of ``kind`` and three lone hairs (so the image has its own
    typical single width). ``gap`` is the spacing of the centres of hairs lying
    side by side, in hair widths (1.0: touching; less: pressed into each other).
    ``glossy`` is one thick hair with a light highlight along its axis."""
    rng = np.random.default_rng(seed)
    canvas = _skin(rng, (512, 640), (200, 160, 140))
    n = 0
    for i, (x, y) in enumerate(SPOTS):
        ang = np.radians(rng.uniform(-15, 15) + 90)
        d = np.array([np.cos(ang), np.sin(ang)])
        nrm = np.array([-d[1], d[0]])
        length = rng.uniform(0.6, 0.7) * PX_PER_MM
        root = np.array([x, y], float) - 0.5 * length * d
        k = kind if i < 3 else "single"
        width = rng.uniform(*((85, 95) if k == "glossy" else (65, 75))) / 1000 * PX_PER_MM
        m = {"single": 1, "glossy": 1, "pair": 2, "triple": 3}[k]
        for j in range(m):
            off = (j - (m - 1) / 2) * width * gap
            tip = root + off * nrm + length * rng.uniform(0.93, 1.0) * d
            _draw_hair(canvas, root + off * nrm, tip, width, COLOUR, 1.0)
        if k == "glossy":
            _draw_hair(canvas, root + 0.1 * length * d, root + 0.9 * length * d, 0.25 * width, (110, 95, 85), 0.6)
        n += m
    return _finish(rng, canvas, 1.0, 2.0, None, 0), n


@pytest.fixture(scope="module")
def profile():
    return Profile(name="synthetic-200", px_per_mm=PX_PER_MM)


def _units(result):
    """Multiplicity of each detected region (hairs of one region share its evidence)."""
    seen = {}
    for h in result.hairs:
        seen.setdefault(json.dumps(h.evidence, sort_keys=True), h.multiplicity)
    return sorted(seen.values())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_pressed_pair_counts_two(profile, seed):
    image, n_true = _scene(seed, "pair", gap=0.8)
    r = analyze(image, profile)
    assert r.hair_count == n_true == 9
    assert _units(r) == [1, 1, 1, 2, 2, 2]
    pair = next(h for h in r.hairs if h.multiplicity == 2)
    # Two hairs' centres: the peaks lie about one single width apart, and the
    # region is much wider than one hair.
    assert pair.evidence["peak_gap"] >= 0.85 and pair.evidence["physical_ratio"] >= 1.4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_glossy_single_with_a_central_highlight_counts_one(profile, seed):
    image, n_true = _scene(seed, "glossy")
    r = analyze(image, profile)
    assert r.hair_count == n_true == 6
    glossy = [h for h in r.hairs if h.evidence["peaks"] >= 2]
    # The highlight does split the cross-sections into two peaks, but they lie
    # closer than two hairs' centres and the shaft is not twice as wide.
    assert len(glossy) == 3 and all(h.multiplicity == 1 for h in glossy)
    assert all(h.evidence["peak_gap"] < DEFAULT_SETTINGS.pair_peak_gap for h in glossy)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_three_hairs_side_by_side_count_three(profile, seed):
    image, n_true = _scene(seed, "triple")
    r = analyze(image, profile)
    assert r.hair_count == n_true == 12
    assert _units(r) == [1, 1, 1, 3, 3, 3]


def test_the_decision_and_its_evidence_are_in_the_result_and_round_trip(profile):
    image, _ = _scene(0, "pair", gap=0.8)
    r = analyze(image, profile)
    data = json.loads(json.dumps(r.to_dict()))
    hair = next(h for h in data["hairs"] if h["multiplicity"] == 2)
    assert set(hair["evidence"]) == {
        "ends", "lines", "peaks", "peak_gap", "dip", "width_ratio", "subpixel_ratio", "physical_ratio", "length_ratio",
    }
    back = ImageAnalysis.from_dict(data)
    assert [h.multiplicity for h in back.hairs] == [h.multiplicity for h in r.hairs]
    assert [h.evidence for h in back.hairs] == [h["evidence"] for h in data["hairs"]]


def _ev(**kw):
    base = dict(ends=2, lines=1, peaks=1, peak_gap=0.0, dip=0.0, width_ratio=1.0, subpixel_ratio=1.0,
                physical_ratio=0.9, length_ratio=1.0)
    base.update(kw)
    return ShaftEvidence(**base)


def test_the_decision_weighs_each_kind_of_evidence():
    assert shaft_multiplicity(_ev()) == 1
    # Wide, with one peak per hair: as many hairs as fit.
    assert shaft_multiplicity(_ev(width_ratio=2.1, peaks=2, peak_gap=1.0, physical_ratio=1.8)) == 2
    assert shaft_multiplicity(_ev(width_ratio=3.2, peaks=3, peak_gap=2.1, physical_ratio=2.7)) == 3
    # Two peaks close together on a shaft of one hair's width: a highlight.
    assert shaft_multiplicity(_ev(width_ratio=1.2, peaks=2, peak_gap=0.6)) == 1
    # Nearly twice a hair's physical width with no lighter line: a pressed pair...
    assert shaft_multiplicity(_ev(width_ratio=1.25, physical_ratio=1.9)) == 2
    # ...but not when it is a short piece (a blot, a stub)...
    assert shaft_multiplicity(_ev(width_ratio=1.25, physical_ratio=1.9, length_ratio=0.5)) == 1
    # ...and a thick single hair, 1.5 times the width, needs a hint of two peaks.
    assert shaft_multiplicity(_ev(width_ratio=1.25, physical_ratio=1.5)) == 1
    assert shaft_multiplicity(_ev(width_ratio=1.25, physical_ratio=1.5, peak_gap=0.8)) == 2
    # A forked tip, and two crossing lines.
    assert shaft_multiplicity(_ev(ends=3)) == 2
    assert shaft_multiplicity(_ev(ends=4, lines=2)) == 2
    assert shaft_multiplicity(_ev(ends=3), DetectorSettings(forked_pairs=False)) == 1
    off = DetectorSettings(pair_physical_ratio=99.0, pair_physical_sure_ratio=99.0, pair_peak_gap=99.0)
    assert shaft_multiplicity(_ev(width_ratio=1.25, physical_ratio=1.9), off) == 1
