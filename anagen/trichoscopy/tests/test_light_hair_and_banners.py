"""Engine 1.5.0: grey hair on light skin, a banner over part of the width, and the widths
and multiplicity of pressed and glossy shafts (fixed seeds, synthetic fields)."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from anagen.trichoscopy import Profile, analyze
from anagen.trichoscopy.detect import DEFAULT_SETTINGS, darkness_map, for_contrast
from anagen.trichoscopy.ignore import find_banners
from anagen.trichoscopy.synthetic import generate_scalp

PROFILE = Profile(name="synthetic-200", px_per_mm=200.0)
PLAIN = dict(px_per_mm=200.0, vellus_fraction=0.0, crossings=0, parallel_pairs=0)


@pytest.mark.parametrize("seed", [60, 61, 62])
@pytest.mark.parametrize("tone", ["light", "medium"])
def test_grey_hair_on_light_and_medium_skin_is_counted(seed, tone):
    s = generate_scalp(seed=seed, n_hairs=14, hair_colours=("grey",), skin_tone=tone, **PLAIN)
    assert s.truth.hair_count == 14
    # Found as the dark hairs of the same field are (engine 1.4.0 found none of them) ...
    assert abs(analyze(s.image, PROFILE).hair_count - 14) <= 1
    # ... because the thresholds were lowered for this image's contrast.
    off = replace(DEFAULT_SETTINGS, adaptive_contrast=False)
    assert analyze(s.image, PROFILE, off).hair_count <= 2


def test_thresholds_stay_as_they_are_for_dark_hair_and_never_fall_below_the_floor():
    dark = generate_scalp(seed=60, n_hairs=14, **PLAIN)
    ignore = np.zeros(dark.image.shape[:2], bool)
    assert for_contrast(DEFAULT_SETTINGS, darkness_map(dark.image), ignore) == DEFAULT_SETTINGS
    bare = generate_scalp(seed=60, n_hairs=0, px_per_mm=200.0, crossings=0, parallel_pairs=0, skin_tone="dark")
    lowered = for_contrast(DEFAULT_SETTINGS, darkness_map(bare.image), ignore)
    floor = DEFAULT_SETTINGS.contrast_min_factor
    assert lowered.high_threshold == pytest.approx(DEFAULT_SETTINGS.high_threshold * floor)
    assert lowered.low_threshold == pytest.approx(DEFAULT_SETTINGS.low_threshold * floor)


@pytest.mark.parametrize("tone", ["light", "dark"])
def test_a_bare_field_gains_at_most_a_stray_hair(tone):
    found = [
        analyze(generate_scalp(seed=seed, n_hairs=0, px_per_mm=200.0, crossings=0, parallel_pairs=0, skin_tone=tone,
                               empty_openings=8, flakes=6, glare=3, bubbles=2, jpeg_quality=80, noise=4).image,
                PROFILE).hair_count
        for seed in range(60, 64)
    ]
    # (without the straightness check on light regions: 1.4 a field on dark skin)
    assert np.mean(found) <= 0.75, found


def _corner_banner(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """A device's banner over the top-left corner: flat grey boxes with light text."""
    img = image.copy()
    img[:height, :width] = (70, 70, 70)
    for k, x in enumerate(range(8, width - 60, 80)):
        cv2.putText(img, f"A{k}19", (x, height - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (235, 235, 235), 1, cv2.LINE_AA)
    return img


def test_a_banner_over_the_left_part_of_the_top_edge_is_found_and_its_text_not_counted():
    s = generate_scalp(seed=70, n_hairs=14, **PLAIN)
    w = s.image.shape[1]
    img = _corner_banner(s.image, 16, int(0.28 * w))
    rects = find_banners(img)
    # Only the half holding it is masked (a full row is under a third flat here).
    assert rects and rects[0][:2] == (0, 0) and rects[0][2] == w // 2 and 14 <= rects[0][3] <= 20
    r = analyze(img, PROFILE)
    assert r.ignored_regions
    assert all(h.midpoint[1] > 16 or h.midpoint[0] > 0.28 * w for h in r.hairs)
    assert abs(r.hair_count - analyze(s.image, PROFILE).hair_count) <= 1


@pytest.mark.parametrize("seed", [60, 61, 62, 63])
def test_the_hairs_of_a_pressed_pair_keep_a_terminal_diameter(seed):
    s = generate_scalp(seed=seed, n_hairs=12, pressed_pairs=3, **PLAIN)
    r = analyze(s.image, PROFILE)
    assert abs(r.hair_count - 12) <= 1
    paired = [h for h in r.hairs if h.multiplicity == 2]
    assert len(paired) >= 4
    true_mean = np.mean([t.width_px / 200.0 * 1000 for t in s.truth.hairs])
    # Each hair of a pair is about one hair wide (the truth has no vellus here), never half.
    assert all(h.hair_class == "terminal" for h in paired), [round(h.diameter_um) for h in paired]
    assert abs(np.mean([h.diameter_um for h in paired]) / true_mean - 1) <= 0.3


def test_glossy_single_hairs_are_not_read_as_pairs():
    errors = [
        analyze(generate_scalp(seed=seed, n_hairs=14, glossy_fraction=1.0, **PLAIN).image, PROFILE).hair_count - 14
        for seed in range(60, 68)
    ]
    # engine 1.4.0: +3.9 hairs a field (each glossy shaft's dark flanks read as two hairs)
    assert np.mean(errors) <= 1.5, errors
