"""The device-validation statistics against direct numpy / scipy computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from anagen.evidence.device_validation import MIN_REFERENCES, adjusted_count, fit_adjustment, validation_summary


def _counts(n=24, seed=11):
    rng = np.random.default_rng(seed)
    ref = rng.integers(40, 160, size=n).astype(float)
    auto = np.round(0.85 * ref + 6 + rng.normal(0, 4, size=n))
    return auto, ref


def _icc_direct(x, y):
    """Shrout & Fleiss ICC(2,1) and ICC(3,1) from the two-way ANOVA, written out."""
    data = np.column_stack([x, y])
    n, k = data.shape
    grand = data.mean()
    ss_rows = k * ((data.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((data.mean(axis=0) - grand) ** 2).sum()
    ss_err = ((data - grand) ** 2).sum() - ss_rows - ss_cols
    msr, msc, mse = ss_rows / (n - 1), ss_cols / (k - 1), ss_err / ((n - 1) * (k - 1))
    icc21 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    icc31 = (msr - mse) / (msr + (k - 1) * mse)
    return icc21, icc31


def test_summary_matches_direct_computation():
    auto, ref = _counts()
    s = validation_summary(auto, ref)
    d = auto - ref
    assert s.n == 24 and s.enough
    assert s.mae == pytest.approx(np.mean(np.abs(d)))
    assert s.rmse == pytest.approx(np.sqrt(np.mean(d ** 2)))
    assert s.bias == pytest.approx(d.mean())
    assert s.bias_pct == pytest.approx(100 * d.mean() / ref.mean())
    sd = d.std(ddof=1)
    assert s.bland_altman.lower_loa == pytest.approx(d.mean() - stats.norm.ppf(0.975) * sd)
    assert s.bland_altman.upper_loa == pytest.approx(d.mean() + stats.norm.ppf(0.975) * sd)
    t = stats.t.ppf(0.975, 23)
    assert s.bland_altman.bias_ci == pytest.approx((d.mean() - t * sd / math.sqrt(24), d.mean() + t * sd / math.sqrt(24)))
    icc21, icc31 = _icc_direct(auto, ref)
    assert s.icc21 == pytest.approx(icc21)
    assert s.icc31 == pytest.approx(icc31)
    assert s.icc21_ci[0] < s.icc21 < s.icc21_ci[1]


def test_small_samples_are_flagged_and_icc_waits_for_five():
    s = validation_summary([10, 12, 14, 15], [11, 12, 13, 17])
    assert s.n == 4 and not s.enough and s.icc21 is None and s.bland_altman is not None
    s = validation_summary([10, 12, 14, 15, 20], [11, 12, 13, 17, 19])
    assert s.icc21 is not None and not s.enough
    one = validation_summary([10], [12])
    assert one.bland_altman is None and one.bias == -2 and one.mae == 2


def test_fit_matches_scipy_linregress():
    auto, ref = _counts()
    fit = fit_adjustment(auto, ref)
    lr = stats.linregress(auto, ref)
    assert fit.slope == pytest.approx(lr.slope)
    assert fit.intercept == pytest.approx(lr.intercept)
    t = stats.t.ppf(0.975, 22)
    assert fit.slope_ci == pytest.approx((lr.slope - t * lr.stderr, lr.slope + t * lr.stderr))
    assert fit.intercept_ci == pytest.approx((lr.intercept - t * lr.intercept_stderr,
                                              lr.intercept + t * lr.intercept_stderr))
    resid = ref - (lr.intercept + lr.slope * auto)
    assert fit.residual_sd == pytest.approx(np.sqrt((resid ** 2).sum() / 22))
    # The fitted line removes the bias of the engine on these images.
    adjusted = np.array([adjusted_count(a, fit.intercept, fit.slope) for a in auto])
    assert abs((adjusted - ref).mean()) < 1e-9 < abs((auto - ref).mean())


def test_adjusted_count_is_never_negative():
    assert adjusted_count(2, -10.0, 1.0) == 0.0
    assert adjusted_count(20, 1.5, 2.0) == 41.5


@pytest.mark.parametrize("auto, ref, message", [
    ([1, 2, 3], [1, 2], "one automatic and one reference"),
    ([1, float("nan")] + [3] * 10, [1] * 12, "finite"),
    ([-1] + [3] * 11, [1] * 12, "negative"),
    ([5] * 12, list(range(12)), "every automatic count is the same"),
    (list(range(MIN_REFERENCES - 1)), list(range(MIN_REFERENCES - 1)), f"at least {MIN_REFERENCES}"),
])
def test_fit_refuses_bad_input(auto, ref, message):
    with pytest.raises(ValueError, match=message):
        fit_adjustment(auto, ref)


def test_summary_refuses_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="one automatic and one reference"):
        validation_summary([1, 2], [1])
    with pytest.raises(ValueError, match="at least 1"):
        validation_summary([], [])
    with pytest.raises(ValueError, match="between 0 and 1"):
        fit_adjustment(range(12), range(12), confidence=1.5)
