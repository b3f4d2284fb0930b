"""Descriptive statistics on known values (no database)."""

import math

import pytest

from anagen.evidence import descriptive


def test_mean_ci_of_three_changes_uses_t_with_two_degrees_of_freedom():
    r = descriptive.mean_ci([10, 20, 30])
    half = 4.302652729911275 * 10 / math.sqrt(3)  # t(0.975, 2) * s / sqrt(n), s = 10
    assert r.n == 3
    assert r.mean == 20
    assert r.sd == pytest.approx(10)
    assert r.lower == pytest.approx(20 - half)
    assert r.upper == pytest.approx(20 + half)
    assert r.half_width == pytest.approx(half)


def test_mean_ci_drops_missing_and_non_finite_values():
    r = descriptive.mean_ci([10, None, 30, float("nan")])
    assert r.n == 2 and r.mean == 20


def test_one_value_has_a_mean_but_no_interval_and_says_why():
    r = descriptive.mean_ci([12.5])
    assert r.n == 1 and r.mean == 12.5
    assert r.lower is None and r.upper is None and r.half_width is None
    assert "fewer than two" in r.reason


def test_no_values_has_no_mean():
    r = descriptive.mean_ci([])
    assert r.n == 0 and r.mean is None and r.lower is None


def test_mean_ci_refuses_a_nonsense_confidence():
    with pytest.raises(ValueError):
        descriptive.mean_ci([1, 2], confidence=95)


def test_change_from_baseline_absolute_and_percent():
    c = descriptive.change_from_baseline(120, 150)
    assert c.absolute == 30 and c.percent == pytest.approx(25)
    assert descriptive.change_from_baseline(None, 150) is None
    assert descriptive.change_from_baseline(0, 5).percent is None


def test_wilson_interval_known_values():
    # Newcombe 1998, table II: 81/263 -> 0.2553 to 0.3662; 0/10 -> 0 to 0.2775
    lo, hi = descriptive.wilson_interval(81, 263)
    assert lo == pytest.approx(0.2553, abs=1e-4) and hi == pytest.approx(0.3662, abs=1e-4)
    lo, hi = descriptive.wilson_interval(0, 10)
    assert lo == 0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = descriptive.wilson_interval(10, 10)
    assert hi == 1 and lo == pytest.approx(0.7225, abs=1e-4)


def test_rate_with_no_patients_has_no_rate():
    r = descriptive.rate(0, 0)
    assert r.rate is None and r.lower is None
    r = descriptive.rate(1, 4)
    assert r.rate == 0.25 and 0 < r.lower < 0.25 < r.upper < 1


def test_wilson_refuses_more_events_than_patients():
    with pytest.raises(ValueError):
        descriptive.wilson_interval(5, 3)


def test_the_docstring_examples_hold():
    import doctest

    result = doctest.testmod(descriptive)
    assert result.failed == 0 and result.attempted > 0
