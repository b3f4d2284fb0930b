"""The .ics file, parsed back with icalendar."""

from datetime import timezone as dt_timezone

from icalendar import Calendar

from anagen.scheduling.ics import appointment_ics
from anagen.scheduling.services import appointment_cancel


def _event(a):
    cal = Calendar.from_ical(appointment_ics(a))
    return cal, cal.walk("VEVENT")[0]


def test_the_event_is_in_utc_with_the_clinic_timezone(book):
    a = book("10:00")
    cal, ev = _event(a)
    assert ev.decoded("DTSTART") == a.starts_at and ev.decoded("DTSTART").utcoffset().total_seconds() == 0
    assert ev.decoded("DTSTART").tzinfo is not None
    assert ev.decoded("DTEND") == a.ends_at
    assert "DTSTART:" in appointment_ics(a).decode() and appointment_ics(a).decode().count("Z\r\n") >= 2
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/London"
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "Europe/London"


def test_location_is_the_clinic_address_and_summary_has_no_diagnosis(book):
    _, ev = _event(book("10:00"))
    assert "1 Colmore Row" in str(ev["LOCATION"])
    summary = str(ev["SUMMARY"])
    assert summary == "Free consultation – Anagen Birmingham"
    assert "Pat" not in summary and "alopecia" not in str(ev["DESCRIPTION"]).lower()


def test_a_video_consultation_locates_at_its_meeting_link(book):
    a = book("10:00", kind="video_consultation")
    _, ev = _event(a)
    assert str(ev["LOCATION"]) == a.meeting_url
    assert a.meeting_url in str(ev["DESCRIPTION"])


def test_a_cancelled_event_says_so_with_a_higher_sequence(book, coordinator):
    a = appointment_cancel(actor=coordinator, appointment=book("10:00"), reason="ill")
    cal, ev = _event(a)
    assert str(ev["STATUS"]) == "CANCELLED" and int(ev["SEQUENCE"]) == 1
    assert str(cal["METHOD"]) == "CANCEL"
