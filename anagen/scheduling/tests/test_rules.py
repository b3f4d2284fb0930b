"""The pure booking arithmetic: no database."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from anagen.scheduling import rules

UTC = ZoneInfo("UTC")
LONDON = ZoneInfo("Europe/London")


def t(h, m=0):
    return datetime(2030, 1, 7, h, m, tzinfo=UTC)


def test_touching_intervals_do_not_overlap():
    assert not rules.overlaps(t(10), t(10, 30), t(10, 30), t(11))
    assert not rules.overlaps(t(10, 30), t(11), t(10), t(10, 30))


def test_a_minute_of_overlap_is_an_overlap():
    assert rules.overlaps(t(10), t(10, 31), t(10, 30), t(11))
    assert rules.overlaps(t(10, 29), t(11), t(10), t(10, 30))


def test_containment_is_an_overlap():
    assert rules.overlaps(t(9), t(12), t(10), t(10, 30))


def test_window_applies_only_on_its_weekday_and_dates():
    w = rules.Window(0, time(9), time(17), valid_from=date(2030, 1, 1), valid_until=date(2030, 1, 31))
    assert w.applies_on(date(2030, 1, 7))  # a Monday
    assert not w.applies_on(date(2030, 1, 8))
    assert not w.applies_on(date(2030, 2, 4))


def test_covering_window_needs_the_whole_interval_inside():
    w = rules.Window(0, time(9), time(17), valid_from=date(2030, 1, 1))
    start = datetime(2030, 1, 7, 16, 30, tzinfo=LONDON)
    assert rules.covering_window([w], start, start + timedelta(minutes=30), LONDON) is w
    assert rules.covering_window([w], start, start + timedelta(minutes=31), LONDON) is None


def test_covering_window_respects_its_room():
    w = rules.Window(0, time(9), time(17), valid_from=date(2030, 1, 1), room_id=1)
    start = datetime(2030, 1, 7, 10, tzinfo=LONDON)
    assert rules.covering_window([w], start, start + timedelta(minutes=30), LONDON, room_id=2) is None
    assert rules.covering_window([w], start, start + timedelta(minutes=30), LONDON, room_id=1) is w


def test_windows_are_read_in_the_clinic_timezone():
    ny = ZoneInfo("America/New_York")
    w = rules.Window(0, time(9), time(17), valid_from=date(2030, 1, 1))
    start = datetime(2030, 1, 7, 14, tzinfo=UTC)  # 09:00 in New York in winter
    assert rules.covering_window([w], start, start + timedelta(minutes=30), ny) is w
    assert rules.covering_window([w], start - timedelta(minutes=1), start + timedelta(minutes=30), ny) is None


def test_free_slots_skip_busy_times_and_fill_gaps_exactly():
    slots = rules.free_slots(t(9), t(11), [(t(9, 30), t(10)), (t(10, 30), t(11))],
                             duration=timedelta(minutes=30), step=timedelta(minutes=15))
    assert slots == [(t(9), t(9, 30)), (t(10), t(10, 30))]


def test_free_slots_start_no_earlier_than_asked():
    slots = rules.free_slots(t(9), t(10), [], duration=timedelta(minutes=30), step=timedelta(minutes=30),
                             not_before=t(9, 10))
    assert slots == [(t(9, 30), t(10))]


def test_free_slots_refuse_a_zero_step():
    with pytest.raises(ValueError):
        rules.free_slots(t(9), t(10), [], duration=timedelta(minutes=30), step=timedelta(0))


def test_local_day_bounds_are_25_hours_when_the_clocks_go_back():
    start, end = rules.local_day_bounds(date(2030, 10, 27), LONDON)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)
