"""Dates and times in text written by Python (messages, chart labels, choice labels), in the
clinic's one format: the same as the templates' SHORT_DATE_FORMAT and SHORT_DATETIME_FORMAT."""

from __future__ import annotations

from datetime import date, datetime

DATE = "%d/%m/%Y"  # 14/03/2026
DATETIME = "%d/%m/%Y %H:%M"  # 14/03/2026 09:30
WEEKDAY_DATETIME = "%a %d/%m/%Y %H:%M"  # Sat 14/03/2026 09:30


def date_text(value: date | datetime | None) -> str:
    """``value`` as 14/03/2026 (a date-time: its date as it stands; convert to local time first)."""
    return value.strftime(DATE) if value is not None else ""


def datetime_text(value: datetime | None) -> str:
    """``value`` as 14/03/2026 09:30, as it stands (convert to the clinic's local time first)."""
    return value.strftime(DATETIME) if value is not None else ""
