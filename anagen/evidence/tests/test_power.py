"""Sample size and power: agreement with statsmodels, the Olsen planning example, allowances."""

import json
import math

import numpy as np
import pytest
from statsmodels.stats.power import TTestIndPower, TTestPower

from anagen.evidence.power import (
    PlanningRow,
    paired_sd,
    parallel_sds,
    planning_table,
    power_paired,
    power_parallel,
    sample_size_paired,
    sample_size_parallel,
)

SM_ALT = {"two-sided": "two-sided", "one-sided": "larger"}


# --- agreement with statsmodels ---------------------------------------------------------------


@pytest.mark.parametrize("alternative", ["two-sided", "one-sided"])
@pytest.mark.parametrize(
    "d,n_t,n_c,alpha", [(0.5, 20, 20, 0.05), (0.3, 50, 100, 0.05), (1.2, 6, 9, 0.01), (0.58, 42, 42, 0.1)]
)
def test_parallel_power_equals_statsmodels(d, n_t, n_c, alpha, alternative):
    sd = 22.0
    ours = power_parallel(difference=d * sd, sd=sd, n_treatment=n_t, n_control=n_c, alpha=alpha, alternative=alternative)
    theirs = TTestIndPower().power(d, n_t, alpha, ratio=n_c / n_t, alternative=SM_ALT[alternative])
    assert ours == pytest.approx(theirs, abs=1e-6)


@pytest.mark.parametrize("alternative", ["two-sided", "one-sided"])
@pytest.mark.parametrize("d,n,alpha", [(0.5, 34, 0.05), (0.2, 200, 0.05), (1.0, 8, 0.01), (0.4, 15.5, 0.1)])
def test_paired_power_equals_statsmodels(d, n, alpha, alternative):
    ours = power_paired(difference=-d * 20, sd=20, n=n, alpha=alpha, alternative=alternative)  # sign-free
    theirs = TTestPower().power(d, n, alpha, alternative=SM_ALT[alternative])
    assert ours == pytest.approx(theirs, abs=1e-6)


@pytest.mark.parametrize("alternative", ["two-sided", "one-sided"])
@pytest.mark.parametrize("d,ratio,power,alpha", [(0.5, 1, 0.8, 0.05), (0.3, 2, 0.9, 0.05), (0.8, 0.5, 0.8, 0.01)])
def test_parallel_sample_size_equals_statsmodels_to_the_integer(d, ratio, power, alpha, alternative):
    result = sample_size_parallel(difference=d * 10, sd=10, ratio=ratio, power=power, alpha=alpha, alternative=alternative)
    nobs1 = TTestIndPower().solve_power(d, nobs1=None, alpha=alpha, power=power, ratio=ratio,
                                        alternative=SM_ALT[alternative])
    assert result.n_control == math.ceil(nobs1)
    assert result.n_treatment == math.ceil(nobs1 * ratio)
    assert result.achieved_power >= power
    assert result.achieved_power == pytest.approx(
        TTestIndPower().power(d, result.n_control, alpha, ratio=result.n_treatment / result.n_control,
                              alternative=SM_ALT[alternative]), abs=1e-6)


@pytest.mark.parametrize("alternative", ["two-sided", "one-sided"])
@pytest.mark.parametrize("difference,sd,power", [(10, 20, 0.8), (10, 25, 0.9), (14.7, 20, 0.8), (3, 25, 0.8)])
def test_paired_sample_size_equals_statsmodels_to_the_integer(difference, sd, power, alternative):
    result = sample_size_paired(difference=difference, sd=sd, power=power, alternative=alternative)
    n = TTestPower().solve_power(difference / sd, nobs=None, alpha=0.05, power=power, alternative=SM_ALT[alternative])
    assert result.n_subjects == result.n_evaluable_subjects == math.ceil(n)
    assert result.n_scalp_halves == 2 * result.n_subjects
    assert result.achieved_power == pytest.approx(TTestPower().power(difference / sd, result.n_subjects, 0.05,
                                                                     alternative=SM_ALT[alternative]), abs=1e-6)


# --- the Olsen 2002 example and unequal SDs ---------------------------------------------------


def test_olsen_minoxidil_example_needs_about_41_per_arm():
    result = sample_size_parallel(difference=14.7, sd=25.4, sd_control=21.7, alpha=0.05, power=0.8)
    assert result.method.startswith("Welch")
    assert result.n_normal_approximation == 41  # the textbook z formula
    assert result.n_per_arm == 42  # the t distribution adds one at this size
    assert result.achieved_power == pytest.approx(0.804, abs=0.001)


def test_welch_power_agrees_with_simulated_welch_tests():
    from scipy import stats

    rng = np.random.default_rng(20020301)
    n_t, n_c, reps = 42, 30, 20000
    a = rng.normal(14.7, 25.4, size=(reps, n_t))
    b = rng.normal(0.0, 21.7, size=(reps, n_c))
    p = stats.ttest_ind(a, b, axis=1, equal_var=False).pvalue
    simulated = float(np.mean(p < 0.05))
    expected = power_parallel(difference=14.7, sd=25.4, sd_control=21.7, n_treatment=n_t, n_control=n_c)
    assert simulated == pytest.approx(expected, abs=0.012)


def test_unequal_sds_lie_between_the_equal_sd_answers():
    low = sample_size_parallel(difference=14.7, sd=21.7).n_per_arm
    high = sample_size_parallel(difference=14.7, sd=25.4).n_per_arm
    mixed = sample_size_parallel(difference=14.7, sd=25.4, sd_control=21.7).n_per_arm
    assert low < mixed < high


def test_allocation_ratio_two_to_one():
    r = sample_size_parallel(difference=14.7, sd=25.4, sd_control=21.7, ratio=2)
    assert r.n_per_arm is None
    assert r.n_treatment == pytest.approx(2 * r.n_control, abs=1)
    assert r.n_total > 2 * sample_size_parallel(difference=14.7, sd=25.4, sd_control=21.7).n_per_arm


# --- ANCOVA, drop-out and measurement error ---------------------------------------------------


def test_ancova_scales_sample_size_by_one_minus_rho_squared():
    plain = sample_size_parallel(difference=5, sd=20).n_per_arm
    for rho in (0.5, 0.7):
        ancova = sample_size_parallel(difference=5, sd=20, rho=rho)
        assert ancova.method.startswith("ANCOVA")
        assert ancova.sd_analysis_treatment == pytest.approx(20 * math.sqrt(1 - rho**2))
        assert ancova.n_per_arm == pytest.approx(plain * (1 - rho**2), abs=2)
    # With no correlation ANCOVA only loses the slope's degree of freedom.
    assert sample_size_parallel(difference=5, sd=20, rho=0.0).n_per_arm in (plain, plain + 1)


def test_dropout_inflates_by_one_over_one_minus_dropout():
    base = sample_size_paired(difference=10, sd=20)
    for dropout in (0.1, 0.2, 0.25):
        r = sample_size_paired(difference=10, sd=20, dropout=dropout)
        assert r.n_evaluable_subjects == base.n_subjects
        assert r.n_subjects == math.ceil(base.n_subjects / (1 - dropout))
    par = sample_size_parallel(difference=14.7, sd=25.4, sd_control=21.7, dropout=0.2)
    assert (par.n_evaluable_control, par.n_per_arm) == (42, 53)  # 42 / 0.8 = 52.5


def test_measurement_error_enters_in_quadrature_per_counted_image():
    assert paired_sd(20, measurement_sd=5) == pytest.approx(math.sqrt(400 + 4 * 25))
    assert parallel_sds(25.4, 21.7, measurement_sd=5) == pytest.approx(
        (math.sqrt(25.4**2 + 50), math.sqrt(21.7**2 + 50)))
    # ANCOVA: the follow-up SD grows by one count's error and the correlation is attenuated.
    sd_t, _ = parallel_sds(20, None, rho=0.6, measurement_sd=5)
    observed = 400 + 25
    assert sd_t == pytest.approx(math.sqrt(observed * (1 - (0.6 * 400 / observed) ** 2)))
    a = sample_size_paired(difference=10, sd=20, measurement_sd=5)
    b = sample_size_paired(difference=10, sd=math.sqrt(500))
    assert a.n_subjects == b.n_subjects > sample_size_paired(difference=10, sd=20).n_subjects
    assert power_paired(difference=10, sd=20, n=30, measurement_sd=5) == pytest.approx(
        power_paired(difference=10, sd=math.sqrt(500), n=30))


def test_split_scalp_needs_fewer_subjects_than_parallel():
    paired = sample_size_paired(difference=14.7, sd=22).n_subjects
    parallel = sample_size_parallel(difference=14.7, sd=25.4, sd_control=21.7).n_total
    assert paired < parallel / 2


# --- the planning table -----------------------------------------------------------------------


def test_planning_table_is_plain_data_with_the_olsen_and_split_scalp_rows():
    rows = planning_table()
    assert all(isinstance(r, PlanningRow) for r in rows)
    data = json.loads(json.dumps([r.to_dict() for r in rows]))
    first = data[0]
    assert "Olsen" in first["source"] and first["result"]["n_per_arm"] == 42
    assert first["result"]["difference"] == pytest.approx(14.7)
    split = [r["result"] for r in data if r["result"]["design"] == "split-scalp"]
    assert {r["sd"] for r in split} == {20.0, 25.0} and len(split) == 4
    for r in split:
        assert r["n_subjects"] == math.ceil(r["n_evaluable_subjects"] / 0.9)
        assert r["achieved_power"] >= 0.8


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"sd": -3}, "sd must be greater than 0"),
        ({"sd_control": 0}, "sd_control must be greater than 0"),
        ({"power": 1.0}, "power must be between 0 and 1"),
        ({"power": 0}, "power must be between 0 and 1"),
        ({"power": 0.02}, "power must be above 0.025"),
        ({"difference": 0}, "difference must not be 0"),
        ({"dropout": 1.0}, "dropout must be at least 0 and below 1"),
        ({"dropout": -0.1}, "dropout must be at least 0"),
        ({"alpha": 1.5}, "alpha must be between 0 and 1"),
        ({"ratio": 0}, "ratio must be greater than 0"),
        ({"rho": 1.0}, "rho .* must be between -1 and 1"),
        ({"measurement_sd": -1}, "measurement_sd must be 0 or more"),
        ({"difference": float("nan")}, "difference must be a finite number"),
        ({"sd": float("inf")}, "sd must be a finite number"),
        ({"power": float("nan")}, "power must be a finite number"),
        ({"alternative": "smaller"}, "alternative must be one of"),
        ({"sd": "wide"}, "sd must be a number"),
    ],
)
def test_bad_input_raises_a_clear_value_error(kw, message):
    args = {"difference": 14.7, "sd": 25.4, **kw}
    with pytest.raises(ValueError, match=message):
        sample_size_parallel(**args)


def test_bad_power_arguments_raise_clear_value_errors():
    with pytest.raises(ValueError, match="n must be a finite number"):
        power_paired(difference=10, sd=20, n=float("nan"))
    with pytest.raises(ValueError, match="more than 1 subject"):
        power_paired(difference=10, sd=20, n=1)
    with pytest.raises(ValueError, match="each arm needs more than 1 subject"):
        power_parallel(difference=10, sd=20, n_treatment=1, n_control=5)
    with pytest.raises(ValueError, match="more than 10 million"):
        sample_size_paired(difference=1e-6, sd=25)


def test_docstring_examples_run():
    import doctest

    import anagen.evidence.power as module

    assert doctest.testmod(module).failed == 0
