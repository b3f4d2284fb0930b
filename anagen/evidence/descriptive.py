"""Descriptive statistics on plain numbers: change from baseline, t intervals, Wilson intervals.

The outcome table, the patient report, the trial analyses, the CLI and a notebook compute these
figures the same way from this one module; the rules are tested in milliseconds.
Conventions
-----------
- A change from baseline is ``value - baseline`` in the measurement's own unit (hairs/cm² for
  density); the percentage change is relative to the baseline and undefined for a zero
  baseline.
- Confidence intervals are two-sided at ``confidence`` (0.95 by default).
- A mean's interval uses Student's t with ``n - 1`` degrees of freedom,
  ``mean ± t(1 - α/2, n - 1) · s / √n``; it is not given for fewer than two values, because the
  spread of one value cannot be estimated.
- A proportion's interval is Wilson's score interval, which stays inside [0, 1] and behaves
  with 0 or n events, where the textbook normal ("Wald") interval collapses to a point.

References
----------
Wilson EB. Probable inference, the law of succession, and statistical inference.
J Am Stat Assoc 1927;22:209-212. doi:10.1080/01621459.1927.10502953
Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven
methods. Stat Med 1998;17:857-872. doi:10.1002/(SICI)1097-0258(19980430)17:8<857::AID-SIM777>3.0.CO;2-E
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from scipy import stats as _sp

NO_CI_REASON = "no interval for fewer than two patients: one value says nothing about the spread"


@dataclass(frozen=True)
class Change:
    """A measurement's change from its baseline."""

    baseline: float
    value: float
    absolute: float
    percent: float | None  # None when the baseline is zero

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MeanCI:
    """A mean with its two-sided t confidence interval.

    ``lower``/``upper`` are None when ``n < 2``; ``reason`` then says why.
    """

    n: int
    mean: float | None
    sd: float | None
    lower: float | None
    upper: float | None
    confidence: float = 0.95
    reason: str = ""

    @property
    def half_width(self) -> float | None:
        if self.lower is None or self.upper is None:
            return None
        return (self.upper - self.lower) / 2

    def to_dict(self) -> dict:
        d = asdict(self)
        d["half_width"] = self.half_width
        return d


@dataclass(frozen=True)
class Rate:
    """A proportion ``events / n`` with its Wilson score interval (None when ``n == 0``)."""

    events: int
    n: int
    rate: float | None
    lower: float | None
    upper: float | None
    confidence: float = 0.95

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else self.rate * 100

    @property
    def lower_percent(self) -> float | None:
        return None if self.lower is None else self.lower * 100

    @property
    def upper_percent(self) -> float | None:
        return None if self.upper is None else self.upper * 100

    def to_dict(self) -> dict:
        return asdict(self)


def _finite(values: Iterable[float | None]) -> list[float]:
    out = []
    for v in values:
        if v is None:
            continue
        f = float(v)
        if math.isfinite(f):
            out.append(f)
    return out


def change_from_baseline(baseline: float | None, value: float | None) -> Change | None:
    """``value - baseline`` and its percentage of the baseline; None if either is missing.

    Examples
    --------
    >>> change_from_baseline(100, 120).absolute
    20.0
    >>> change_from_baseline(100, 120).percent
    20.0
    """
    if baseline is None or value is None:
        return None
    b, v = float(baseline), float(value)
    if not (math.isfinite(b) and math.isfinite(v)):
        return None
    percent = (v - b) / b * 100.0 if b != 0 else None
    return Change(baseline=b, value=v, absolute=v - b, percent=percent)


def mean_ci(values: Iterable[float | None], confidence: float = 0.95) -> MeanCI:
    """Mean of ``values`` (None and non-finite values dropped) with a t interval.

    Parameters
    ----------
    values
        Changes from baseline, one per patient.
    confidence
        Two-sided coverage, between 0 and 1.

    Returns
    -------
    MeanCI
        ``mean ± t(1 - α/2, n - 1) · s / √n`` where ``s`` is the sample standard deviation
        (divisor ``n - 1``). For ``n == 0`` everything is None; for ``n == 1`` the mean is
        given but not the interval.

    Examples
    --------
    >>> r = mean_ci([10, 20, 30])
    >>> r.mean, round(r.half_width, 3)
    (20.0, 24.841)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    xs = _finite(values)
    n = len(xs)
    if n == 0:
        return MeanCI(n=0, mean=None, sd=None, lower=None, upper=None, confidence=confidence,
                      reason="no values")
    mean = math.fsum(xs) / n
    if n == 1:
        return MeanCI(n=1, mean=mean, sd=None, lower=None, upper=None, confidence=confidence, reason=NO_CI_REASON)
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    t = float(_sp.t.ppf(1 - (1 - confidence) / 2, n - 1))
    half = t * sd / math.sqrt(n)
    return MeanCI(n=n, mean=mean, sd=sd, lower=mean - half, upper=mean + half, confidence=confidence)


def wilson_interval(events: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval for ``events`` out of ``n``; None when ``n == 0``.

    ``(p + z²/2n ± z·√(p(1-p)/n + z²/4n²)) / (1 + z²/n)`` with ``z = Φ⁻¹(1 - α/2)``
    (Wilson 1927; Newcombe 1998, method 3).

    Examples
    --------
    >>> [round(x, 4) for x in wilson_interval(0, 10)]
    [0.0, 0.2775]
    """
    if n < 0 or events < 0 or events > n:
        raise ValueError(f"need 0 <= events <= n, got events={events}, n={n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    if n == 0:
        return None
    z = float(_sp.norm.ppf(1 - (1 - confidence) / 2))
    p = events / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Exact bounds at 0 and n events (rounding would otherwise leave 1e-17 instead of 0).
    lower = 0.0 if events == 0 else max(0.0, centre - half)
    upper = 1.0 if events == n else min(1.0, centre + half)
    return lower, upper


def rate(events: int, n: int, confidence: float = 0.95) -> Rate:
    """``events / n`` with its Wilson interval."""
    ci = wilson_interval(events, n, confidence)
    if ci is None:
        return Rate(events=events, n=n, rate=None, lower=None, upper=None, confidence=confidence)
    return Rate(events=events, n=n, rate=events / n, lower=ci[0], upper=ci[1], confidence=confidence)
