"""How well the hair-counting engine agrees with clinicians on one clinic's dermoscope.

Pure statistics, no Django: the assessments app collects the pairs (the engine's automatic
count and the clinician's corrected count of the same image, the *reference*) and calls

- :func:`validation_summary`: n, mean absolute error, root mean square error, bias (mean of
  automatic - reference, in hairs and as a percentage of the mean reference), Bland-Altman
  limits of agreement with their intervals (:func:`anagen.evidence.agreement.bland_altman`),
  and ICC(2,1) and ICC(3,1) (:func:`anagen.evidence.agreement.icc`) from
  :data:`MIN_ICC_PAIRS` pairs;
- :func:`fit_adjustment`: the ordinary least-squares line ``reference = a + b * automatic``,
  with the t intervals of ``a`` and ``b`` and the residual standard deviation, and
  :func:`adjusted_count` to apply it.

A summary is only shown as a validation from :data:`MIN_REFERENCES` pairs (fewer still gives
numbers, flagged ``enough = False``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _sp

from anagen.evidence.agreement import BlandAltman, bland_altman, icc

#: References (corrected images) a device needs before its validation is reported.
MIN_REFERENCES = 10
#: Pairs needed before an ICC is computed.
MIN_ICC_PAIRS = 5


@dataclass(frozen=True)
class ValidationSummary:
    n: int
    mean_reference: float
    mean_automatic: float
    mae: float
    rmse: float
    bias: float
    bias_pct: float | None
    bland_altman: BlandAltman | None
    icc21: float | None
    icc21_ci: tuple[float, float] | None
    icc31: float | None
    icc31_ci: tuple[float, float] | None
    enough: bool


@dataclass(frozen=True)
class Adjustment:
    """``reference = intercept + slope * automatic``, fitted by ordinary least squares."""

    n: int
    intercept: float
    intercept_ci: tuple[float, float]
    slope: float
    slope_ci: tuple[float, float]
    residual_sd: float
    confidence: float


def _pairs(automatic: Sequence[float], reference: Sequence[float], minimum: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(automatic, dtype=float)
    y = np.asarray(reference, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"give one automatic and one reference count per image; got {x.size} and {y.size}.")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("every count must be a finite number.")
    if (x < 0).any() or (y < 0).any():
        raise ValueError("hair counts cannot be negative.")
    if x.size < minimum:
        raise ValueError(f"this needs at least {minimum} images with a reference count; there are {x.size}.")
    return x, y


def validation_summary(automatic: Sequence[float], reference: Sequence[float], *,
                       min_references: int = MIN_REFERENCES) -> ValidationSummary:
    """Agreement of the engine's counts with the reference counts (see the module's text)."""
    x, y = _pairs(automatic, reference, 1)
    d = x - y
    n = int(d.size)
    mean_ref = float(y.mean())
    ba = bland_altman(x, y) if n >= 2 else None
    icc21 = icc31 = None
    icc21_ci = icc31_ci = None
    if n >= MIN_ICC_PAIRS and (np.ptp(x) > 0 or np.ptp(y) > 0):
        r = icc(np.column_stack([x, y]))
        v2, v3 = r.get("ICC(2,1)"), r.get("ICC(3,1)")
        icc21, icc21_ci, icc31, icc31_ci = v2.icc, v2.ci, v3.icc, v3.ci
    return ValidationSummary(
        n=n, mean_reference=mean_ref, mean_automatic=float(x.mean()), mae=float(np.abs(d).mean()),
        rmse=float(math.sqrt((d * d).mean())), bias=float(d.mean()),
        bias_pct=100.0 * float(d.mean()) / mean_ref if mean_ref else None, bland_altman=ba,
        icc21=icc21, icc21_ci=icc21_ci, icc31=icc31, icc31_ci=icc31_ci, enough=n >= min_references)


def fit_adjustment(automatic: Sequence[float], reference: Sequence[float], *, confidence: float = 0.95,
                   min_references: int = MIN_REFERENCES) -> Adjustment:
    """Fit ``reference = a + b * automatic`` by ordinary least squares, with t intervals.

    Refuses fewer than ``min_references`` pairs, and automatic counts that are all the same
    (no slope can be fitted).
    """
    if not 0 < confidence < 1:
        raise ValueError("the confidence level must be between 0 and 1, e.g. 0.95.")
    x, y = _pairs(automatic, reference, max(3, min_references))
    n = int(x.size)
    sxx = float(((x - x.mean()) ** 2).sum())
    if sxx == 0:
        raise ValueError("every automatic count is the same: no line can be fitted; add images with other counts.")
    slope = float(((x - x.mean()) * (y - y.mean())).sum() / sxx)
    intercept = float(y.mean() - slope * x.mean())
    resid = y - (intercept + slope * x)
    s = math.sqrt(float((resid ** 2).sum()) / (n - 2))
    t = float(_sp.t.ppf(1 - (1 - confidence) / 2, n - 2))
    se_b = s / math.sqrt(sxx)
    se_a = s * math.sqrt(1.0 / n + x.mean() ** 2 / sxx)
    return Adjustment(n=n, intercept=intercept, intercept_ci=(intercept - t * se_a, intercept + t * se_a),
                      slope=slope, slope_ci=(slope - t * se_b, slope + t * se_b), residual_sd=s,
                      confidence=confidence)


def adjusted_count(count: float, intercept: float, slope: float) -> float:
    """The adjusted count ``a + b * count``, never below zero."""
    return max(0.0, intercept + slope * float(count))
