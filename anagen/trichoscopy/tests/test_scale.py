"""The count and the diameters do not depend on how many pixels show the field.

The same synthetic field (fixed seeds) is rendered finely and then reduced by area
averaging, as a camera with fewer, larger pixels would see it: at 1x and 2x, and at
the scales of a 20x and a 70x dermoscope. Tolerances: the count within one hair per
image on average (a hair a few pixels long at the coarse scale can fall either side
of the minimum length), the mean diameter within 10 %.
"""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from anagen.trichoscopy import Profile, analyze, load_profile
from anagen.trichoscopy.measure import TYPICAL_SHAFT_UM
from anagen.trichoscopy.synthetic import generate_scalp

SEEDS = (21, 22, 23, 24)


def _reduce(image: np.ndarray, factor: float) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.resize(image, (int(round(w / factor)), int(round(h / factor))), interpolation=cv2.INTER_AREA)


def _field(seed: int, px_per_mm: float, vellus_fraction: float = 0.15):
    # A 3.5 x 2.8 mm field, drawn at ``px_per_mm``.
    shape = (int(round(2.8 * px_per_mm)), int(round(3.5 * px_per_mm)))
    return generate_scalp(seed=seed, n_hairs=16, px_per_mm=px_per_mm, shape=shape,
                          vellus_fraction=vellus_fraction)


@pytest.fixture(scope="module")
def one_and_two_x():
    out = []
    for seed in SEEDS:
        fine = _field(seed, 400.0).image
        out.append((fine, _reduce(fine, 2.0)))
    return out


def test_same_field_at_1x_and_2x_gives_the_same_count_and_diameters(one_and_two_x):
    count_diff, diam_rel = [], []
    for fine, coarse in one_and_two_x:
        a = analyze(fine, Profile(name="2x", px_per_mm=400.0))
        b = analyze(coarse, Profile(name="1x", px_per_mm=200.0))
        count_diff.append(a.hair_count - b.hair_count)
        diam_rel.append(a.mean_diameter_um / b.mean_diameter_um - 1)
    assert np.mean(np.abs(count_diff)) <= 1.0, count_diff
    assert max(abs(d) for d in diam_rel) <= 0.10, diam_rel


def test_uncalibrated_same_field_at_1x_and_2x_gives_the_same_count(one_and_two_x):
    diffs, scales = [], []
    for fine, coarse in one_and_two_x:
        a, b = analyze(fine), analyze(coarse)
        diffs.append(a.hair_count - b.hair_count)
        assert a.scale_source == b.scale_source == "shaft width"
        scales.append(a.estimated_px_per_mm / b.estimated_px_per_mm)
        # The estimate sets the working scale only: nothing physical is reported.
        assert a.px_per_mm is None and a.mean_diameter_um is None
    assert np.mean(np.abs(diffs)) <= 1.0, diffs
    # The estimated scale doubles with the pixels (within 10 %).
    assert all(abs(s / 2 - 1) <= 0.10 for s in scales), scales


def test_estimated_scale_is_close_and_states_its_uncertainty():
    truth = 300.0
    for seed in SEEDS:
        result = analyze(_field(seed, truth).image)
        est, rel = result.estimated_px_per_mm, result.estimated_scale_rel_uncertainty
        # The synthetic hairs are 55 to 95 µm (vellus fewer and thinner): about the
        # assumed typical shaft, so the estimate lands within its stated uncertainty.
        assert 0.15 <= rel <= 0.5
        assert abs(est / truth - 1) <= 2 * rel, (seed, est, rel, TYPICAL_SHAFT_UM)
        data = result.to_dict()
        assert data["scale_source"] == "shaft width" and data["estimated_px_per_mm"] > 0


def test_calibrated_result_reports_the_profile_as_its_scale():
    result = analyze(_field(SEEDS[0], 200.0).image, Profile(name="cal", px_per_mm=200.0))
    assert result.scale_source == "profile"
    assert result.estimated_px_per_mm is None


def test_20x_and_70x_profiles_give_the_same_count_and_diameters():
    # A 70x frame at 364 px/mm and the same skin at 20x (104 px/mm, 3.5 times fewer
    # pixels each way). Vellus hairs (18 to 34 µm) are under four pixels at 20x and
    # are left out of this field: the 20x count of vellus hair is not claimed.
    p70 = replace(load_profile("dermoscope-70x"), ignore_regions=()).with_scale(364.0)
    p20 = load_profile("dermoscope-20x").with_scale(104.0)
    count_diff, diam_rel = [], []
    for seed in SEEDS:
        fine = _field(seed, 364.0, vellus_fraction=0.0).image
        a = analyze(fine, p70)
        b = analyze(_reduce(fine, 3.5), p20)
        count_diff.append(a.hair_count - b.hair_count)
        diam_rel.append(a.mean_diameter_um / b.mean_diameter_um - 1)
    assert np.mean(np.abs(count_diff)) <= 1.0, count_diff
    assert max(abs(d) for d in diam_rel) <= 0.10, diam_rel


def test_a_device_frame_is_counted_at_its_own_resolution():
    # A 70x device's own 1280 x 1024 frame (182 px/mm, hairs 10 to 17 px wide, vellus
    # 3 to 6 px). Shrinking it to a fixed 640-pixel working size (engine 1.2.0) lost
    # 8 to 15 % of the hairs here (a fifth on real frames); at the physical working
    # scale the count is within 8 % of the truth on average, calibrated or not.
    rel_cal, rel_est = [], []
    for seed in (31, 32, 33):
        s = generate_scalp(seed=seed, n_hairs=48, px_per_mm=182.0, shape=(1024, 1280))
        truth = s.truth.hair_count
        rel_cal.append(abs(analyze(s.image, Profile(name="native", px_per_mm=182.0)).hair_count / truth - 1))
        rel_est.append(abs(analyze(s.image).hair_count / truth - 1))
    assert np.mean(rel_cal) <= 0.08, rel_cal
    assert np.mean(rel_est) <= 0.08, rel_est
