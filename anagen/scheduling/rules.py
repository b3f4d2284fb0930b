"""Booking arithmetic on plain datetimes: overlaps, availability windows, free slots.

No Django here, so the rules are tested in milliseconds and reused by the services, the API's
free-slot search and anything that plans a schedule. All datetimes are timezone-aware;
intervals are half-open ``[start, end)``, so an appointment ending at 10:30 and the next one
starting at 10:30 do not overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """True when ``[a_start, a_end)`` and ``[b_start, b_end)`` share at least an instant."""
    return a_start < b_end and a_end > b_start


@dataclass(frozen=True)
class Window:
    """A weekly availability window, in the clinic's local wall-clock time."""

    weekday: int  # Monday 0 .. Sunday 6, as date.weekday()
    start_time: time
    end_time: time
    valid_from: date
    valid_until: date | None = None
    room_id: int | None = None

    def applies_on(self, day: date) -> bool:
        return (day.weekday() == self.weekday and self.valid_from <= day
                and (self.valid_until is None or day <= self.valid_until))

    def on(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The window on ``day`` as aware datetimes in ``tz``."""
        return datetime.combine(day, self.start_time, tzinfo=tz), datetime.combine(day, self.end_time, tzinfo=tz)


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Start of ``day`` and of the next day in ``tz`` (23 or 25 hours apart on DST changes)."""
    return datetime.combine(day, time.min, tzinfo=tz), datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def covering_window(windows: list[Window], start: datetime, end: datetime, tz: ZoneInfo,
                    room_id: int | None = None) -> Window | None:
    """The first window that holds the whole of ``[start, end)``, or None.

    With ``room_id``, a window tied to another room does not count; windows without a room do.
    """
    day = start.astimezone(tz).date()
    for w in windows:
        if not w.applies_on(day):
            continue
        if room_id is not None and w.room_id is not None and w.room_id != room_id:
            continue
        w_start, w_end = w.on(day, tz)
        if w_start <= start and end <= w_end:
            return w
    return None


def free_slots(window_start: datetime, window_end: datetime, busy: list[tuple[datetime, datetime]], *,
               duration: timedelta, step: timedelta, not_before: datetime | None = None) -> list[tuple[datetime, datetime]]:
    """Start/end of each slot of ``duration`` inside the window that touches no busy interval.

    Candidate starts are ``window_start + k * step``; those before ``not_before`` (now, say)
    are skipped.
    """
    if duration <= timedelta(0) or step <= timedelta(0):
        raise ValueError("duration and step must be positive")
    slots = []
    # Step in UTC: aware arithmetic in a local zone is wall-clock time and drifts across a DST change.
    start, window_end = window_start.astimezone(timezone.utc), window_end.astimezone(timezone.utc)
    while start + duration <= window_end:
        end = start + duration
        if (not_before is None or start >= not_before) and not any(overlaps(start, end, b0, b1) for b0, b1 in busy):
            slots.append((start, end))
        start += step
    return slots


# --- the time grid ------------------------------------------------------------------------------

FREE, BUSY, OFF = "free", "busy", "off"


def grid_times(windows: list[Window], days: list[date], step: timedelta,
               default: tuple[time, time] = (time(8, 0), time(18, 0))) -> list[time]:
    """Rows of a time grid: wall-clock times from the earliest window start to the latest window
    end on ``days``, ``step`` apart (``default`` hours when nobody works those days)."""
    current = [w for w in windows if any(w.applies_on(d) for d in days)]
    first = min((w.start_time for w in current), default=default[0])
    last = max((w.end_time for w in current), default=default[1])
    rows, t = [], datetime.combine(date.min, first)
    end = datetime.combine(date.min, last)
    while t < end:
        rows.append(t.time())
        t += step
    return rows


def slot_state(start: datetime, duration: timedelta, *, tz: ZoneInfo, windows: list[Window],
               clinician_busy: list[tuple[datetime, datetime]], room_busy: dict[int, list[tuple[datetime, datetime]]],
               rooms: list[int], needs_room: bool, not_before: datetime | None = None) -> tuple[str, int | None]:
    """Whether a clinician could start an appointment of ``duration`` at ``start``: (FREE, room id),
    (BUSY, None) when they work then but cannot take it, or (OFF, None) outside their hours.

    ``rooms`` are the suitable rooms in order of preference; a window tied to a room uses only
    that room. ``needs_room`` is False for a video consultation.
    """
    end = start + duration
    window = covering_window(windows, start, end, tz)
    if window is None:
        working = any(w.applies_on(start.astimezone(tz).date()) and w.on(start.astimezone(tz).date(), tz)[0] <= start
                      < w.on(start.astimezone(tz).date(), tz)[1] for w in windows)
        return (BUSY if working else OFF), None
    if (not_before is not None and start < not_before) or any(overlaps(start, end, b0, b1) for b0, b1 in clinician_busy):
        return BUSY, None
    if not needs_room:
        return FREE, None
    candidates = [window.room_id] if window.room_id is not None else rooms
    for room_id in candidates:
        if room_id in rooms and not any(overlaps(start, end, b0, b1) for b0, b1 in room_busy.get(room_id, ())):
            return FREE, room_id
    return BUSY, None
