"""A subject's visit schedule from the protocol: target dates and windows.

Pure logic, no Django. The protocol lists visits as ``{code, label, week, window_days}``; a
subject's schedule is anchored on the day of randomization (day 0, the baseline). Visit *k* is
due on ``anchor + 7 * week_k`` days and is within its window from ``target - window_days`` to
``target + window_days`` inclusive. A visit held outside its window is a protocol deviation
(recorded as such, never refused), which is why the window is reported and not enforced here.

References
----------
ICH E3, Structure and content of clinical study reports, section 9.5.1 (visit windows) and
ICH E9 (R1) on handling intercurrent events and protocol deviations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Sequence


@dataclass(frozen=True)
class VisitWindow:
    code: str
    label: str
    week: int
    target_on: date
    earliest_on: date
    latest_on: date

    def timing(self, on: date) -> str:
        """Where ``on`` falls: ``"early"``, ``"in_window"`` or ``"late"``."""
        if on < self.earliest_on:
            return "early"
        if on > self.latest_on:
            return "late"
        return "in_window"

    def state(self, today: date) -> str:
        """For a visit not yet held: ``"upcoming"``, ``"open"`` (within its window) or ``"overdue"``."""
        if today < self.earliest_on:
            return "upcoming"
        if today > self.latest_on:
            return "overdue"
        return "open"


def visit_windows(visits: Sequence[dict[str, Any]], anchor_on: date) -> list[VisitWindow]:
    """The protocol's visits as dated windows from ``anchor_on`` (day 0).

    Parameters
    ----------
    visits : sequence of dict
        ``{"code", "label", "week", "window_days"}`` in protocol order (weeks ascending).
    anchor_on : date
        The day of randomization (or of the first treatment, when the protocol says so).

    Returns
    -------
    list of VisitWindow

    Examples
    --------
    >>> w = visit_windows([{"code": "w4", "label": "Week 4", "week": 4, "window_days": 7}], date(2026, 1, 5))
    >>> (w[0].target_on, w[0].earliest_on, w[0].latest_on)
    (datetime.date(2026, 2, 2), datetime.date(2026, 1, 26), datetime.date(2026, 2, 9))
    >>> w[0].timing(date(2026, 2, 10))
    'late'
    """
    out = []
    for v in visits:
        target = anchor_on + timedelta(days=7 * int(v["week"]))
        window = timedelta(days=int(v.get("window_days", 0)))
        out.append(VisitWindow(code=v["code"], label=v.get("label") or v["code"], week=int(v["week"]),
                               target_on=target, earliest_on=target - window, latest_on=target + window))
    return out
