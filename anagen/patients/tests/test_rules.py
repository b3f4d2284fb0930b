"""Pure rules: no database."""

from datetime import date

import pytest

from anagen.patients import rules


@pytest.mark.parametrize("raw", ["+44 7700 900 123", "07700 900123", "+44 (0)7700 900123", "0044 7700-900-123"])
def test_uk_phone_numbers_in_any_spacing_normalize_to_the_same_number(raw):
    assert rules.normalize_phone(raw) == "+447700900123"


def test_empty_phone_stays_empty():
    assert rules.normalize_phone("  ") == ""


@pytest.mark.parametrize("raw, why", [("call me", "not a phone number"), ("12345", "8 to 15")])
def test_bad_phone_numbers_are_refused_with_a_reason(raw, why):
    with pytest.raises(rules.PhoneError, match=why):
        rules.normalize_phone(raw)


def test_search_box_reads_dates_in_both_formats():
    assert rules.parse_search("1985-04-12").date_of_birth == date(1985, 4, 12)
    assert rules.parse_search("12/04/1985").date_of_birth == date(1985, 4, 12)


def test_search_box_reads_phone_numbers_and_emails_and_names():
    assert rules.parse_search("07700 900 123").phone == "+447700900123"
    assert rules.parse_search("Jane@Example.test").email == "jane@example.test"
    assert rules.parse_search("  José   DOE ").words == ("jose", "doe")


def test_future_and_ancient_dates_of_birth_are_refused():
    today = date(2025, 6, 1)
    assert "future" in rules.date_of_birth_problem(date(2025, 6, 2), today=today)
    assert "120 years" in rules.date_of_birth_problem(date(1890, 1, 1), today=today)
    assert rules.date_of_birth_problem(date(1980, 1, 1), today=today) is None


def test_staging_scales_know_their_stages():
    assert rules.staging_problem("norwood", "III vertex") is None
    assert rules.staging_problem("sinclair", "5") is None
    assert "Ludwig" in rules.staging_problem("ludwig", "IV")
    assert "Unknown scale" in rules.staging_problem("savin", "I")


def test_patient_numbers_are_zero_padded():
    assert rules.patient_number(123) == "AN-000123"
