"""The demo's simulated clock and the time helpers every clinic area uses."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.utils import timezone

if TYPE_CHECKING:
    from anagen.demo.context import DemoContext

LONDON = ZoneInfo("Europe/London")
HISTORY_WEEKS = 78  # 18 months
FOLLOW_UP_WEEKS = [4, 12, 23, 44, 58]

# --- the simulated clock ----------------------------------------------------------------------


class SimulatedClock:
    """While active, ``django.utils.timezone.now()`` answers the moment being replayed.

    Services read the time through ``timezone.now()`` / ``timezone.localdate()`` and models stamp
    ``auto_now_add`` fields with it, so a replayed booking is made, and recorded, on the day it
    was made. Audit entries get the same time. ``at=None`` falls back to the real time.
    """

    def __init__(self) -> None:
        self.at: datetime | None = None
        self._real = None

    def now(self) -> datetime:
        return self.at if self.at is not None else self._real()

    def _stamp(self, sender, instance, **kwargs) -> None:
        if instance.pk is None and self.at is not None:
            instance.timestamp = self.at

    def __enter__(self) -> "SimulatedClock":
        from auditlog.models import LogEntry
        from django.db.models.signals import pre_save
        from django.utils import timezone as tz_module

        self._real = tz_module.now
        tz_module.now = self.now
        pre_save.connect(self._stamp, sender=LogEntry, dispatch_uid="anagen-demo-clock", weak=False)
        return self

    def __exit__(self, *exc) -> None:
        from auditlog.models import LogEntry
        from django.db.models.signals import pre_save
        from django.utils import timezone as tz_module

        pre_save.disconnect(sender=LogEntry, dispatch_uid="anagen-demo-clock")
        tz_module.now = self._real
        self.at = None


def _aware(naive: datetime) -> datetime:
    return timezone.make_aware(naive, LONDON)


def _office(ctx: DemoContext, day: date, earliest: time = time(9), latest: time = time(17)) -> datetime:
    """A moment in office hours on ``day``."""
    span = (latest.hour * 60 + latest.minute) - (earliest.hour * 60 + earliest.minute)
    minutes = earliest.hour * 60 + earliest.minute + ctx.rng.randrange(max(1, span))
    return _aware(datetime.combine(day, time(minutes // 60, minutes % 60)))


def _before_present(ctx: DemoContext, when: datetime) -> datetime:
    return min(when, ctx.present - timedelta(hours=7))
