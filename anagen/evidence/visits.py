"""Visit windows: which scheduled follow-up week an actual visit counts for.

A visit counts for scheduled week W when it falls within W plus or minus a window: tight early
on, when visits are a few weeks apart, looser later, when they are months apart. A patient is
counted at most once per scheduled week (the visit nearest the scheduled week wins).
"""

from __future__ import annotations

from collections.abc import Sequence

# Default scheduled follow-up visits, in weeks after the last treatment session.
DEFAULT_VISIT_WEEKS: tuple[int, ...] = (4, 12, 23, 44, 58)

# A visit counts for scheduled week W when it falls within W ± this many weeks: tight early on,
# when visits are a few weeks apart, looser later, when they are months apart.
EARLY_WINDOW_WEEKS = 2
LATE_WINDOW_WEEKS = 4
EARLY_WINDOW_UNTIL_WEEK = 12


def window_weeks(week: int) -> int:
    """Half-width, in weeks, of the window around scheduled visit ``week``."""
    return EARLY_WINDOW_WEEKS if week <= EARLY_WINDOW_UNTIL_WEEK else LATE_WINDOW_WEEKS


def window_description(visit_weeks: Sequence[int] = DEFAULT_VISIT_WEEKS) -> str:
    """The rule, in words, for the table's footnote."""
    return (f"A visit counts for week W when it is within ±{EARLY_WINDOW_WEEKS} weeks of W up to week "
            f"{EARLY_WINDOW_UNTIL_WEEK}, and within ±{LATE_WINDOW_WEEKS} weeks after that.")


def scheduled_week_for(weeks: float | None, visit_weeks: Sequence[int] = DEFAULT_VISIT_WEEKS) -> int | None:
    """The scheduled visit week that an actual visit at ``weeks`` counts for, or None.

    When two windows overlap the nearest scheduled week wins (ties go to the earlier one).

    Examples
    --------
    >>> scheduled_week_for(13.5), scheduled_week_for(16), scheduled_week_for(26)
    (12, None, 23)
    """
    if weeks is None:
        return None
    best = None
    for w in sorted(visit_weeks):
        distance = abs(weeks - w)
        if distance <= window_weeks(w) and (best is None or distance < abs(weeks - best)):
            best = w
    return best


def assign_visits(visits: Sequence[tuple[float, object]],
                  visit_weeks: Sequence[int] = DEFAULT_VISIT_WEEKS) -> dict[int, object]:
    """One visit per scheduled week for one patient.

    ``visits`` are ``(weeks, payload)`` pairs; each goes to the scheduled week whose window holds
    it, and when a patient has several visits in one window the one nearest the scheduled week
    is kept (the earlier on a tie), so a patient is counted at most once per week.
    """
    chosen: dict[int, tuple[float, float, object]] = {}
    for weeks, payload in visits:
        w = scheduled_week_for(weeks, visit_weeks)
        if w is None:
            continue
        key = (abs(weeks - w), weeks)
        if w not in chosen or key < chosen[w][:2]:
            chosen[w] = (*key, payload)
    return {w: item[2] for w, item in sorted(chosen.items())}
