"""Reader agreement against published worked examples and statsmodels."""

import doctest

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm
from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa

from anagen.evidence import agreement
from anagen.evidence.agreement import bland_altman, cohens_kappa, icc

# Shrout & Fleiss (1979), Table 2: six targets (rows) rated by four judges (columns).
SF_TABLE_2 = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]


def test_icc_reproduces_shrout_and_fleiss_table_2_and_4():
    r = icc(SF_TABLE_2)
    # Their Table 2 ANOVA (two decimals): BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02.
    assert (r.ms_targets, r.ms_within, r.ms_readers, r.ms_error) == pytest.approx((11.24, 6.26, 32.49, 1.02), abs=5e-3)
    # Their Table 4 (two decimals).
    published = {"ICC(1,1)": 0.17, "ICC(2,1)": 0.29, "ICC(3,1)": 0.71, "ICC(1,k)": 0.44, "ICC(2,k)": 0.62,
                 "ICC(3,k)": 0.91}
    for form, value in published.items():
        assert r.get(form).icc == pytest.approx(value, abs=5e-3), form
    # Exact values from the integer data (the mean squares are rationals: 1349/120 etc.).
    msr, msc, mse, msw = 1349 / 120, 2339 / 72, 367 / 360, 451 / 72
    assert (r.ms_targets, r.ms_readers, r.ms_error, r.ms_within) == pytest.approx((msr, msc, mse, msw), abs=1e-12)
    assert r.get("ICC(2,1)").icc == pytest.approx((msr - mse) / (msr + 3 * mse + 4 * (msc - mse) / 6), abs=1e-12)
    # Lower confidence limits as R's psych::ICC prints them for this table (three decimals).
    lower = {"ICC(1,1)": -0.133, "ICC(2,1)": 0.019, "ICC(3,1)": 0.342, "ICC(1,k)": -0.884, "ICC(2,k)": 0.071,
             "ICC(3,k)": 0.676}
    for form, value in lower.items():
        assert r.get(form).ci[0] == pytest.approx(value, abs=1e-3), form
    assert r.get("ICC(3,1)").f == pytest.approx(11.027, abs=1e-3) and r.get("ICC(3,1)").df2 == 15


def test_icc_mean_squares_equal_a_two_way_anova_and_icc3k_equals_cronbachs_alpha():
    rng = np.random.default_rng(3)
    truth = rng.normal(150, 30, 40)
    x = truth[:, None] + rng.normal([0, 4, -2], 6, (40, 3))
    r = icc(x)
    long = pd.DataFrame({"y": x.ravel(), "target": np.repeat(np.arange(40), 3), "reader": np.tile(np.arange(3), 40)})
    table = anova_lm(smf.ols("y ~ C(target) + C(reader)", long).fit())
    assert r.ms_targets == pytest.approx(table.loc["C(target)", "mean_sq"], rel=1e-9)
    assert r.ms_readers == pytest.approx(table.loc["C(reader)", "mean_sq"], rel=1e-9)
    assert r.ms_error == pytest.approx(table.loc["Residual", "mean_sq"], rel=1e-9)
    k = x.shape[1]
    alpha = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    assert r.get("ICC(3,k)").icc == pytest.approx(alpha, abs=1e-9)
    # a reader who reads 4 higher costs absolute agreement, not consistency
    assert r.get("ICC(2,1)").icc < r.get("ICC(3,1)").icc
    for v in r.values:
        assert v.ci[0] < v.icc < v.ci[1]


@pytest.mark.parametrize("bad, message", [
    ([[1, 2, 3]], "at least 2 targets"),
    ([[1], [2]], "2 readers"),
    ([[1, 2], [3, np.nan]], "missing rating"),
    ([[5, 5], [5, 5]], "every rating is the same"),
])
def test_icc_refuses_tables_it_cannot_answer(bad, message):
    with pytest.raises(ValueError, match=message):
        icc(bad)


def test_bland_altman_bias_limits_and_their_intervals():
    rng = np.random.default_rng(7)
    a = rng.normal(160, 30, 60)
    b = a - 2.0 + rng.normal(0, 5, 60)
    r = bland_altman(a, b)
    d = a - b
    s = d.std(ddof=1)
    t = stats.t.ppf(0.975, 59)
    assert r.bias == pytest.approx(d.mean(), abs=1e-12) and r.sd == pytest.approx(s, abs=1e-12)
    assert r.lower_loa == pytest.approx(d.mean() - 1.959963984540054 * s, abs=1e-9)
    assert r.upper_loa == pytest.approx(d.mean() + 1.959963984540054 * s, abs=1e-9)
    assert r.bias_ci == pytest.approx(stats.ttest_1samp(d, 0).confidence_interval(), abs=1e-9)
    half = t * np.sqrt(3 * s * s / 60)
    assert r.upper_loa_ci == pytest.approx((r.upper_loa - half, r.upper_loa + half), abs=1e-9)
    assert r.bias_ci[0] < 2.0 < r.bias_ci[1]


def test_bland_altman_drops_and_counts_incomplete_pairs_and_refuses_too_few():
    r = bland_altman([10, 12, np.nan, 16], [9, 12, 13, 17])
    assert r.n == 3 and r.n_dropped == 1
    with pytest.raises(ValueError, match="at least 2 targets"):
        bland_altman([1, np.nan], [1, 2])
    with pytest.raises(ValueError, match="one value each per target"):
        bland_altman([1, 2, 3], [1, 2])
    assert "collapse" in bland_altman([1, 2, 3], [0, 1, 2]).note


def _ratings():
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 5, 120)
    a = np.clip(truth + rng.integers(-1, 2, 120), 0, 4)
    b = np.clip(truth + rng.integers(-1, 2, 120), 0, 4)
    return a.tolist(), b.tolist()


@pytest.mark.parametrize("weights, wt", [("none", None), ("linear", "linear"), ("quadratic", "quadratic")])
def test_kappa_equals_statsmodels(weights, wt):
    a, b = _ratings()
    r = cohens_kappa(a, b, categories=[0, 1, 2, 3, 4], weights=weights)
    table, _ = agreement.agreement_table(a, b, [0, 1, 2, 3, 4])
    ref = sm_kappa(table, wt=wt)
    assert r.kappa == pytest.approx(ref.kappa, abs=1e-9)
    assert r.se == pytest.approx(np.sqrt(ref.var_kappa), abs=1e-9)
    assert r.z == pytest.approx(ref.kappa / np.sqrt(ref.var_kappa0), abs=1e-6)
    assert r.ci[0] < r.kappa < r.ci[1] and r.n == 120


def test_kappa_on_a_textbook_table():
    # Two readers, yes/no on 50 images: 20 both yes, 15 both no, 5 and 10 disagreements.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    r = cohens_kappa(a, b)
    # p_o = 0.7, p_e = 0.5*0.6 + 0.5*0.4 = 0.5, kappa = 0.4
    assert r.observed_agreement == pytest.approx(0.7) and r.expected_agreement == pytest.approx(0.5)
    assert r.kappa == pytest.approx(0.4)


def test_kappa_bad_input_is_explained():
    with pytest.raises(ValueError, match="not among the categories"):
        cohens_kappa([1, 2, 5], [1, 2, 3], categories=[1, 2, 3])
    with pytest.raises(ValueError, match="at least two categories"):
        cohens_kappa([1, 1, 1], [1, 1, 1])
    with pytest.raises(ValueError, match="single category"):
        cohens_kappa([1, 1, 1], [1, 1, 1], categories=[1, 2])
    with pytest.raises(ValueError, match="weights must be"):
        cohens_kappa([1, 2], [1, 2], weights="cubic")
    with pytest.raises(ValueError, match="one rating each per target"):
        cohens_kappa([1, 2], [1])


def test_the_docstring_examples_hold():
    result = doctest.testmod(agreement)
    assert result.failed == 0 and result.attempted > 0
