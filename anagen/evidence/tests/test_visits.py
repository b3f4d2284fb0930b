"""Visit windows on known weeks."""

import doctest

from anagen.evidence import visits


def test_visit_windows_are_two_weeks_until_week_12_then_four():
    assert visits.scheduled_week_for(2) == 4
    assert visits.scheduled_week_for(6) == 4
    assert visits.scheduled_week_for(7) is None
    assert visits.scheduled_week_for(14) == 12
    assert visits.scheduled_week_for(15) is None
    assert visits.scheduled_week_for(19) == 23
    assert visits.scheduled_week_for(48) == 44
    assert visits.scheduled_week_for(54) == 58
    assert visits.scheduled_week_for(None) is None
    assert "±2 weeks" in visits.window_description() and "±4 weeks" in visits.window_description()


def test_a_patient_counts_once_per_week_with_the_nearest_visit():
    chosen = visits.assign_visits([(11, "a"), (12.5, "b"), (13, "c"), (30, "x"), (45, "d")])
    assert chosen == {12: "b", 44: "d"}


def test_the_docstring_examples_hold():
    result = doctest.testmod(visits)
    assert result.failed == 0 and result.attempted > 0
