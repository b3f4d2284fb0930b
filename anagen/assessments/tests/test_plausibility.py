"""The plausibility rules, on plain numbers (no database)."""

from __future__ import annotations

from anagen.assessments.plausibility import SeriesValue, device_flags, series_flags


def test_a_consistent_series_has_no_flags():
    values = [SeriesValue(150, 0.5, 62), SeriesValue(158, 0.5, 63), SeriesValue(171, 0.52, 64)]
    assert series_flags(values) == [[], [], []]


def test_a_density_far_outside_the_series_is_flagged_and_only_that_one():
    values = [SeriesValue(150, 0.5), SeriesValue(160, 0.5), SeriesValue(155, 0.5), SeriesValue(40, 0.5)]
    flags = series_flags(values)
    assert flags[:3] == [[], [], []]
    assert flags[3] == ["density 40 hairs/cm² is 74 % away from the series median 152"]


def test_density_needs_three_visits_to_compare_with():
    assert series_flags([SeriesValue(150, 0.5), SeriesValue(400, 0.5)]) == [[], []]


def test_an_excluded_value_is_flagged_but_is_no_reference_for_the_others():
    values = [SeriesValue(150, 0.5), SeriesValue(155, 0.5), SeriesValue(900, 0.5, excluded=True),
              SeriesValue(950, 0.5, excluded=True), SeriesValue(160, 0.5)]
    flags = series_flags(values)
    assert flags[0] == flags[1] == flags[4] == []
    assert "density 900" in flags[2][0]


def test_a_field_area_unlike_the_other_visits_is_flagged():
    values = [SeriesValue(None, 0.5), SeriesValue(None, 0.5), SeriesValue(None, 0.25)]
    flags = series_flags(values)
    assert flags == [[], [], ["field area 0.25 cm² differs from the series' 0.5 cm²: another device, "
                              "magnification or profile?"]]
    assert series_flags([SeriesValue(None, 0.5), SeriesValue(None, 0.52)]) == [[], []]


def test_diameters_outside_the_human_range_are_flagged():
    assert device_flags(SeriesValue(mean_diameter_um=8.0)) == [
        "mean diameter 8.0 µm is outside the human range (15 to 200 µm): check the device profile"]
    assert device_flags(SeriesValue(mean_diameter_um=640.0))
    assert device_flags(SeriesValue(mean_diameter_um=65.0)) == []


def test_a_field_no_dermoscope_images_means_the_magnification_is_wrong():
    (flag,) = device_flags(SeriesValue(field_area_cm2=12.0))
    assert "profile's magnification does not fit the image" in flag
    assert device_flags(SeriesValue(field_area_cm2=0.048)) == []
