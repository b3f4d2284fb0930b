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


# --- held visits against the schedule, and the deviations they make -------------------------------

MISSED = "missed_visit"
OUT_OF_WINDOW = "visit_out_of_window"


@dataclass(frozen=True)
class VisitState:
    """One protocol visit of one subject: the visit held for it (if any) and where things stand.

    ``state`` is ``"done"`` (held within its window), ``"out_of_window"`` (held early or late),
    ``"upcoming"``, ``"due"`` (its window is open today), ``"missed"`` (the window has closed and
    nothing was held) or ``"not_expected"`` (the subject ended participation before the window
    opened).
    """

    window: VisitWindow
    held_key: Any = None
    held_on: date | None = None
    state: str = "upcoming"
    timing: str | None = None

    @property
    def is_deviation(self) -> bool:
        return self.state in ("out_of_window", "missed")


def match_visits(windows: Sequence[VisitWindow], held: Sequence[tuple[Any, date]], today: date,
                 ended_on: date | None = None) -> list[VisitState]:
    """Assign held visits to protocol visits and say where each protocol visit stands.

    Each held visit ``(key, date)`` goes to the protocol visit whose target date is nearest
    (ties to the earlier visit); when two held visits claim one protocol visit, the nearer one
    counts and the other is an extra visit (not a deviation). A held visit further from every
    target than half the gap to the neighbouring visit is still assigned: visits run late, and a
    late visit is a deviation to list, not a visit to lose.

    Parameters
    ----------
    windows : sequence of VisitWindow
        From :func:`visit_windows`, in protocol order.
    held : sequence of (key, date)
        The subject's visits held on or after the start of the baseline window.
    today : date
        The day the schedule is looked at.
    ended_on : date, optional
        Withdrawal or loss to follow-up: windows opening after it are ``not_expected``.

    Examples
    --------
    >>> ws = visit_windows([{"code": "b", "week": 0, "window_days": 3}, {"code": "w4", "week": 4, "window_days": 7}],
    ...                    date(2026, 1, 5))
    >>> [s.state for s in match_visits(ws, [(1, date(2026, 1, 5))], today=date(2026, 3, 1))]
    ['done', 'missed']
    """
    best: dict[int, tuple[int, Any, date]] = {}
    for key, on in held:
        if not windows:
            break
        distances = [abs((on - w.target_on).days) for w in windows]
        i = distances.index(min(distances))
        if i not in best or distances[i] < best[i][0]:
            best[i] = (distances[i], key, on)
    out = []
    for i, w in enumerate(windows):
        if i in best:
            _, key, on = best[i]
            timing = w.timing(on)
            out.append(VisitState(w, key, on, "done" if timing == "in_window" else "out_of_window", timing))
        elif ended_on is not None and ended_on < w.earliest_on:
            out.append(VisitState(w, state="not_expected"))
        else:
            state = w.state(today)
            out.append(VisitState(w, state={"open": "due", "overdue": "missed"}.get(state, state)))
    return out


def deviations(states: Sequence[VisitState]) -> list[tuple[str, str, str]]:
    """The protocol deviations the schedule shows: ``(category, visit code, description)``."""
    out = []
    for s in states:
        w = s.window
        if s.state == "missed":
            out.append((MISSED, w.code, f"{w.label} missed: window {w.earliest_on.isoformat()} to "
                                        f"{w.latest_on.isoformat()} closed with no visit."))
        elif s.state == "out_of_window":
            days = (s.held_on - (w.latest_on if s.timing == "late" else w.earliest_on)).days
            out.append((OUT_OF_WINDOW, w.code, f"{w.label} held on {s.held_on.isoformat()}, {abs(days)} day(s) "
                                               f"{'after' if s.timing == 'late' else 'before'} its window "
                                               f"({w.earliest_on.isoformat()} to {w.latest_on.isoformat()})."))
    return out
