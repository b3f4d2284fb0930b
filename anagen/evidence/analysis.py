"""Trial analyses on the long study dataset (:mod:`anagen.evidence.dataset`).

Which analysis answers which design
-----------------------------------
- **Change from baseline per visit** (:func:`change_by_visit`): the mean change in each arm at
  each visit with its 95 % t interval, and how many subjects were analysed and missing.
- **Split-scalp** (within-person) studies compare the two sides of one head, so the analysis is
  paired: :func:`paired_difference` (paired t on the per-subject difference of changes,
  active side minus control side), :func:`wilcoxon_signed_rank` (the same pairs without the
  normal assumption: Hodges-Lehmann estimate, distribution-free interval, signed-rank test),
  and :func:`split_scalp_mixed_model` (a linear mixed model of the change on arm, side and
  baseline with a random intercept per subject, which also uses subjects with one side
  missing).
- **Parallel** studies compare arms: :func:`ancova` (change on arm and baseline by ordinary
  least squares, the regulators' preferred primary analysis, EMA 2015) and
  :func:`repeated_mixed_model` for all visits at once.
- **Parallel studies with several active arms**: :func:`ancova_against_control` (one ANCOVA
  with arm as a factor; each active arm against the control, Holm-adjusted p-values and
  Bonferroni simultaneous intervals); :func:`ancova_between_active_arms` compares the active
  arms with each other from the same model (its own family for Holm and Bonferroni).
- :func:`primary_analysis` picks the design's primary analysis; :func:`fixed_sequence`
  controls multiplicity when several endpoints are declared in order.

Missing data are stated, never dropped in silence: each result carries, per arm (and visit),
the subjects in the analysis set, those analysed and those missing. A subject with no value
or no baseline at the visit is missing; the analyses here are complete-case (available-case
for the mixed models), which is unbiased when data are missing completely at random and, for
the mixed models, when they are missing at random given the observed visits.

Every result names its analysis set: ``itt`` (intention-to-treat: all randomized, analysed
as randomized) or ``per_protocol``.

Common parameters
-----------------
df : pandas.DataFrame
    The long study dataset (:mod:`anagen.evidence.dataset`); a hand-built frame is checked
    and typed first.
visit_week : int, optional
    The visit analysed; default the last visit in the dataset.
analysis_set : {"itt", "per_protocol"}
    Intention-to-treat (default) or per-protocol.
endpoint : str, optional
    Needed when the dataset holds several endpoints.
active, control : str, optional
    Arm names; by default the control is the arm called placebo, control, vehicle or sham and
    the active arm the other one. Every effect is active minus control.
confidence : float
    Two-sided coverage of the interval, 0.95 by default.

Errors
------
:class:`~anagen.evidence.dataset.DatasetError` (a ``ValueError``) with a message that says
what to fix when the data cannot answer the question: an arm with no subjects in the set or
nobody measured at the visit, a visit that does not exist or has no data, the wrong design,
an unknown arm or endpoint, too few subjects for the model. When a number exists but its
interval or test does not (one pair, no spread), the result has ``ci = (None, None)``,
``p_value = None`` and a ``note``.

References
----------
European Medicines Agency. Guideline on adjustment for baseline covariates in clinical trials.
EMA/CHMP/295050/2013, 2015.
Vickers AJ, Altman DG. Analysing controlled trials with baseline and follow up measurements.
BMJ 2001;323:1123-1124. doi:10.1136/bmj.323.7321.1123
Mallinckrodt CH, Lane PW, Schnell D, Peng Y, Mancuso JP. Recommendations for the primary
analysis of continuous endpoints in longitudinal clinical trials. Drug Inf J 2008;42:303-319.
doi:10.1177/009286150804200402
Hollander M, Wolfe DA. Nonparametric Statistical Methods, 2nd ed. Wiley, 1999, sections 3.1-3.3.
Holm S. A simple sequentially rejective multiple test procedure. Scand J Stat 1979;6:65-70.
Westfall PH, Krishen A. Optimally weighted, fixed sequence and gatekeeper multiple testing
procedures. J Stat Plan Inference 2001;99:25-40. doi:10.1016/S0378-3758(01)00077-5
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _sp

from anagen.evidence import descriptive
from anagen.evidence.dataset import (
    ANALYSIS_SETS,
    PARALLEL,
    SPLIT_SCALP,
    DatasetError,
    arms_of,
    design_of,
    ensure,
    select,
    visit_weeks_of,
)
from anagen.evidence.results import Result

CONTROL_NAMES = ("placebo", "control", "vehicle", "sham")


@dataclass(frozen=True)
class GroupCount(Result):
    """Subjects (or, in a split-scalp study, scalp halves) of one arm at one visit."""

    arm: str
    visit_week: int
    n_in_set: int
    n_analysed: int
    n_missing: int


@dataclass(frozen=True)
class Effect(Result):
    """A treatment effect, active minus control, with its interval and test.

    ``estimate``, ``ci`` and ``p_value`` are None when they cannot be computed; ``note`` then
    says why. ``n`` counts the subjects analysed (pairs in a split-scalp study) and
    ``n_missing`` those of the analysis set left out for a missing value. ``n_unblinded``
    counts subjects of the analysis set whose allocation was revealed before the lock; they
    stay in the analysis (intention-to-treat), and a report should say how many there were.
    """

    method: str
    design: str
    analysis_set: str
    endpoint: str
    visit_week: int | None
    contrast: str
    estimate: float | None
    ci: tuple[float | None, float | None]
    confidence: float
    p_value: float | None
    n: int
    n_missing: int
    counts: tuple[GroupCount, ...]
    statistic: float | None = None
    df: float | None = None
    note: str = ""
    n_unblinded: int = 0


@dataclass(frozen=True)
class VisitChange(Result):
    """Mean change from baseline of one arm at one visit, with its t interval."""

    arm: str
    visit_week: int
    n: int
    n_missing: int
    mean: float | None
    sd: float | None
    ci: tuple[float | None, float | None]
    note: str = ""


@dataclass(frozen=True)
class ChangeByVisit(Result):
    """Change from baseline per arm and visit."""

    method: str
    design: str
    analysis_set: str
    endpoint: str
    confidence: float
    rows: tuple[VisitChange, ...]


@dataclass(frozen=True)
class RepeatedEffects(Result):
    """Effects at every visit from one model fitted to all visits."""

    method: str
    design: str
    analysis_set: str
    endpoint: str
    effects: tuple[Effect, ...]
    converged: bool
    note: str = ""


@dataclass(frozen=True)
class PrimaryAnalysis(Result):
    """The design's primary analysis at one visit (split-scalp: paired t and Wilcoxon)."""

    design: str
    analysis_set: str
    endpoint: str
    visit_week: int
    results: tuple[Effect, ...]


@dataclass(frozen=True)
class HierarchyStep(Result):
    order: int
    endpoint: str
    method: str
    p_value: float | None
    tested: bool
    rejected: bool


@dataclass(frozen=True)
class Hierarchy(Result):
    """A fixed testing sequence: endpoints tested in the declared order at full alpha."""

    method: str
    alpha: float
    steps: tuple[HierarchyStep, ...]
    conclusion: str


# --------------------------------------------------------------------------------------------
# Preparing the rows


@dataclass(frozen=True)
class _Prepared:
    rows: pd.DataFrame  # one endpoint, one analysis set, the two arms; with "change" and "treated"
    design: str
    endpoint: str
    analysis_set: str
    control: str
    active: str

    @property
    def contrast(self) -> str:
        return f"{self.active} - {self.control}"

    @property
    def n_unblinded(self) -> int:
        return int(self.rows.loc[self.rows["unblinded"], "subject"].nunique())

    @property
    def arm_column(self) -> str:
        return "arm" if self.design == PARALLEL else "side_arm"


def _prepare(df: pd.DataFrame, *, analysis_set: str, endpoint: str | None, active: str | None,
             control: str | None, design: str | None = None) -> _Prepared:
    df = ensure(df)
    actual = design_of(df)
    if design is not None and design != actual:
        raise DatasetError(f"the dataset is a {actual} study, not {design}; analyse it as {actual}.")
    rows, endpoint = select(df, analysis_set=analysis_set, endpoint=endpoint)
    arms = arms_of(df)
    control, active = _pick_arms(arms, active=active, control=control)
    column = "arm" if actual == PARALLEL else "side_arm"
    rows = rows[rows[column].isin([control, active])].copy()
    for arm in (control, active):
        if not (rows[column] == arm).any():
            raise DatasetError(f"arm {arm!r} has no subject in the {ANALYSIS_SETS[analysis_set]} set; "
                               "an analysis needs subjects in both arms.")
    rows["change"] = rows["value"] - rows["baseline"]
    rows["treated"] = (rows[column] == active).astype(float)
    # the unit that is randomized and counted: a subject, or a scalp half
    rows["unit"] = rows["subject"] if actual == PARALLEL else rows["subject"] + "|" + rows["side"]
    return _Prepared(rows=rows, design=actual, endpoint=endpoint, analysis_set=analysis_set,
                     control=control, active=active)


def _pick_arms(arms: list[str], *, active: str | None, control: str | None) -> tuple[str, str]:
    for name in (active, control):
        if name is not None and name not in arms:
            raise DatasetError(f"no arm {name!r} in the dataset; its arms are {', '.join(arms)}.")
    if len(arms) < 2:
        raise DatasetError(f"the dataset has one arm ({', '.join(arms)}); a comparison needs two.")
    if control is None:
        others = [a for a in arms if a != active]
        named = [a for a in others if a.lower() in CONTROL_NAMES]
        if named:
            control = named[0]
        elif len(arms) == 2:
            control = others[0]
        else:
            raise DatasetError(f"the dataset has arms {', '.join(arms)}; name the control arm.")
    if active is None:
        others = [a for a in arms if a != control]
        if len(others) != 1:
            raise DatasetError(f"the dataset has arms {', '.join(arms)}; name the active arm.")
        active = others[0]
    if active == control:
        raise DatasetError("the active and the control arm must differ.")
    return control, active


def _visit(prep: _Prepared, visit_week: int | None) -> int:
    weeks = visit_weeks_of(prep.rows)
    if visit_week is None:
        return weeks[-1]
    if visit_week not in weeks:
        raise DatasetError(f"no visit at week {visit_week} in the dataset; its visits are at weeks "
                           f"{', '.join(str(w) for w in weeks)}.")
    if not prep.rows.loc[prep.rows["visit_week"] == visit_week, "change"].notna().any():
        with_data = sorted(set(prep.rows.loc[prep.rows["change"].notna(), "visit_week"]))
        raise DatasetError(f"no measured value at week {visit_week}; weeks with data: "
                           f"{', '.join(str(w) for w in with_data) or 'none'}.")
    return int(visit_week)


def _counts(prep: _Prepared, week: int) -> tuple[GroupCount, ...]:
    """Per arm: units in the set, analysed (value and baseline present) and missing at ``week``."""
    rows = prep.rows
    measured = (rows["visit_week"] == week) & rows["change"].notna()
    out = []
    for arm in (prep.control, prep.active):
        in_arm = rows[prep.arm_column] == arm
        n_in_set = rows.loc[in_arm, "unit"].nunique()
        n_analysed = rows.loc[in_arm & measured, "unit"].nunique()
        out.append(GroupCount(arm=arm, visit_week=week, n_in_set=n_in_set, n_analysed=n_analysed,
                              n_missing=n_in_set - n_analysed))
    return tuple(out)


def _method_name(base: str, prep: _Prepared) -> str:
    return f"{base} ({ANALYSIS_SETS[prep.analysis_set]})"


def _finite_or_none(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _pairs(prep: _Prepared, week: int) -> pd.DataFrame:
    """Split-scalp: one row per subject with both sides measured: change_active, change_control."""
    at = prep.rows[(prep.rows["visit_week"] == week) & prep.rows["change"].notna()]
    sides = []
    for arm in (prep.active, prep.control):
        side = at.loc[at["side_arm"] == arm, ["subject", "change"]].drop_duplicates("subject")
        sides.append(side.set_index("subject")["change"])
    return pd.concat(sides, axis=1, keys=["change_active", "change_control"], join="inner")


def _split_n(prep: _Prepared, n_pairs: int) -> int:
    """Subjects of the set without a pair at the visit."""
    return prep.rows["subject"].nunique() - n_pairs


def _require_split(prep: _Prepared, what: str) -> None:
    if prep.design != SPLIT_SCALP:
        raise DatasetError(f"{what} is for split-scalp studies; this is a {prep.design} study "
                           "(use ancova or repeated_mixed_model).")


def _require_parallel(prep: _Prepared, what: str) -> None:
    if prep.design != PARALLEL:
        raise DatasetError(f"{what} is for parallel studies; this is a {prep.design} study "
                           "(use paired_difference, wilcoxon_signed_rank or split_scalp_mixed_model).")


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}.")


# --------------------------------------------------------------------------------------------
# Change from baseline


def change_by_visit(df: pd.DataFrame, *, analysis_set: str = "itt", endpoint: str | None = None,
                    confidence: float = 0.95) -> ChangeByVisit:
    """Mean change from baseline per arm and visit with its t interval.

    Each row is :func:`anagen.evidence.descriptive.mean_ci` of the changes ``value - baseline``
    of the arm's subjects (split-scalp: of the scalp halves given that arm) at the visit, with
    the number analysed and missing. Works for any number of arms.

    Parameters
    ----------
    df, analysis_set, endpoint, confidence
        See *Common parameters* in the module docstring.

    Returns
    -------
    ChangeByVisit

    Examples
    --------
    >>> from anagen.evidence.simulate import simulate_study
    >>> rows = change_by_visit(simulate_study(n_per_arm=20, dropout=0.0, seed=1)).rows
    >>> [(r.arm, r.visit_week, r.n) for r in rows][:2]
    [('active', 12, 20), ('active', 24, 20)]
    """
    _check_confidence(confidence)
    df = ensure(df)
    rows, endpoint = select(df, analysis_set=analysis_set, endpoint=endpoint)
    design = design_of(df)
    column = "arm" if design == PARALLEL else "side_arm"
    units = ["subject"] if design == PARALLEL else ["subject", "side"]
    rows = rows.assign(change=rows["value"] - rows["baseline"])
    out = []
    for arm in sorted(set(rows[column])):
        arm_rows = rows[rows[column] == arm]
        n_in_set = len(arm_rows.drop_duplicates(units))
        for week in visit_weeks_of(rows):
            changes = arm_rows.loc[(arm_rows["visit_week"] == week), ["change", *units]].dropna().drop_duplicates(units)
            m = descriptive.mean_ci(changes["change"].tolist(), confidence)
            out.append(VisitChange(arm=arm, visit_week=week, n=m.n, n_missing=n_in_set - m.n, mean=m.mean, sd=m.sd,
                                   ci=(m.lower, m.upper), note=m.reason))
    return ChangeByVisit(method=f"mean change from baseline, t interval ({ANALYSIS_SETS[analysis_set]})",
                         design=design, analysis_set=analysis_set, endpoint=endpoint, confidence=confidence,
                         rows=tuple(out))


# --------------------------------------------------------------------------------------------
# Split-scalp


def paired_difference(df: pd.DataFrame, *, visit_week: int | None = None, analysis_set: str = "itt",
                      endpoint: str | None = None, active: str | None = None, control: str | None = None,
                      confidence: float = 0.95) -> Effect:
    """Split-scalp paired t: mean within-subject difference of changes, active minus control.

    For each subject with both sides measured at the visit, ``d = (value - baseline)_active -
    (value - baseline)_control``; the estimate is ``mean(d)`` with interval
    ``mean ± t(1 - α/2, n - 1)·s_d/√n`` and the two-sided one-sample t test of ``mean(d) = 0``
    (identical to ``scipy.stats.ttest_rel`` on the two sides' changes).

    With one pair the estimate is given without interval or test; when every difference is the
    same there is no spread, and the note says so.

    Parameters
    ----------
    df, visit_week, analysis_set, endpoint, active, control, confidence
        See *Common parameters* in the module docstring.

    Returns
    -------
    Effect
    """
    _check_confidence(confidence)
    prep = _prepare(df, analysis_set=analysis_set, endpoint=endpoint, active=active, control=control)
    _require_split(prep, "the paired difference")
    week = _visit(prep, visit_week)
    pairs = _pairs(prep, week)
    counts = _counts(prep, week)
    n = len(pairs)
    base = dict(method=_method_name("paired t on the within-subject difference", prep), design=prep.design,
                analysis_set=prep.analysis_set, endpoint=prep.endpoint, visit_week=week, contrast=prep.contrast,
                confidence=confidence, n=n, n_missing=_split_n(prep, n), counts=counts,
                n_unblinded=prep.n_unblinded)
    if n == 0:
        raise DatasetError(f"no subject has both sides measured at week {week}; a paired analysis needs pairs.")
    d = (pairs["change_active"] - pairs["change_control"]).to_numpy()
    m = descriptive.mean_ci(d.tolist(), confidence)
    if n == 1:
        return Effect(**base, estimate=m.mean, ci=(None, None), p_value=None,
                      note="one pair: no interval or test without a second subject.")
    if m.sd == 0:
        return Effect(**base, estimate=m.mean, ci=(None, None), p_value=None, df=n - 1,
                      note="every subject has the same difference: no spread, so no interval or test.")
    test = _sp.ttest_1samp(d, 0.0)
    return Effect(**base, estimate=m.mean, ci=(m.lower, m.upper), p_value=float(test.pvalue),
                  statistic=float(test.statistic), df=n - 1)


def wilcoxon_signed_rank(df: pd.DataFrame, *, visit_week: int | None = None, analysis_set: str = "itt",
                         endpoint: str | None = None, active: str | None = None, control: str | None = None,
                         confidence: float = 0.95) -> Effect:
    """Split-scalp Wilcoxon signed-rank test with the Hodges-Lehmann estimate and interval.

    The pairs are those of :func:`paired_difference`. The p-value is
    ``scipy.stats.wilcoxon(d)`` (zero differences dropped, exact distribution for small
    samples without ties, normal approximation otherwise). The estimate is the Hodges-Lehmann
    pseudo-median, the median of the ``M = n(n+1)/2`` Walsh averages ``(d_i + d_j)/2, i <= j``;
    the interval runs from the ``C``-th smallest to the ``C``-th largest Walsh average, where
    ``C`` is the largest count with ``P(T < C) <= α/2`` under the null distribution of the
    signed-rank statistic ``T`` (Hollander & Wolfe 1999, section 3.3): exact for up to 50
    pairs, by the normal approximation ``C = floor(n(n+1)/4 - z·√(n(n+1)(2n+1)/24))`` above.
    The interval is the set of shifts the exact test does not reject; its coverage is at least
    the nominal one. It cannot be given for fewer than six pairs at 95 %, where even the
    widest interval covers only ``1 - 2/2^n``.

    Parameters
    ----------
    df, visit_week, analysis_set, endpoint, active, control, confidence
        See *Common parameters* in the module docstring.

    Returns
    -------
    Effect
    """
    _check_confidence(confidence)
    prep = _prepare(df, analysis_set=analysis_set, endpoint=endpoint, active=active, control=control)
    _require_split(prep, "the Wilcoxon signed-rank test")
    week = _visit(prep, visit_week)
    pairs = _pairs(prep, week)
    n = len(pairs)
    if n == 0:
        raise DatasetError(f"no subject has both sides measured at week {week}; a paired analysis needs pairs.")
    d = (pairs["change_active"] - pairs["change_control"]).to_numpy()
    base = dict(method=_method_name("Wilcoxon signed-rank, Hodges-Lehmann estimate", prep), design=prep.design,
                analysis_set=prep.analysis_set, endpoint=prep.endpoint, visit_week=week, contrast=prep.contrast,
                confidence=confidence, n=n, n_missing=_split_n(prep, n), counts=_counts(prep, week),
                n_unblinded=prep.n_unblinded)
    i, j = np.triu_indices(n)
    walsh = np.sort((d[i] + d[j]) / 2.0)
    estimate = float(np.median(walsh))
    if np.all(d == 0):
        return Effect(**base, estimate=estimate, ci=(None, None), p_value=None,
                      note="every difference is zero: the signed-rank test has nothing to rank.")
    k = _signed_rank_count(n, 1 - confidence) - 1  # 0-based index of the C-th smallest
    ci: tuple[float | None, float | None] = (None, None)
    note = ""
    if k >= 0:
        ci = (float(walsh[k]), float(walsh[len(walsh) - 1 - k]))
    else:
        note = f"too few pairs ({n}) for a distribution-free {confidence:.0%} interval."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        test = _sp.wilcoxon(d)
    return Effect(**base, estimate=estimate, ci=ci, p_value=float(test.pvalue), statistic=float(test.statistic),
                  note=note)


def _signed_rank_count(n: int, alpha: float) -> int:
    """Largest ``C`` with ``P(T < C) <= alpha/2`` for the signed-rank statistic of ``n`` pairs.

    Exact null distribution for ``n <= 50`` (the number of subsets of ``1..n`` with each sum,
    over ``2^n``); the normal approximation above. 0 means no interval at this level.
    """
    if n <= 50:
        counts = np.zeros(n * (n + 1) // 2 + 1)
        counts[0] = 1.0
        for r in range(1, n + 1):  # add rank r to every subset
            counts[r:] = counts[r:] + counts[:-r].copy()
        cdf = np.cumsum(counts) / 2.0**n  # cdf[t] = P(T <= t)
        # P(T < C) = cdf[C - 1] <= alpha/2; C = 0 is always allowed (P(T < 0) = 0)
        return int(np.searchsorted(cdf, alpha / 2 * (1 + 1e-12), side="right"))
    z = float(_sp.norm.ppf(1 - alpha / 2))
    return max(0, math.floor(n * (n + 1) / 4 - z * math.sqrt(n * (n + 1) * (2 * n + 1) / 24)))


def split_scalp_mixed_model(df: pd.DataFrame, *, visit_week: int | None = None, analysis_set: str = "itt",
                            endpoint: str | None = None, active: str | None = None, control: str | None = None,
                            confidence: float = 0.95) -> Effect:
    """Split-scalp linear mixed model at one visit: change ~ arm + side + baseline + (1 | subject).

    Fitted by REML with ``statsmodels`` ``MixedLM``; the random intercept per subject carries
    the correlation between the two sides of one head, ``side`` (right against left) adjusts
    for a systematic side difference, and the side's own baseline for regression to the mean.
    Unlike the paired t it also uses subjects with one side missing. Wald interval and test
    from the normal distribution, as ``MixedLMResults.conf_int`` gives them.

    Parameters
    ----------
    df, visit_week, analysis_set, endpoint, active, control, confidence
        See *Common parameters* in the module docstring.

    Returns
    -------
    Effect
    """
    _check_confidence(confidence)
    prep = _prepare(df, analysis_set=analysis_set, endpoint=endpoint, active=active, control=control)
    _require_split(prep, "the split-scalp mixed model")
    week = _visit(prep, visit_week)
    at = prep.rows[(prep.rows["visit_week"] == week) & prep.rows["change"].notna()]
    counts = _counts(prep, week)
    n_subjects = at["subject"].nunique()
    base = dict(method=_method_name("linear mixed model: change ~ arm + side + baseline, random intercept per subject",
                                    prep),
                design=prep.design, analysis_set=prep.analysis_set, endpoint=prep.endpoint, visit_week=week,
                contrast=prep.contrast, confidence=confidence, n=n_subjects,
                n_missing=prep.rows["subject"].nunique() - n_subjects, counts=counts,
                n_unblinded=prep.n_unblinded)
    if n_subjects < 3:
        raise DatasetError(f"the mixed model needs at least 3 subjects measured at week {week}; there are {n_subjects}.")
    if at["change"].nunique() == 1:
        return Effect(**base, estimate=None, ci=(None, None), p_value=None,
                      note="every change is the same: the model has no variation to fit.")
    exog = np.column_stack([np.ones(len(at)), at["treated"], (at["side"] == "right").astype(float), at["baseline"]])
    fit, converged = _fit_mixed(at["change"].to_numpy(float), exog, at["subject"].to_numpy(),
                                names=["const", "treated", "side_right", "baseline"])
    lo, hi = fit.conf_int(alpha=1 - confidence).loc["treated"]
    note = "" if converged else "the fit did not converge; treat the numbers with caution."
    return Effect(**base, estimate=float(fit.fe_params["treated"]), ci=(float(lo), float(hi)),
                  p_value=_finite_or_none(fit.pvalues["treated"]), statistic=_finite_or_none(fit.tvalues["treated"]),
                  note=note)


def _fit_mixed(endog: np.ndarray, exog: np.ndarray, groups: np.ndarray, *, names: list[str]):
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    exog_frame = pd.DataFrame(exog, columns=names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fit = sm.MixedLM(endog, exog_frame, groups=groups).fit(reml=True)
    converged = bool(getattr(fit, "converged", True)) and not any(
        issubclass(w.category, ConvergenceWarning) for w in caught)
    return fit, converged


# --------------------------------------------------------------------------------------------
# Parallel


def ancova(df: pd.DataFrame, *, visit_week: int | None = None, analysis_set: str = "itt",
           endpoint: str | None = None, active: str | None = None, control: str | None = None,
           confidence: float = 0.95) -> Effect:
    """Parallel-study ANCOVA: change from baseline on arm and baseline, by least squares.

    ``change_i = β0 + β1·active_i + β2·baseline_i + ε_i`` fitted to the subjects measured at
    the visit; the effect is ``β1`` with its t interval and test (``n - 3`` degrees of freedom).
    With baseline in the model, the change and the follow-up value give the same ``β1``
    (Vickers & Altman 2001). Equal to ``statsmodels.formula.api.ols("change ~ arm + baseline")``.

    Parameters
    ----------
    df, visit_week, analysis_set, endpoint, active, control, confidence
        See *Common parameters* in the module docstring.

    Returns
    -------
    Effect
    """
    _check_confidence(confidence)
    prep = _prepare(df, analysis_set=analysis_set, endpoint=endpoint, active=active, control=control)
    _require_parallel(prep, "ANCOVA")
    week = _visit(prep, visit_week)
    counts = _counts(prep, week)
    at = prep.rows[(prep.rows["visit_week"] == week) & prep.rows["change"].notna()].drop_duplicates("subject")
    n = len(at)
    base = dict(method=_method_name("ANCOVA: change ~ arm + baseline", prep), design=prep.design,
                analysis_set=prep.analysis_set, endpoint=prep.endpoint, visit_week=week, contrast=prep.contrast,
                confidence=confidence, n=n, n_missing=sum(c.n_missing for c in counts), counts=counts,
                n_unblinded=prep.n_unblinded)
    for c in counts:
        if c.n_analysed == 0:
            raise DatasetError(f"arm {c.arm!r} has no subject measured at week {week} in the "
                               f"{ANALYSIS_SETS[prep.analysis_set]} set; ANCOVA needs both arms.")
    if n < 4:
        raise DatasetError(f"ANCOVA needs at least 4 subjects measured at week {week}; there are {n}.")
    y = at["change"].to_numpy(float)
    baseline = at["baseline"].to_numpy(float)
    if np.ptp(baseline) == 0:
        raise DatasetError(f"every subject has the same baseline ({baseline[0]:g}); ANCOVA cannot adjust for it. "
                           "Check the baseline column.")
    X = np.column_stack([np.ones(n), at["treated"].to_numpy(float), baseline])
    beta, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    dof = n - rank
    resid = y - X @ beta
    sigma2 = float(resid @ resid) / dof
    if sigma2 <= 1e-12 * max(1.0, float(y @ y) / n):
        return Effect(**base, estimate=float(beta[1]), ci=(None, None), p_value=None, df=dof,
                      note=EXACT_FIT_NOTE)
    cov = sigma2 * np.linalg.inv(X.T @ X)
    se = math.sqrt(cov[1, 1])
    t = beta[1] / se
    q = float(_sp.t.ppf(1 - (1 - confidence) / 2, dof))
    return Effect(**base, estimate=float(beta[1]), ci=(float(beta[1] - q * se), float(beta[1] + q * se)),
                  p_value=float(2 * _sp.t.sf(abs(t), dof)), statistic=float(t), df=float(dof))


def repeated_mixed_model(df: pd.DataFrame, *, analysis_set: str = "itt", endpoint: str | None = None,
                         active: str | None = None, control: str | None = None,
                         confidence: float = 0.95) -> RepeatedEffects:
    """Parallel study, all visits: a linear mixed model for repeated measures.

    ``change_iv = α_v + β_v·active_i + γ_v·baseline_i + b_i + ε_iv`` with a random intercept
    ``b_i`` per subject, fitted by REML with ``statsmodels`` ``MixedLM`` on every available
    visit; the effect at visit ``v`` is ``β_v`` with its Wald interval.

    How this differs from a full MMRM: the usual regulatory MMRM (Mallinckrodt et al. 2008)
    leaves the within-subject covariance across visits *unstructured* (its own variance per
    visit and correlation per pair of visits) and uses Kenward-Roger degrees of freedom.
    ``MixedLM`` cannot fit an unstructured residual covariance, so here the covariance is
    *compound symmetric* (one variance, one correlation for every pair of visits) and the
    intervals are normal (Wald). When variances grow over time or adjacent visits correlate
    more than distant ones, the point estimates stay close but the intervals can be too narrow
    or too wide; for a confirmatory analysis, check against an MMRM (SAS PROC MIXED with
    ``type=un``, R ``mmrm``). Like the MMRM it uses subjects with some visits missing, valid when
    data are missing at random.

    Parameters
    ----------
    df, analysis_set, endpoint, active, control, confidence
        See *Common parameters* in the module docstring.

    Returns
    -------
    RepeatedEffects
        One :class:`Effect` per visit, and whether the REML fit converged.
    """
    _check_confidence(confidence)
    prep = _prepare(df, analysis_set=analysis_set, endpoint=endpoint, active=active, control=control)
    _require_parallel(prep, "the repeated-measures mixed model")
    at = prep.rows[prep.rows["change"].notna()]
    weeks = sorted(set(int(w) for w in at["visit_week"]))
    if at["subject"].nunique() < 4:
        raise DatasetError("the mixed model needs at least 4 subjects with a measured visit.")
    for arm in (prep.control, prep.active):
        if not (at[prep.arm_column] == arm).any():
            raise DatasetError(f"arm {arm!r} has no measured visit; the mixed model needs both arms.")
    endog, exog, names = _repeated_design(at["change"].to_numpy(float), at["visit_week"].to_numpy(int),
                                          at["treated"].to_numpy(float), at["baseline"].to_numpy(float), weeks)
    fit, converged = _fit_mixed(endog, exog, at["subject"].to_numpy(), names=names)
    ci = fit.conf_int(alpha=1 - confidence)
    effects = []
    for w in weeks:
        name = f"week{w}:treated"
        counts = _counts(prep, w)
        effects.append(Effect(
            method=_method_name("mixed model for repeated visits (compound symmetry), effect at the visit", prep),
            design=prep.design, analysis_set=prep.analysis_set, endpoint=prep.endpoint, visit_week=w,
            contrast=prep.contrast, estimate=float(fit.fe_params[name]), ci=(float(ci.loc[name, 0]), float(ci.loc[name, 1])),
            confidence=confidence, p_value=_finite_or_none(fit.pvalues[name]), n=sum(c.n_analysed for c in counts),
            n_missing=sum(c.n_missing for c in counts), counts=counts, statistic=_finite_or_none(fit.tvalues[name]),
            n_unblinded=prep.n_unblinded))
    return RepeatedEffects(method=_method_name("linear mixed model, random intercept per subject, REML", prep),
                           design=prep.design, analysis_set=prep.analysis_set, endpoint=prep.endpoint,
                           effects=tuple(effects), converged=converged,
                           note="" if converged else "the fit did not converge; treat the numbers with caution.")


def _repeated_design(change: np.ndarray, week: np.ndarray, treated: np.ndarray, baseline: np.ndarray,
                     weeks: Sequence[int]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Cell-means design: per visit an intercept, an arm effect and a baseline slope."""
    columns, names = [], []
    for w in weeks:
        at = (week == w).astype(float)
        columns += [at, at * treated, at * baseline]
        names += [f"week{w}", f"week{w}:treated", f"week{w}:baseline"]
    return change, np.column_stack(columns), names


# --------------------------------------------------------------------------------------------
# Primary analysis and multiplicity


@dataclass(frozen=True)
class ArmContrast(Result):
    """One active arm against the control in a study with several active arms.

    ``effect`` carries the contrast's own interval (at the analysis' confidence) and unadjusted
    p-value; ``p_adjusted`` is the Holm-adjusted p-value and ``ci_simultaneous`` the Bonferroni
    interval, which together keep the family-wise error rate over every comparison with the
    control at ``1 - confidence``.
    """

    effect: Effect
    p_adjusted: float | None
    ci_simultaneous: tuple[float | None, float | None]


#: An ANCOVA that fits every subject exactly has no residual spread: the estimate, no interval or test.
EXACT_FIT_NOTE = "the model fits every subject exactly: no residual spread, so no interval or test."

@dataclass(frozen=True)
class ArmComparisons(Result):
    """Contrasts between arms from one ANCOVA over every arm, adjusted over their family."""

    method: str
    design: str
    analysis_set: str
    endpoint: str
    visit_week: int
    control: str
    adjustment: str
    confidence: float
    n: int
    n_missing: int
    counts: tuple[GroupCount, ...]
    contrasts: tuple[ArmContrast, ...]
    df: float | None = None


@dataclass(frozen=True)
class ArmsAgainstControl(ArmComparisons):
    """Each active arm against the control, from one ANCOVA over every arm."""


@dataclass(frozen=True)
class ActiveArmsCompared(ArmComparisons):
    """The active arms compared with each other, pair by pair, from one ANCOVA over every arm.

    ``control`` is the arm left out of these comparisons (it is in the model); each contrast is
    ``first - second`` in the order of the arms' names, its ``p_adjusted`` and
    ``ci_simultaneous`` are over the family of these pairwise comparisons.
    """


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (Holm 1979); ``None`` stays ``None`` and is not counted.

    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(present)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


@dataclass(frozen=True)
class _Joint:
    rows: pd.DataFrame  # the analysis set's rows of every arm, with "change"
    at: pd.DataFrame  # one row per subject measured at the visit
    endpoint: str
    control: str
    actives: list[str]
    week: int
    counts: list[GroupCount]


def _joint_rows(df: pd.DataFrame, *, visit_week: int | None, analysis_set: str, endpoint: str | None,
                control: str | None) -> _Joint:
    """The subjects of every arm measured at the visit, for the ANCOVA with arm as a factor."""
    df = ensure(df)
    if design_of(df) != PARALLEL:
        raise DatasetError("each arm against the control is for parallel studies; a split-scalp study has two "
                           "arms, one per half: use the paired analysis.")
    rows, endpoint = select(df, analysis_set=analysis_set, endpoint=endpoint)
    arms = arms_of(df)
    if control is None:
        named = [a for a in arms if a.lower() in CONTROL_NAMES]
        if len(named) != 1:
            raise DatasetError(f"the dataset has arms {', '.join(arms)}; name the control arm.")
        control = named[0]
    if control not in arms:
        raise DatasetError(f"no arm {control!r} in the dataset; its arms are {', '.join(arms)}.")
    actives = [a for a in arms if a != control]
    if not actives:
        raise DatasetError(f"the dataset has one arm ({control}); a comparison needs two.")
    rows = rows.copy()
    rows["change"] = rows["value"] - rows["baseline"]
    weeks = visit_weeks_of(rows)
    week = weeks[-1] if visit_week is None else int(visit_week)
    if week not in weeks:
        raise DatasetError(f"no visit at week {week} in the dataset; its visits are at weeks "
                           f"{', '.join(str(w) for w in weeks)}.")
    measured = (rows["visit_week"] == week) & rows["change"].notna()
    counts = []
    for arm in (control, *actives):
        in_arm = rows["arm"] == arm
        n_in_set = rows.loc[in_arm, "subject"].nunique()
        n_analysed = rows.loc[in_arm & measured, "subject"].nunique()
        if n_analysed == 0:
            raise DatasetError(f"arm {arm!r} has no subject measured at week {week} in the "
                               f"{ANALYSIS_SETS[analysis_set]} set; every arm needs some.")
        counts.append(GroupCount(arm=arm, visit_week=week, n_in_set=n_in_set, n_analysed=n_analysed,
                                 n_missing=n_in_set - n_analysed))
    at = rows[measured].drop_duplicates("subject")
    n, k = len(at), len(actives)
    if n < k + 3:
        raise DatasetError(f"ANCOVA with {k + 1} arms needs at least {k + 3} subjects measured at week {week}; "
                           f"there are {n}.")
    baseline = at["baseline"].to_numpy(float)
    if np.ptp(baseline) == 0:
        raise DatasetError(f"every subject has the same baseline ({baseline[0]:g}); ANCOVA cannot adjust for it. "
                           "Check the baseline column.")
    return _Joint(rows=rows, at=at, endpoint=endpoint, control=control, actives=actives, week=week,
                  counts=counts)


def ancova_against_control(df: pd.DataFrame, *, visit_week: int | None = None, analysis_set: str = "itt",
                           endpoint: str | None = None, control: str | None = None,
                           confidence: float = 0.95) -> ArmsAgainstControl:
    """Parallel study with two or more active arms: each against the control, one model.

    ``change_i = β0 + Σ_k β_k·[arm_i = k] + γ·baseline_i + ε_i`` fitted by least squares to the
    subjects of every arm measured at the visit (arm as a factor, the control as reference, so
    the residual variance is pooled over all arms); the effect of arm ``k`` is ``β_k`` with its
    t interval (``n - (K + 1)`` degrees of freedom for ``K`` arms). Equal to
    ``statsmodels.formula.api.ols("change ~ C(arm, Treatment(control)) + baseline")``. With two
    arms it is :func:`ancova`.

    Multiplicity: the ``K - 1`` comparisons with the control are one family. The p-values are
    Holm-adjusted (step-down Bonferroni: strong control of the family-wise error rate at
    ``1 - confidence`` with no assumption on how the comparisons correlate), and the
    simultaneous intervals are Bonferroni (each at ``1 - (1 - confidence) / (K - 1)``). Dunnett's
    procedure would be a little less conservative, as it uses the correlation through the shared
    control; Holm and Bonferroni are chosen for being exact to compute and easy to check.

    The control is the arm called placebo, control, vehicle or sham unless ``control`` names it.
    """
    _check_confidence(confidence)
    joint = _joint_rows(df, visit_week=visit_week, analysis_set=analysis_set, endpoint=endpoint, control=control)
    rows, at, endpoint, control, actives, week, counts = (joint.rows, joint.at, joint.endpoint, joint.control,
                                                          joint.actives, joint.week, joint.counts)
    n, k = len(at), len(actives)
    y = at["change"].to_numpy(float)
    baseline = at["baseline"].to_numpy(float)
    X = np.column_stack([np.ones(n), *((at["arm"] == a).to_numpy(float) for a in actives), baseline])
    beta, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    dof = n - rank
    resid = y - X @ beta
    sigma2 = float(resid @ resid) / dof
    method = f"ANCOVA: change ~ arm + baseline, each arm against {control} ({ANALYSIS_SETS[analysis_set]})"
    exact = sigma2 <= 1e-12 * max(1.0, float(y @ y) / n)
    cov = None if exact else sigma2 * np.linalg.inv(X.T @ X)
    q = float(_sp.t.ppf(1 - (1 - confidence) / 2, dof))
    q_family = float(_sp.t.ppf(1 - (1 - confidence) / (2 * k), dof))
    n_unblinded = int(rows.loc[rows["unblinded"], "subject"].nunique())
    effects, simultaneous = [], []
    for j, arm in enumerate(actives, start=1):
        arm_counts = tuple(c for c in counts if c.arm in (control, arm))
        base = dict(method=method, design=PARALLEL, analysis_set=analysis_set, endpoint=endpoint, visit_week=week,
                    contrast=f"{arm} - {control}", confidence=confidence,
                    n=sum(c.n_analysed for c in arm_counts), n_missing=sum(c.n_missing for c in arm_counts),
                    counts=arm_counts, n_unblinded=n_unblinded, df=float(dof))
        if cov is None:
            effects.append(Effect(**base, estimate=float(beta[j]), ci=(None, None), p_value=None,
                                  note=EXACT_FIT_NOTE))
            simultaneous.append((None, None))
            continue
        se = math.sqrt(cov[j, j])
        t = beta[j] / se
        effects.append(Effect(**base, estimate=float(beta[j]), ci=(float(beta[j] - q * se), float(beta[j] + q * se)),
                              p_value=float(2 * _sp.t.sf(abs(t), dof)), statistic=float(t)))
        simultaneous.append((float(beta[j] - q_family * se), float(beta[j] + q_family * se)))
    adjusted = holm([e.p_value for e in effects])
    return ArmsAgainstControl(
        method=method, design=PARALLEL, analysis_set=analysis_set, endpoint=endpoint, visit_week=week,
        control=control, adjustment=(f"Holm-adjusted p-values and Bonferroni simultaneous intervals over the {k} "
                                     f"comparison{'s' if k != 1 else ''} with {control}"),
        confidence=confidence, n=n, n_missing=sum(c.n_missing for c in counts), counts=tuple(counts),
        contrasts=tuple(ArmContrast(effect=e, p_adjusted=p, ci_simultaneous=ci)
                        for e, p, ci in zip(effects, adjusted, simultaneous)), df=float(dof))


def ancova_between_active_arms(df: pd.DataFrame, *, visit_week: int | None = None, analysis_set: str = "itt",
                               endpoint: str | None = None, control: str | None = None,
                               confidence: float = 0.95) -> ActiveArmsCompared:
    """Parallel study with two or more active arms: the active arms against each other.

    The model is the one of :func:`ancova_against_control` (change on the arm as a factor and
    the baseline, every arm, the control included, so the residual variance is pooled over all
    arms), fitted with ``statsmodels`` ``OLS``; the difference between active arms ``a`` and
    ``b`` is the linear contrast ``β_a - β_b``, with its t interval and test from the fit's
    ``t_test`` (``n - (K + 1)`` degrees of freedom for ``K`` arms). Each contrast is
    ``first - second``, the arms in the order of their names.

    Multiplicity: the ``m = A (A - 1) / 2`` comparisons between the ``A`` active arms are their
    own family (separate from the comparisons with the control): Holm-adjusted p-values and
    Bonferroni simultaneous intervals (each at ``1 - (1 - confidence) / m``). Tukey's procedure
    would be a little less conservative; Holm and Bonferroni are exact to compute and easy to
    check, as for the comparisons with the control.

    Raises :class:`~anagen.evidence.dataset.DatasetError` when the study has fewer than two
    active arms (nothing to compare) and for what :func:`ancova_against_control` refuses.
    """
    import itertools

    import statsmodels.api as sm

    _check_confidence(confidence)
    joint = _joint_rows(df, visit_week=visit_week, analysis_set=analysis_set, endpoint=endpoint, control=control)
    rows, at, endpoint, control, actives, week, counts = (joint.rows, joint.at, joint.endpoint, joint.control,
                                                          joint.actives, joint.week, joint.counts)
    if len(actives) < 2:
        raise DatasetError(f"the dataset has one active arm ({', '.join(actives)}) besides {control}; comparing "
                           "active arms with each other needs at least two.")
    n = len(at)
    y = at["change"].to_numpy(float)
    X = np.column_stack([np.ones(n), *((at["arm"] == a).to_numpy(float) for a in actives),
                         at["baseline"].to_numpy(float)])
    fit = sm.OLS(y, X).fit()
    pairs = list(itertools.combinations(range(len(actives)), 2))
    m = len(pairs)
    contrast_matrix = np.zeros((m, X.shape[1]))
    for r, (i, j) in enumerate(pairs):
        contrast_matrix[r, 1 + i], contrast_matrix[r, 1 + j] = 1.0, -1.0
    dof = float(fit.df_resid)
    estimates = contrast_matrix @ fit.params
    exact = float(fit.ssr) / dof <= 1e-12 * max(1.0, float(y @ y) / n)
    if not exact:
        test = fit.t_test(contrast_matrix)
        ci = test.conf_int(alpha=1 - confidence)
        ci_simultaneous = test.conf_int(alpha=(1 - confidence) / m)
        t_values, p_values = np.atleast_1d(test.tvalue).ravel(), np.atleast_1d(test.pvalue).ravel()
    method = (f"ANCOVA: change ~ arm + baseline, active arms against each other ({ANALYSIS_SETS[analysis_set]}; "
              f"{control} in the model)")
    n_unblinded = int(rows.loc[rows["unblinded"], "subject"].nunique())
    effects, simultaneous = [], []
    for r, (i, j) in enumerate(pairs):
        first, second = actives[i], actives[j]
        pair_counts = tuple(c for c in counts if c.arm in (first, second))
        base = dict(method=method, design=PARALLEL, analysis_set=analysis_set, endpoint=endpoint, visit_week=week,
                    contrast=f"{first} - {second}", confidence=confidence, estimate=float(estimates[r]),
                    n=sum(c.n_analysed for c in pair_counts), n_missing=sum(c.n_missing for c in pair_counts),
                    counts=pair_counts, n_unblinded=n_unblinded, df=dof)
        if exact:
            effects.append(Effect(**base, ci=(None, None), p_value=None,
                                  note=EXACT_FIT_NOTE))
            simultaneous.append((None, None))
            continue
        effects.append(Effect(**base, ci=(float(ci[r, 0]), float(ci[r, 1])), p_value=float(p_values[r]),
                              statistic=float(t_values[r])))
        simultaneous.append((float(ci_simultaneous[r, 0]), float(ci_simultaneous[r, 1])))
    adjusted = holm([e.p_value for e in effects])
    return ActiveArmsCompared(
        method=method, design=PARALLEL, analysis_set=analysis_set, endpoint=endpoint, visit_week=week,
        control=control, adjustment=(f"Holm-adjusted p-values and Bonferroni simultaneous intervals over the {m} "
                                     f"comparison{'s' if m != 1 else ''} between active arms"),
        confidence=confidence, n=n, n_missing=sum(c.n_missing for c in counts), counts=tuple(counts),
        contrasts=tuple(ArmContrast(effect=e, p_adjusted=p, ci_simultaneous=c)
                        for e, p, c in zip(effects, adjusted, simultaneous)), df=dof)


def primary_analysis(df: pd.DataFrame, *, visit_week: int | None = None, analysis_set: str = "itt",
                     endpoint: str | None = None, active: str | None = None, control: str | None = None,
                     design: str | None = None, confidence: float = 0.95) -> PrimaryAnalysis:
    """The design's primary analysis at ``visit_week`` (default: the last visit).

    Split-scalp: :func:`paired_difference` and :func:`wilcoxon_signed_rank`; parallel:
    :func:`ancova`.
    """
    df = ensure(df)
    actual = design_of(df)
    if design is not None and design != actual:
        raise DatasetError(f"the dataset is a {actual} study, not {design}; analyse it as {actual}.")
    kwargs = dict(visit_week=visit_week, analysis_set=analysis_set, endpoint=endpoint, active=active, control=control,
                  confidence=confidence)
    if actual == SPLIT_SCALP:
        results: tuple[Effect, ...] = (paired_difference(df, **kwargs), wilcoxon_signed_rank(df, **kwargs))
    else:
        results = (ancova(df, **kwargs),)
    first = results[0]
    return PrimaryAnalysis(design=first.design, analysis_set=analysis_set, endpoint=first.endpoint,
                           visit_week=int(first.visit_week), results=results)


def fixed_sequence(results: Sequence[Effect], *, alpha: float = 0.05) -> Hierarchy:
    """Fixed testing sequence over endpoints declared in order.

    Each endpoint is tested at the full ``alpha`` in the declared order; testing stops at the
    first one not significant (or without a p-value), and the later ones are not tested, so the
    family-wise error rate stays at ``alpha`` without splitting it (Westfall & Krishen 2001).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha!r}.")
    if not results:
        raise ValueError("declare at least one endpoint for the testing sequence.")
    steps, going = [], True
    stopped_at = None
    for order, r in enumerate(results, start=1):
        rejected = going and r.p_value is not None and r.p_value < alpha
        steps.append(HierarchyStep(order=order, endpoint=r.endpoint, method=r.method, p_value=r.p_value,
                                   tested=going, rejected=bool(rejected)))
        if going and not rejected:
            going, stopped_at = False, r.endpoint
    if stopped_at is None:
        conclusion = f"all {len(steps)} endpoints significant at {alpha:g} in the declared order."
    else:
        n_rejected = sum(s.rejected for s in steps)
        conclusion = (f"{n_rejected} of {len(steps)} endpoints significant; testing stopped at {stopped_at} "
                      f"(not significant at {alpha:g}), later endpoints are not tested.")
    return Hierarchy(method="fixed testing sequence (hierarchical), full alpha at each step", alpha=alpha,
                     steps=tuple(steps), conclusion=conclusion)


def analyze_endpoints(df: pd.DataFrame, endpoints: Sequence[str], *, visit_week: int | None = None,
                      analysis_set: str = "itt", active: str | None = None, control: str | None = None,
                      alpha: float = 0.05) -> tuple[tuple[Effect, ...], Hierarchy]:
    """The primary analysis of each declared endpoint, in order, and the fixed testing sequence.

    Split-scalp studies use the paired t, parallel studies ANCOVA.
    """
    if not endpoints:
        raise ValueError("declare at least one endpoint, in testing order.")
    if len(set(endpoints)) != len(endpoints):
        raise ValueError("an endpoint is declared twice in the testing order.")
    results = tuple(primary_analysis(df, visit_week=visit_week, analysis_set=analysis_set, endpoint=e,
                                     active=active, control=control).results[0] for e in endpoints)
    return results, fixed_sequence(results, alpha=alpha)
