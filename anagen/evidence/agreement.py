"""Reader agreement: how far two or more readers (blinded evaluators, or the counter against a
person) agree on the same images.

- **Intraclass correlation** (:func:`icc`) for continuous measurements such as hair counts:
  the share of the variance that lies between targets (images, subjects) rather than between
  readers or in error. Two-way models, after Shrout & Fleiss (1979) and McGraw & Wong (1996):

  ========  ===============  ====================================  =========================
  form      McGraw & Wong    readers                               agreement
  ========  ===============  ====================================  =========================
  ICC(1,1)  ICC(1)           different readers per target          absolute
  ICC(2,1)  ICC(A,1)         random sample of readers, all rate    absolute agreement
  ICC(3,1)  ICC(C,1)         these readers only, all rate          consistency
  ICC(x,k)  ICC(A,k)/(C,k)   the mean of the k readers             as above
  ========  ===============  ====================================  =========================

  Absolute agreement counts a reader who reads systematically higher as disagreement;
  consistency does not. For a study whose evaluators change over time, ICC(2,1) is the
  figure to report; the ``k`` forms describe the reliability of the readers' mean.
- **Bland-Altman limits of agreement** (:func:`bland_altman`): the mean difference (bias)
  between two methods and the range holding 95 % of differences, each with its interval.
- **Cohen's kappa** (:func:`cohens_kappa`) for categorical ratings such as a global
  photographic assessment; weighted kappa (linear or quadratic) for ordered categories, where
  a one-step disagreement is milder than a three-step one.

References
----------
Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater reliability.
Psychol Bull 1979;86:420-428. doi:10.1037/0033-2909.86.2.420
McGraw KO, Wong SP. Forming inferences about some intraclass correlation coefficients.
Psychol Methods 1996;1:30-46. doi:10.1037/1082-989X.1.1.30
Bland JM, Altman DG. Statistical methods for assessing agreement between two methods of
clinical measurement. Lancet 1986;327:307-310. doi:10.1016/S0140-6736(86)90837-8
Bland JM, Altman DG. Measuring agreement in method comparison studies. Stat Methods Med Res
1999;8:135-160. doi:10.1177/096228029900800204
Cohen J. Weighted kappa. Psychol Bull 1968;70:213-220. doi:10.1037/h0026256
Fleiss JL, Cohen J, Everitt BS. Large sample standard errors of kappa and weighted kappa.
Psychol Bull 1969;72:323-327. doi:10.1037/h0028106
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _sp

from anagen.evidence.results import Result

ICC_FORMS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")
ICC_DESCRIPTIONS = {
    "ICC(1,1)": "one-way random, single reader",
    "ICC(2,1)": "two-way random, absolute agreement, single reader",
    "ICC(3,1)": "two-way mixed, consistency, single reader",
    "ICC(1,k)": "one-way random, mean of k readers",
    "ICC(2,k)": "two-way random, absolute agreement, mean of k readers",
    "ICC(3,k)": "two-way mixed, consistency, mean of k readers",
}


@dataclass(frozen=True)
class IccValue(Result):
    """One ICC form with its F test of ``ICC = 0`` and its F-based interval."""

    form: str
    description: str
    icc: float
    ci: tuple[float, float]
    f: float
    df1: float
    df2: float
    p_value: float


@dataclass(frozen=True)
class IccResult(Result):
    """The six Shrout & Fleiss forms and the two-way ANOVA mean squares they come from."""

    method: str
    n_targets: int
    n_readers: int
    confidence: float
    ms_targets: float
    ms_readers: float
    ms_error: float
    ms_within: float
    values: tuple[IccValue, ...]

    def get(self, form: str) -> IccValue:
        """The value of one form, e.g. ``result.get("ICC(2,1)")``."""
        for v in self.values:
            if v.form == form:
                return v
        raise KeyError(f"no form {form!r}; the forms are {', '.join(ICC_FORMS)}.")


@dataclass(frozen=True)
class BlandAltman(Result):
    """Bias and 95 % limits of agreement of ``a - b``, each with its interval."""

    method: str
    n: int
    bias: float
    bias_ci: tuple[float, float]
    sd: float
    lower_loa: float
    lower_loa_ci: tuple[float, float]
    upper_loa: float
    upper_loa_ci: tuple[float, float]
    confidence: float
    n_dropped: int
    note: str = ""


@dataclass(frozen=True)
class Kappa(Result):
    """Cohen's (weighted) kappa with its large-sample interval and test of ``kappa = 0``."""

    method: str
    weights: str
    kappa: float
    se: float
    ci: tuple[float, float]
    z: float | None
    p_value: float | None
    observed_agreement: float
    expected_agreement: float
    n: int
    categories: tuple
    confidence: float
    note: str = ""


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}.")
    return float(_sp.norm.ppf(1 - (1 - confidence) / 2))


def icc(ratings: Sequence[Sequence[float]] | np.ndarray, *, confidence: float = 0.95) -> IccResult:
    """Intraclass correlations of an ``n targets x k readers`` table, all six forms.

    Parameters
    ----------
    ratings
        One row per target (image, subject), one column per reader; every cell filled.
    confidence
        Two-sided coverage of the intervals.

    Returns
    -------
    IccResult
        With the two-way ANOVA mean squares: between targets ``MSR`` (Shrout & Fleiss: BMS),
        between readers ``MSC`` (JMS), residual ``MSE`` (EMS) and within targets ``MSW`` (WMS).
        The forms, with ``n`` targets and ``k`` readers (Shrout & Fleiss 1979, Table 1;
        McGraw & Wong 1996, Table 4):

        - ICC(1,1) = (MSR - MSW) / (MSR + (k-1) MSW)
        - ICC(2,1) = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n)
        - ICC(3,1) = (MSR - MSE) / (MSR + (k-1) MSE)
        - ICC(1,k) = (MSR - MSW) / MSR;  ICC(2,k) = (MSR - MSE) / (MSR + (MSC - MSE) / n);
          ICC(3,k) = (MSR - MSE) / MSR

        Intervals: exact F-based for forms 1 and 3; for ICC(2,1) the Satterthwaite
        approximation of McGraw & Wong (1996, Table 7, case 2A), and for ICC(2,k) its
        Spearman-Brown step-up, which equals their case 2A average-measure interval.

    Raises
    ------
    ValueError
        Fewer than two targets or readers, a missing or non-finite cell, or no variation
        at all (every rating equal).

    Examples
    --------
    Shrout & Fleiss (1979), Table 2: six targets rated by four judges.

    >>> r = icc([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    >>> [round(r.get(f).icc, 2) for f in ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)")]
    [0.17, 0.29, 0.71]
    """
    _z(confidence)  # refuses a confidence outside (0, 1)
    x = np.asarray(ratings, dtype=float)
    if x.ndim != 2:
        raise ValueError("ratings must be a table: one row per target, one column per reader.")
    n, k = x.shape
    if n < 2 or k < 2:
        raise ValueError(f"an ICC needs at least 2 targets and 2 readers; got {n} target(s) and {k} reader(s).")
    if not np.isfinite(x).all():
        raise ValueError("every target needs a rating from every reader; drop targets with a missing rating first.")
    grand = x.mean()
    row_means, col_means = x.mean(axis=1), x.mean(axis=0)
    ss_total = float(((x - grand) ** 2).sum())
    if ss_total == 0:
        raise ValueError("every rating is the same: there is no variation, so agreement cannot be estimated.")
    ss_rows = k * float(((row_means - grand) ** 2).sum())
    ss_cols = n * float(((col_means - grand) ** 2).sum())
    ss_error = ss_total - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    msw = (ss_cols + ss_error) / (n * (k - 1))
    alpha = 1 - confidence

    def f_bounds(f0: float, df1: float, df2: float) -> tuple[float, float]:
        return f0 / _sp.f.ppf(1 - alpha / 2, df1, df2), f0 * _sp.f.ppf(1 - alpha / 2, df2, df1)

    values = []
    # One-way (form 1): F = MSR / MSW on (n-1, n(k-1)).
    f1, d11, d12 = _ratio(msr, msw), n - 1, n * (k - 1)
    fl, fu = f_bounds(f1, d11, d12)
    p1 = float(_sp.f.sf(f1, d11, d12))
    icc11 = (msr - msw) / (msr + (k - 1) * msw)
    icc1k = (msr - msw) / msr if msr else float("nan")
    # Two-way (forms 2 and 3): F = MSR / MSE on (n-1, (n-1)(k-1)).
    f3, d31, d32 = _ratio(msr, mse), n - 1, (n - 1) * (k - 1)
    gl, gu = f_bounds(f3, d31, d32)
    p3 = float(_sp.f.sf(f3, d31, d32))
    icc31 = (msr - mse) / (msr + (k - 1) * mse)
    icc3k = (msr - mse) / msr if msr else float("nan")
    icc21 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    icc2k = (msr - mse) / (msr + (msc - mse) / n)
    # McGraw & Wong (1996) Table 7, case 2A: Satterthwaite degrees of freedom for ICC(A,1).
    a = k * icc21 / (n * (1 - icc21))
    b = 1 + k * icc21 * (n - 1) / (n * (1 - icc21))
    v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
    fs_lower = _sp.f.ppf(1 - alpha / 2, n - 1, v)
    fs_upper = _sp.f.ppf(1 - alpha / 2, v, n - 1)
    low21 = n * (msr - fs_lower * mse) / (fs_lower * (k * msc + (k * n - k - n) * mse) + n * msr)
    up21 = n * (fs_upper * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fs_upper * msr)
    step_up = lambda r: k * r / (1 + (k - 1) * r)  # noqa: E731  Spearman-Brown

    rows = {
        "ICC(1,1)": (icc11, ((fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)), f1, d11, d12, p1),
        "ICC(2,1)": (icc21, (low21, up21), f3, d31, d32, p3),
        "ICC(3,1)": (icc31, ((gl - 1) / (gl + k - 1), (gu - 1) / (gu + k - 1)), f3, d31, d32, p3),
        "ICC(1,k)": (icc1k, (1 - 1 / fl, 1 - 1 / fu), f1, d11, d12, p1),
        "ICC(2,k)": (icc2k, (step_up(low21), step_up(up21)), f3, d31, d32, p3),
        "ICC(3,k)": (icc3k, (1 - 1 / gl, 1 - 1 / gu), f3, d31, d32, p3),
    }
    for form in ICC_FORMS:
        value, (lo, hi), f, df1, df2, p = rows[form]
        values.append(IccValue(form=form, description=ICC_DESCRIPTIONS[form], icc=float(value),
                               ci=(float(lo), float(hi)), f=float(f), df1=float(df1), df2=float(df2), p_value=p))
    return IccResult(method="intraclass correlation (Shrout & Fleiss 1979; McGraw & Wong 1996)", n_targets=n,
                     n_readers=k, confidence=confidence, ms_targets=msr, ms_readers=msc, ms_error=mse, ms_within=msw,
                     values=tuple(values))


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("inf")


def bland_altman(a: Sequence[float], b: Sequence[float], *, confidence: float = 0.95) -> BlandAltman:
    """Bland-Altman bias and limits of agreement of two methods on the same targets.

    Pairs with a missing value in either method are dropped and counted in ``n_dropped``.
    With ``d = a - b``: bias ``mean(d)`` with its t interval; limits ``bias ± z·s_d`` with
    ``z = Φ⁻¹(1 - α/2)`` (1.96 at 95 %), each with the approximate interval
    ``± t(1 - α/2, n-1)·√(3 s_d²/n)`` of Bland & Altman (1986, 1999).

    Examples
    --------
    >>> r = bland_altman([10, 12, 14, 16], [9, 12, 13, 17])
    >>> r.bias, round(r.sd, 4)
    (0.25, 0.9574)
    """
    z = _z(confidence)
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"the two methods need one value each per target; got {x.size} and {y.size} values.")
    keep = np.isfinite(x) & np.isfinite(y)
    d = x[keep] - y[keep]
    n = int(d.size)
    if n < 2:
        raise ValueError(f"limits of agreement need at least 2 targets measured by both methods; there are {n}.")
    bias = float(d.mean())
    sd = float(d.std(ddof=1))
    t = float(_sp.t.ppf(1 - (1 - confidence) / 2, n - 1))
    se_bias = sd / math.sqrt(n)
    se_loa = math.sqrt(3 * sd * sd / n)
    lower, upper = bias - z * sd, bias + z * sd
    note = "" if sd > 0 else "every difference is the same: the limits collapse onto the bias."
    return BlandAltman(method="Bland-Altman limits of agreement (Bland & Altman 1986, 1999)", n=n, bias=bias,
                       bias_ci=(bias - t * se_bias, bias + t * se_bias), sd=sd,
                       lower_loa=lower, lower_loa_ci=(lower - t * se_loa, lower + t * se_loa),
                       upper_loa=upper, upper_loa_ci=(upper - t * se_loa, upper + t * se_loa),
                       confidence=confidence, n_dropped=int(keep.size - n), note=note)


def agreement_table(a: Sequence, b: Sequence, categories: Sequence | None = None) -> tuple[np.ndarray, tuple]:
    """Cross-table of two readers' categories (rows: reader a, columns: reader b).

    ``categories`` fixes the order (needed for weighted kappa: least to most); by default the
    sorted set of categories seen.
    """
    if len(a) != len(b):
        raise ValueError(f"the two readers need one rating each per target; got {len(a)} and {len(b)}.")
    if categories is None:
        categories = sorted(set(a) | set(b))
    index = {c: i for i, c in enumerate(categories)}
    unknown = sorted({str(v) for v in (*a, *b) if v not in index})
    if unknown:
        raise ValueError(f"rating(s) {', '.join(unknown)} are not among the categories {list(categories)}.")
    table = np.zeros((len(categories), len(categories)))
    for u, v in zip(a, b):
        table[index[u], index[v]] += 1
    return table, tuple(categories)


def cohens_kappa(a: Sequence, b: Sequence, *, categories: Sequence | None = None, weights: str = "none",
                 confidence: float = 0.95) -> Kappa:
    """Cohen's kappa of two readers' categorical ratings; weighted for ordered categories.

    Parameters
    ----------
    a, b
        One rating per target from each reader.
    categories
        The categories in order (least to most); needed when a category was never used, and
        for weighted kappa.
    weights
        ``"none"`` (agreement only on the diagonal), ``"linear"`` (agreement weight
        ``1 - |i-j|/(c-1)``) or ``"quadratic"`` (``1 - (i-j)²/(c-1)²``, close to an ICC).

    Returns
    -------
    Kappa
        ``κ = (p_o - p_e) / (1 - p_e)`` with weighted observed and chance agreement (Cohen
        1968); its standard error from Fleiss, Cohen & Everitt (1969), which gives the Wald
        interval, and the test of ``κ = 0`` with the standard error under that null, as
        ``statsmodels.stats.inter_rater.cohens_kappa`` computes them.
    """
    z = _z(confidence)
    if weights not in ("none", "linear", "quadratic"):
        raise ValueError(f"weights must be none, linear or quadratic, not {weights!r}.")
    table, cats = agreement_table(a, b, categories)
    n = int(table.sum())
    c = len(cats)
    if n < 2:
        raise ValueError(f"kappa needs at least 2 rated targets; there are {n}.")
    if c < 2:
        raise ValueError("kappa needs at least two categories; give the full list in categories.")
    i, j = np.indices((c, c))
    if weights == "none":
        w = (i == j).astype(float)
    elif weights == "linear":
        w = 1 - np.abs(i - j) / (c - 1)
    else:
        w = 1 - (i - j) ** 2 / (c - 1) ** 2
    p = table / n
    row, col = p.sum(axis=1), p.sum(axis=0)
    po = float((w * p).sum())
    pe = float((w * np.outer(row, col)).sum())
    if pe >= 1:
        raise ValueError("both readers used a single category for every target: chance agreement is complete, "
                         "so kappa is undefined.")
    kappa = (po - pe) / (1 - pe)
    # Fleiss, Cohen & Everitt (1969), eq. (5) and (6).
    w_row = (w * col[None, :]).sum(axis=1)  # mean weight of row category i
    w_col = (w * row[:, None]).sum(axis=0)  # mean weight of column category j
    var = ((p * (w - (w_row[:, None] + w_col[None, :]) * (1 - kappa)) ** 2).sum()
           - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2)
    var0 = ((np.outer(row, col) * (w - (w_row[:, None] + w_col[None, :])) ** 2).sum() - pe ** 2) / (n * (1 - pe) ** 2)
    se = math.sqrt(max(var, 0.0))
    se0 = math.sqrt(max(var0, 0.0))
    zval = kappa / se0 if se0 > 0 else None
    p_value = float(2 * _sp.norm.sf(abs(zval))) if zval is not None else None
    name = "Cohen's kappa" if weights == "none" else f"weighted kappa ({weights} weights)"
    return Kappa(method=f"{name} (Cohen 1960, 1968; SE: Fleiss, Cohen & Everitt 1969)", weights=weights,
                 kappa=float(kappa), se=se, ci=(kappa - z * se, kappa + z * se), z=zval, p_value=p_value,
                 observed_agreement=po, expected_agreement=pe, n=n, categories=cats, confidence=confidence,
                 note="" if zval is not None else "no test: the null standard error is zero.")
