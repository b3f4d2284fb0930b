"""Checks on a correction before it is stored: repeated or overlapping hairs, implausible changes."""

from __future__ import annotations

from anagen.trichoscopy.corrections import added_hair_problems, implausible_change, lines_overlap
from anagen.trichoscopy.results import Hair, ImageAnalysis


def _analysis(hairs=(), shape=(200, 240)):
    hair_objs = tuple(Hair(id=i, centreline=line, length_px=50.0, width_px=6.0, diameter_um=60.0, length_mm=0.5,
                           cut_by_border=False, hair_class="terminal") for i, line in enumerate(hairs, start=1))
    return ImageAnalysis(usable=True, quality=None, hair_count=len(hair_objs), terminal_count=None,
                         vellus_count=None, field_area_cm2=0.048, density_per_cm2=None, mean_diameter_um=None,
                         diameters_um=(), hairs=hair_objs, follicular_units=(), image_shape=shape,
                         ignored_regions=(), px_per_mm=100.0, profile="default", engine_version="test",
                         elapsed_ms=0.0)


def test_the_same_hair_given_twice_is_refused_in_either_direction():
    a = _analysis()
    assert added_hair_problems(a, [(10, 10, 60, 40), (60, 40, 10, 10)]) == ["lines 1 and 2 add the same hair twice"]


def test_overlapping_added_hairs_are_refused_but_a_follicular_unit_is_not():
    a = _analysis()
    # The second line redraws the middle of the first, two pixels off.
    assert "overlapping" in added_hair_problems(a, [(10, 10, 110, 10), (30, 12, 90, 12)])[0]
    # Two hairs leaving the same opening share one end and diverge.
    assert added_hair_problems(a, [(50, 50, 120, 50), (50, 50, 100, 110)]) == []
    # Two touching parallel shafts, a shaft width apart, are two hairs.
    assert added_hair_problems(a, [(10, 10, 110, 10), (10, 17, 110, 17)]) == []


def test_an_added_hair_on_a_kept_hair_is_refused_unless_that_hair_is_removed():
    a = _analysis(hairs=[((20.0, 100.0), (60.0, 100.0), (120.0, 101.0))])
    problems = added_hair_problems(a, [(22, 101, 118, 101)])
    assert problems == ["line 1 lies on hair #1, which is already counted (remove #1 too if you are redrawing it)"]
    assert added_hair_problems(a, [(22, 101, 118, 101)], removed=[1]) == []


def test_lines_overlap_measures_the_shorter_line_against_the_longer():
    long_line = [(0, 0), (100, 0)]
    assert lines_overlap([(40, 1), (60, 1)], long_line, tolerance_px=3)
    assert not lines_overlap([(40, 10), (60, 10)], long_line, tolerance_px=3)
    # Crossing hairs meet at one point only.
    assert not lines_overlap([(50, -40), (50, 40)], long_line, tolerance_px=3)


def test_small_changes_are_plausible_whatever_the_ratio():
    assert implausible_change(2, 6) == []
    assert implausible_change(20, 24, added_count=4, field_area_cm2=0.5) == []


def test_more_than_doubling_or_halving_the_count_is_implausible():
    assert implausible_change(10, 21) == ["the count goes from 10 to 21, more than double"]
    assert implausible_change(30, 14) == ["the count goes from 30 to 14, less than half"]
    assert implausible_change(10, 20) == []


def test_more_added_hairs_than_the_field_holds_is_implausible():
    # 0.05 cm² holds about 20 hairs at 400 hairs/cm².
    reasons = implausible_change(15, 40, added_count=25, field_area_cm2=0.05)
    assert any("25 hairs are added, more than the 0.05 cm² field can hold (about 20" in r for r in reasons)
    reasons = implausible_change(15, 22, added_count=7, field_area_cm2=0.05)
    assert reasons == ["22 hairs in 0.05 cm² is 440 hairs/cm², above the plausible 400"]
    # Uncalibrated images have no area: only the ratio test applies.
    assert implausible_change(15, 22, added_count=7) == []
