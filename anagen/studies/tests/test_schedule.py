"""Visit windows from the protocol: pure date arithmetic."""

from __future__ import annotations

from datetime import date

from anagen.studies.schedule import visit_windows
from anagen.studies.services import DEFAULT_VISITS

ANCHOR = date(2026, 3, 2)


def test_each_visit_is_due_its_weeks_after_the_anchor_with_its_window():
    windows = visit_windows(DEFAULT_VISITS, ANCHOR)
    assert [w.code for w in windows] == ["baseline", "w4", "w12", "w23", "w44", "w58"]
    baseline, w4, *_, w58 = windows
    assert baseline.target_on == baseline.earliest_on == baseline.latest_on == ANCHOR
    assert (w4.target_on, w4.earliest_on, w4.latest_on) == (date(2026, 3, 30), date(2026, 3, 23), date(2026, 4, 6))
    assert w58.target_on == date(2027, 4, 12) and (w58.latest_on - w58.target_on).days == 21


def test_the_window_edges_are_inside_and_a_day_beyond_is_a_deviation():
    w4 = visit_windows(DEFAULT_VISITS, ANCHOR)[1]
    assert w4.timing(date(2026, 3, 23)) == "in_window" and w4.timing(date(2026, 4, 6)) == "in_window"
    assert w4.timing(date(2026, 3, 22)) == "early" and w4.timing(date(2026, 4, 7)) == "late"
    assert [w4.state(d) for d in (date(2026, 3, 22), date(2026, 3, 30), date(2026, 4, 7))] == [
        "upcoming", "open", "overdue"]
