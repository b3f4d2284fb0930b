"""Sample size and power for hair-count studies.

A study's primary outcome is usually the change in target-area hair density (hairs/cm²)
from baseline to a follow-up visit. Two designs are planned here:

parallel
    Subjects are randomized to treatment or control and the arms' mean changes are compared
    by a two-sample t-test: pooled when the arms' SDs are equal (identical to
    :class:`statsmodels.stats.power.TTestIndPower`), Welch-Satterthwaite when they differ.
    With ``rho`` the analysis is ANCOVA on baseline: the outcome is the follow-up value, its
    residual variance is ``sd^2 (1 - rho^2)`` and one degree of freedom goes to the slope.
split-scalp (paired)
    Each subject is their own control: one side gets the active product, the other placebo,
    and the within-patient difference of the sides' changes is tested by a one-sample t-test
    (identical to :class:`statsmodels.stats.power.TTestPower`). ``sd`` is the SD of that
    within-patient difference, typically 20-25 hairs/cm².

Allowances:

* drop-out ``d``: the evaluable sample size is inflated to ``ceil(n / (1 - d))`` per arm;
* the hair counter's measurement error, an SD ``s_m`` per counted image that is independent
  of the biology and adds in quadrature. ``sd`` is then the SD of the *true* (error-free)
  quantity. A change from baseline involves two counts, so for a parallel study on change
  scores the SD becomes ``sqrt(sd^2 + 2 s_m^2)``; the split-scalp difference of two sides'
  changes involves four counts: ``sqrt(sd^2 + 4 s_m^2)``; for ANCOVA both the follow-up and
  the baseline are measured once, so the follow-up SD becomes ``sqrt(sd^2 + s_m^2)`` and the
  observed correlation is attenuated to ``rho * sd^2 / (sd^2 + s_m^2)`` (regression
  dilution) before the ``1 - rho^2`` factor is applied. When the SDs you have are from
  published counts (which already contain counting error), leave ``s_m`` at 0.

Power uses the noncentral t distribution exactly as statsmodels does; sample sizes are the
continuous root of ``power(n) = target`` rounded up (statsmodels' ``solve_power`` rounded up),
and the power achieved by the rounded numbers is reported with them.

References
----------
.. [1] Julious SA. Sample sizes for clinical trials with Normal data. Stat Med
   2004;23(12):1921-1986. doi:10.1002/sim.1783
.. [2] Borm GF, Fransen J, Lemmens WAJG. A simple sample size formula for analysis of
   covariance in randomized clinical trials. J Clin Epidemiol 2007;60(12):1234-1238.
   doi:10.1016/j.jclinepi.2007.02.006
.. [3] Satterthwaite FE. An approximate distribution of estimates of variance components.
   Biometrics Bulletin 1946;2(6):110-114. doi:10.2307/3002019; Welch BL. The generalization
   of "Student's" problem when several different population variances are involved.
   Biometrika 1947;34(1-2):28-35. doi:10.1093/biomet/34.1-2.28
.. [4] Olsen EA, Dunlap FE, Funicella T, et al. A randomized clinical trial of 5% topical
   minoxidil versus 2% topical minoxidil and placebo in the treatment of androgenetic
   alopecia in men. J Am Acad Dermatol 2002;47(3):377-385. doi:10.1067/mjd.2002.124088
.. [5] Frison L, Pocock SJ. Repeated measures in clinical trials: analysis using mean
   summary statistics and its implications for design. Stat Med 1992;11(13):1685-1704.
   doi:10.1002/sim.4780111304
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from scipy import optimize, special, stats

from anagen.evidence.results import Result

ALTERNATIVES = ("two-sided", "one-sided")
_N_MAX = 10_000_000.0


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise ValueError(f"{name} must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return x


def _positive(name: str, value: Any) -> float:
    x = _number(name, value)
    if x <= 0:
        raise ValueError(f"{name} must be greater than 0, got {value!r}")
    return x


def _check_common(difference: Any, alpha: Any, alternative: str) -> tuple[float, float]:
    diff = _number("difference", difference)
    if diff == 0:
        raise ValueError("difference must not be 0: give the smallest change worth detecting, e.g. 10 hairs/cm²")
    a = _number("alpha", alpha)
    if not 0 < a < 1:
        raise ValueError(f"alpha must be between 0 and 1 (e.g. 0.05), got {alpha!r}")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {', '.join(ALTERNATIVES)}, got {alternative!r}")
    return diff, a


def _check_target(power: Any, alpha: float, alternative: str) -> float:
    p = _number("power", power)
    if not 0 < p < 1:
        raise ValueError(f"power must be between 0 and 1 (e.g. 0.8), got {power!r}")
    floor = alpha / 2 if alternative == "two-sided" else alpha
    if p <= floor:
        raise ValueError(f"power must be above {floor:g} (what alpha gives with no effect), got {power!r}")
    return p


def _check_dropout(dropout: Any) -> float:
    d = _number("dropout", dropout)
    if not 0 <= d < 1:
        raise ValueError(f"dropout must be at least 0 and below 1 (e.g. 0.1 for 10 %), got {dropout!r}")
    return d


def _check_measurement(measurement_sd: Any) -> float:
    s = _number("measurement_sd", measurement_sd)
    if s < 0:
        raise ValueError(f"measurement_sd must be 0 or more, got {measurement_sd!r}")
    return s


def _check_rho(rho: Any) -> float | None:
    if rho is None:
        return None
    r = _number("rho", rho)
    if not -1 < r < 1:
        raise ValueError(f"rho (baseline to follow-up correlation) must be between -1 and 1, got {rho!r}")
    return r


# --------------------------------------------------------------------------------------------
# The noncentral t (as statsmodels.stats.power.ttest_power)
# --------------------------------------------------------------------------------------------


def _nct_cdf(x: float, df: float, nc: float) -> float:
    value = float(special.nctdtr(df, nc, x))
    if math.isnan(value):  # far tails, where scipy gives up: the probability is negligible
        return 0.0 if x < nc else 1.0
    return value


def _t_power(nc: float, df: float, alpha: float, alternative: str) -> float:
    """Power of a t-test whose statistic is noncentral t(df, nc); ``nc >= 0`` is the effect."""
    if alternative == "two-sided":
        crit = float(stats.t.isf(alpha / 2, df))
        return (1 - _nct_cdf(crit, df, nc)) + _nct_cdf(-crit, df, nc)
    crit = float(stats.t.isf(alpha, df))
    return 1 - _nct_cdf(crit, df, nc)


# --------------------------------------------------------------------------------------------
# Effective SDs
# --------------------------------------------------------------------------------------------


def parallel_sds(
    sd: float, sd_control: float | None, *, rho: float | None = None, measurement_sd: float = 0.0
) -> tuple[float, float]:
    """The analysis SD of each arm, after measurement error and baseline adjustment.

    Returns
    -------
    (sd_treatment, sd_control) : tuple of float
        Change scores (``rho`` None): ``sqrt(sd^2 + 2 s_m^2)``. ANCOVA: ``sd_obs^2 =
        sd^2 + s_m^2``, ``rho_obs = rho sd^2 / sd_obs^2``, residual SD ``sd_obs sqrt(1 -
        rho_obs^2)`` [2]_, [5]_.
    """
    out = []
    for s in (sd, sd if sd_control is None else sd_control):
        if rho is None:
            out.append(math.sqrt(s * s + 2 * measurement_sd**2))
        else:
            observed = s * s + measurement_sd**2
            rho_obs = rho * s * s / observed
            out.append(math.sqrt(observed * (1 - rho_obs**2)))
    return out[0], out[1]


def paired_sd(sd_difference: float, *, measurement_sd: float = 0.0) -> float:
    """SD of the observed within-patient difference of the two sides' changes (4 counts)."""
    return math.sqrt(sd_difference**2 + 4 * measurement_sd**2)


# --------------------------------------------------------------------------------------------
# Power
# --------------------------------------------------------------------------------------------


def _parallel_terms(
    diff: float, sd_t: float, sd_c: float, n_t: float, n_c: float, ancova: bool
) -> tuple[float, float, str]:
    """(noncentrality, df, method) for the two-sample comparison."""
    lost = 1 if ancova else 0  # the baseline slope's degree of freedom
    if math.isclose(sd_t, sd_c, rel_tol=1e-12):
        nc = abs(diff) / sd_t * math.sqrt(1.0 / (1.0 / n_t + 1.0 / n_c))
        df = n_t + n_c - 2 - lost
        return nc, df, "pooled t-test" if not ancova else "ANCOVA (pooled t, 1 - rho^2)"
    v_t, v_c = sd_t**2 / n_t, sd_c**2 / n_c
    nc = abs(diff) / math.sqrt(v_t + v_c)
    df = (v_t + v_c) ** 2 / (v_t**2 / (n_t - 1) + v_c**2 / (n_c - 1)) - lost
    return nc, df, "Welch t-test (Satterthwaite df)" if not ancova else "ANCOVA (Welch t, 1 - rho^2)"


def power_parallel(
    *,
    difference: float,
    sd: float,
    n_treatment: float,
    n_control: float | None = None,
    sd_control: float | None = None,
    alpha: float = 0.05,
    rho: float | None = None,
    measurement_sd: float = 0.0,
    alternative: str = "two-sided",
) -> float:
    """Power of a parallel two-arm comparison of mean change.

    Parameters
    ----------
    difference : float
        True difference in mean change between arms (e.g. hairs/cm²); its sign does not matter.
    sd, sd_control : float
        SD of the outcome in the treatment and control arms (``sd_control`` defaults to
        ``sd``). With ``rho``: the SD of the follow-up value; otherwise of the change.
    n_treatment, n_control : float
        Evaluable subjects per arm (``n_control`` defaults to ``n_treatment``).
    alpha : float
    rho : float, optional
        Correlation of baseline and follow-up: ANCOVA on baseline [2]_.
    measurement_sd : float
        The hair counter's SD per counted image (see the module notes).
    alternative : {"two-sided", "one-sided"}

    Returns
    -------
    float
        Equal to ``TTestIndPower().power(difference / sd, n_treatment, alpha,
        ratio=n_control / n_treatment)`` for equal SDs without ``rho`` or measurement error.
    """
    diff, a = _check_common(difference, alpha, alternative)
    sd_t = _positive("sd", sd)
    sd_c = sd_t if sd_control is None else _positive("sd_control", sd_control)
    r = _check_rho(rho)
    s_m = _check_measurement(measurement_sd)
    n_t = _positive("n_treatment", n_treatment)
    n_c = n_t if n_control is None else _positive("n_control", n_control)
    if n_t + n_c - 2 - (r is not None) <= 0 or min(n_t, n_c) <= 1:
        raise ValueError("each arm needs more than 1 subject to estimate a variance")
    eff_t, eff_c = parallel_sds(sd_t, sd_c, rho=r, measurement_sd=s_m)
    nc, df, _ = _parallel_terms(diff, eff_t, eff_c, n_t, n_c, r is not None)
    return _t_power(nc, df, a, alternative)


def power_paired(
    *,
    difference: float,
    sd: float,
    n: float,
    alpha: float = 0.05,
    measurement_sd: float = 0.0,
    alternative: str = "two-sided",
) -> float:
    """Power of a split-scalp (paired) study: one-sample t-test on within-patient differences.

    Parameters
    ----------
    difference : float
        True mean within-patient difference (active side minus placebo side).
    sd : float
        SD of the within-patient difference of the sides' changes.
    n : float
        Evaluable subjects (each contributes both halves of the scalp).

    Returns
    -------
    float
        Equal to ``TTestPower().power(difference / sd, n, alpha)`` without measurement error.
    """
    diff, a = _check_common(difference, alpha, alternative)
    sd_d = _positive("sd", sd)
    s_m = _check_measurement(measurement_sd)
    n_ = _positive("n", n)
    if n_ <= 1:
        raise ValueError("a paired study needs more than 1 subject")
    eff = paired_sd(sd_d, measurement_sd=s_m)
    return _t_power(abs(diff) / eff * math.sqrt(n_), n_ - 1, a, alternative)


# --------------------------------------------------------------------------------------------
# Sample size
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ParallelSampleSize(Result):
    """Subjects to enrol in a parallel study.

    ``n_treatment`` and ``n_control`` are the numbers to enrol (after the drop-out
    allowance); ``n_evaluable_*`` the numbers that must complete; ``n_per_arm`` equals both
    when the ratio is 1 and is ``None`` otherwise. ``achieved_power`` is the power of the
    evaluable numbers. ``sd_analysis_*`` are the SDs the test sees after measurement error
    and baseline adjustment. ``n_normal_approximation`` is the textbook z formula's
    evaluable control-arm size, ``(z_(1-alpha/2) + z_power)^2 (sd_t^2 / ratio + sd_c^2) /
    difference^2`` rounded up, which many protocols quote; the t-based answer is one or two
    larger for small studies.
    """

    method: str
    design: str
    difference: float
    sd: float
    sd_control: float
    alpha: float
    power: float
    alternative: str
    ratio: float
    dropout: float
    rho: float | None
    measurement_sd: float
    sd_analysis_treatment: float
    sd_analysis_control: float
    n_per_arm: int | None
    n_treatment: int
    n_control: int
    n_total: int
    n_evaluable_treatment: int
    n_evaluable_control: int
    achieved_power: float
    n_normal_approximation: int


@dataclasses.dataclass(frozen=True)
class PairedSampleSize(Result):
    """Subjects to enrol in a split-scalp (paired) study; each gives both scalp halves.

    ``n_normal_approximation`` is the z formula ``(z_(1-alpha/2) + z_power)^2 sd^2 /
    difference^2`` rounded up (evaluable subjects).
    """

    method: str
    design: str
    difference: float
    sd: float
    alpha: float
    power: float
    alternative: str
    dropout: float
    measurement_sd: float
    sd_analysis: float
    n_subjects: int
    n_scalp_halves: int
    n_evaluable_subjects: int
    achieved_power: float
    n_normal_approximation: int


def _solve(power_of_n: Any, target: float, low: float) -> float:
    """The continuous n where ``power_of_n(n) = target`` (power increases with n)."""
    if power_of_n(low) >= target:
        return low
    high = max(2 * low, 4.0)
    while power_of_n(high) < target:
        high *= 2
        if high > _N_MAX:
            raise ValueError("the study would need more than 10 million subjects; check the difference and SDs")
    return float(optimize.brentq(lambda n: power_of_n(n) - target, low, high, xtol=1e-10, rtol=1e-12))


def _z_n(variance_sum: float, diff: float, alpha: float, power: float, alternative: str) -> int:
    """Julious [1]_ eq. (2): n = (z_(1-alpha/2) + z_(1-beta))^2 * variance / difference^2."""
    z_a = stats.norm.isf(alpha / 2 if alternative == "two-sided" else alpha)
    z_b = stats.norm.ppf(power)
    return int(math.ceil((z_a + z_b) ** 2 * variance_sum / diff**2 - 1e-9))


def _inflate(n: int, dropout: float) -> int:
    # eq. n_enrol = n / (1 - dropout), rounded up; the small tolerance keeps 40/0.8 at 50
    return int(math.ceil(n / (1 - dropout) - 1e-9))


def sample_size_parallel(
    *,
    difference: float,
    sd: float,
    sd_control: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    dropout: float = 0.0,
    rho: float | None = None,
    measurement_sd: float = 0.0,
    alternative: str = "two-sided",
) -> ParallelSampleSize:
    """Subjects per arm for a parallel study of mean change (or ANCOVA on baseline).

    Parameters
    ----------
    difference, sd, sd_control, alpha, rho, measurement_sd, alternative
        As :func:`power_parallel`.
    power : float
        Target power, in (0, 1).
    ratio : float
        Allocation ratio treatment : control (``n_treatment = ratio * n_control``); 2 means
        two treated subjects per control.
    dropout : float
        Expected proportion lost before the primary visit, in [0, 1).

    Returns
    -------
    ParallelSampleSize

    Notes
    -----
    The continuous ``n_control`` solving ``power = target`` is found by root-finding (the
    same root as ``TTestIndPower().solve_power(..., nobs1=None)`` with ``nobs1`` the control
    arm and ``ratio``); both arms are then rounded up and inflated for drop-out.

    Examples
    --------
    >>> sample_size_parallel(difference=14.7, sd=25.4, sd_control=21.7).n_per_arm
    42
    """
    diff, a = _check_common(difference, alpha, alternative)
    target = _check_target(power, a, alternative)
    sd_t = _positive("sd", sd)
    sd_c = sd_t if sd_control is None else _positive("sd_control", sd_control)
    k = _positive("ratio", ratio)
    d = _check_dropout(dropout)
    r = _check_rho(rho)
    s_m = _check_measurement(measurement_sd)
    eff_t, eff_c = parallel_sds(sd_t, sd_c, rho=r, measurement_sd=s_m)
    ancova = r is not None

    def power_of(n_c: float) -> float:
        nc, df, _ = _parallel_terms(diff, eff_t, eff_c, k * n_c, n_c, ancova)
        return _t_power(nc, df, a, alternative)

    # At least 2 subjects in each arm (a variance per arm) and a positive df.
    low = max(2.0, 2.0 / k, (3.0 + ancova) / (1 + k))
    n_c_float = _solve(power_of, target, low)
    n_c = int(math.ceil(n_c_float - 1e-9))
    n_t = int(math.ceil(k * n_c_float - 1e-9))
    nc, df, method = _parallel_terms(diff, eff_t, eff_c, n_t, n_c, ancova)
    achieved = _t_power(nc, df, a, alternative)
    enrol_t, enrol_c = _inflate(n_t, d), _inflate(n_c, d)
    return ParallelSampleSize(
        method=method, design="parallel", difference=diff, sd=sd_t, sd_control=sd_c, alpha=a,
        power=target, alternative=alternative, ratio=k, dropout=d, rho=r, measurement_sd=s_m,
        sd_analysis_treatment=eff_t, sd_analysis_control=eff_c,
        n_per_arm=enrol_c if enrol_t == enrol_c else None, n_treatment=enrol_t, n_control=enrol_c,
        n_total=enrol_t + enrol_c, n_evaluable_treatment=n_t, n_evaluable_control=n_c, achieved_power=achieved,
        n_normal_approximation=_z_n(eff_t**2 / k + eff_c**2, diff, a, target, alternative),
    )


def sample_size_paired(
    *,
    difference: float,
    sd: float,
    alpha: float = 0.05,
    power: float = 0.8,
    dropout: float = 0.0,
    measurement_sd: float = 0.0,
    alternative: str = "two-sided",
) -> PairedSampleSize:
    """Subjects for a split-scalp (paired) study.

    Parameters
    ----------
    difference : float
        Mean within-patient difference to detect (active side minus placebo side).
    sd : float
        SD of the within-patient difference (20-25 hairs/cm² is realistic).
    alpha, power, dropout, measurement_sd, alternative
        As :func:`sample_size_parallel`; measurement error enters as four counts.

    Returns
    -------
    PairedSampleSize
        ``n_subjects`` to enrol; ``n_evaluable_subjects`` equals
        ``ceil(TTestPower().solve_power(difference / sd, alpha=alpha, power=power))``.

    Examples
    --------
    >>> sample_size_paired(difference=10, sd=20).n_subjects
    34
    """
    diff, a = _check_common(difference, alpha, alternative)
    target = _check_target(power, a, alternative)
    sd_d = _positive("sd", sd)
    d = _check_dropout(dropout)
    s_m = _check_measurement(measurement_sd)
    eff = paired_sd(sd_d, measurement_sd=s_m)

    def power_of(n: float) -> float:
        return _t_power(abs(diff) / eff * math.sqrt(n), n - 1, a, alternative)

    n = int(math.ceil(_solve(power_of, target, 2.0) - 1e-9))
    enrol = _inflate(n, d)
    return PairedSampleSize(
        method="paired t-test (within-patient difference)", design="split-scalp", difference=diff, sd=sd_d,
        alpha=a, power=target, alternative=alternative, dropout=d, measurement_sd=s_m, sd_analysis=eff,
        n_subjects=enrol, n_scalp_halves=2 * enrol, n_evaluable_subjects=n, achieved_power=power_of(n),
        n_normal_approximation=_z_n(eff**2, diff, a, target, alternative),
    )


# --------------------------------------------------------------------------------------------
# The planning table
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PlanningRow(Result):
    """One scenario of the planning table: what it assumes, where from, and the answer."""

    label: str
    source: str
    result: ParallelSampleSize | PairedSampleSize


OLSEN_2002 = {
    "minoxidil_5pct_change": 18.6, "minoxidil_5pct_sd": 25.4, "minoxidil_5pct_n": 139,
    "placebo_change": 3.9, "placebo_sd": 21.7, "placebo_n": 78,
}
"""Olsen et al. 2002 [4]_: change in non-vellus hairs/cm² at 48 weeks, mean, SD and n."""


def planning_table(*, alpha: float = 0.05, power: float = 0.8, dropout: float = 0.1) -> tuple[PlanningRow, ...]:
    """Sample sizes for the designs a hair-restoration clinic plans, from published SDs.

    Rows: the parallel minoxidil 5 % vs placebo comparison of Olsen et al. [4]_ (difference
    14.7, SDs 25.4 and 21.7 hairs/cm², Welch) without and with drop-out, with a hair-counter
    SD of 5 hairs/cm² per image, at 2:1 allocation, and a half-size effect; and split-scalp
    studies with a within-patient difference SD of 20 and 25 hairs/cm² (realistic for
    phototrichogram counts) for differences of 10 and 14.7 hairs/cm².

    Returns
    -------
    tuple of PlanningRow
        Plain data: ``[row.to_dict() for row in planning_table()]`` is a JSON table.
    """
    o = OLSEN_2002
    diff = round(o["minoxidil_5pct_change"] - o["placebo_change"], 10)
    sd_t, sd_c = o["minoxidil_5pct_sd"], o["placebo_sd"]
    src = "Olsen et al. 2002, 48 weeks"
    common = {"alpha": alpha, "power": power}
    rows = [
        ("minoxidil 5 % vs placebo, parallel", src,
         sample_size_parallel(difference=diff, sd=sd_t, sd_control=sd_c, **common)),
        (f"same, {dropout:.0%} drop-out", src,
         sample_size_parallel(difference=diff, sd=sd_t, sd_control=sd_c, dropout=dropout, **common)),
        ("same, counter SD 5 hairs/cm² per image", f"{src}; counter SD assumed",
         sample_size_parallel(difference=diff, sd=sd_t, sd_control=sd_c, measurement_sd=5.0,
                              dropout=dropout, **common)),
        ("same, 2:1 allocation", src,
         sample_size_parallel(difference=diff, sd=sd_t, sd_control=sd_c, ratio=2.0, dropout=dropout, **common)),
        ("half the minoxidil effect (7.35), parallel", src,
         sample_size_parallel(difference=diff / 2, sd=sd_t, sd_control=sd_c, dropout=dropout, **common)),
    ]
    for sd_d in (20.0, 25.0):
        for effect in (10.0, diff):
            rows.append((
                f"split-scalp, difference {effect:g}, SD of difference {sd_d:g}",
                "within-patient SD 20-25 hairs/cm² (phototrichogram practice)",
                sample_size_paired(difference=effect, sd=sd_d, dropout=dropout, **common),
            ))
    return tuple(PlanningRow(label=label, source=source, result=result) for label, source, result in rows)
