"""Scheduling in the demo: the clinicians' weekly hours, a diary of free slots so nobody is ever
double-booked, and the booking steps of a patient's story (book, complete, no-show, cancel)."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from anagen.demo.clock import HISTORY_WEEKS, _aware

if TYPE_CHECKING:
    from anagen.demo.context import DemoContext

# --- the diary: free slots, so nobody is ever double-booked -----------------------------------

# Weekly rota (clinic's local time): each session is held in one room, consulting or procedure;
# the booking takes its room from the session. Video consultations fit into any session.
AM, PM = (time(9), time(13)), (time(14), time(17, 30))
HOURS = [
    # clinician e-mail, clinic, weekdays, session, room ("consult" = room 1, "consult2" = room 2, "procedure")
    ("clinician@anagen.example", "birmingham", (0, 1, 3), AM, "consult"),
    ("clinician@anagen.example", "birmingham", (0, 1, 3), PM, "procedure"),
    ("clinician@anagen.example", "birmingham", (2,), AM, "procedure"),
    ("clinician@anagen.example", "birmingham", (2,), PM, "consult"),
    ("clinician@anagen.example", "solihull", (4,), AM, "consult2"),
    ("clinician@anagen.example", "solihull", (4,), PM, "procedure"),
    ("clinician2@anagen.example", "solihull", (0, 2), AM, "consult"),
    ("clinician2@anagen.example", "solihull", (0, 2), PM, "procedure"),
    ("clinician2@anagen.example", "solihull", (1, 3), AM, "procedure"),
    ("clinician2@anagen.example", "solihull", (1, 3), PM, "consult"),
]


@dataclass
class Slot:
    clinician: object
    room: object | None
    starts: datetime  # naive, clinic's local time


class Diary:
    """The clinicians' weekly hours and what is already taken, in local time, per day."""

    def __init__(self) -> None:
        self.hours: dict[tuple[int, int, int], list[tuple[time, time, object]]] = defaultdict(list)
        self.busy: dict[tuple[str, int, date], list[tuple[datetime, datetime]]] = defaultdict(list)

    def add_hours(self, clinician, clinic, weekday: int, start: time, end: time, room) -> None:
        self.hours[(clinician.pk, clinic.pk, weekday)].append((start, end, room))

    def _free(self, key: tuple, day: date, s: datetime, e: datetime) -> bool:
        return all(e <= bs or s >= be for bs, be in self.busy[(*key, day)])

    def take(self, clinician, room, s: datetime, minutes: int) -> None:
        e = s + timedelta(minutes=minutes)
        self.busy[("c", clinician.pk, s.date())].append((s, e))
        if room is not None:
            self.busy[("r", room.pk, s.date())].append((s, e))

    def find(self, *, rng: random.Random, clinic, clinicians: list, kind: str, minutes: int, earliest: date,
             days: int = 45) -> Slot | None:
        """A free slot on the first day from ``earliest`` that has one; a random one of that day's.

        A procedure goes into a procedure-room session, a consultation or follow-up into a
        consulting-room session, a video consultation into any session (and no room).
        """
        video = kind == "video_consultation"
        for offset in range(days):
            day = earliest + timedelta(days=offset)
            options = []
            for clinician in clinicians:
                for start, end, room in self.hours.get((clinician.pk, clinic.pk, day.weekday()), []):
                    if not video and room.is_procedure_room != (kind == "procedure"):
                        continue
                    room = None if video else room
                    s = datetime.combine(day, start)
                    last = datetime.combine(day, end) - timedelta(minutes=minutes)
                    while s <= last:
                        e = s + timedelta(minutes=minutes)
                        if self._free(("c", clinician.pk), day, s, e) and (
                                room is None or self._free(("r", room.pk), day, s, e)):
                            options.append(Slot(clinician, room, s))
                        s += timedelta(minutes=30)
            if options:
                slot = options[rng.randrange(len(options))]
                self.take(slot.clinician, slot.room, slot.starts, minutes)
                return slot
        return None


# --- context ----------------------------------------------------------------------------------


def _hours(ctx: DemoContext) -> None:
    from anagen.scheduling.services import availability_add, duration_for

    valid_from = ctx.today - timedelta(weeks=HISTORY_WEEKS + 10)
    with ctx.act(ctx.coordinator, _aware(datetime.combine(valid_from - timedelta(days=7), time(10)))):
        for email, slug, weekdays, (start, end), room_name in HOURS:
            clinician, clinic = ctx.user(email), ctx.clinics[slug]
            rooms = ctx.rooms[slug]
            room = {"consult": rooms["consult"][0], "consult2": rooms["consult"][1],
                    "procedure": rooms["procedure"][0]}[room_name]
            for weekday in weekdays:
                availability_add(actor=ctx.coordinator, clinician=clinician, clinic=clinic, weekday=weekday,
                                 start_time=start, end_time=end, valid_from=valid_from, room=room)
                ctx.diary.add_hours(clinician, clinic, weekday, start, end, room)
    from anagen.scheduling.models import AppointmentKind

    ctx.durations = {k: duration_for(k) for k in AppointmentKind.values}


class SchedulingSteps:
    """The booking steps of :class:`anagen.demo.stories.PatientRun`."""

    def book(self, kind: str, earliest: date, *, clinician=None, via_proposal=None, notes: str = ""):
        """Find a free slot from ``earliest`` and book it (through a plan proposal when given).

        Returns the appointment, or None when no slot was found. The booking is made at ``self.t``.
        """
        from anagen.scheduling.services import appointment_book
        from anagen.treatments.services import proposal_confirm

        ctx = self.ctx
        minutes = ctx.durations[kind]
        clinicians = [clinician] if clinician else ctx.clinicians_of(self.clinic)
        earliest = max(earliest, (self.t + timedelta(days=1)).date())
        slot = ctx.diary.find(rng=self.rng, clinic=self.clinic, clinicians=clinicians, kind=kind, minutes=minutes,
                              earliest=earliest)
        if slot is None:
            return None
        with ctx.act(ctx.coordinator, self.t):
            if via_proposal is not None:
                proposal = proposal_confirm(actor=ctx.coordinator, proposal=via_proposal, starts_at=slot.starts,
                                            clinician=slot.clinician, room=slot.room)
                appointment = proposal.appointment
            else:
                appointment = appointment_book(actor=ctx.coordinator, patient=self.patient, clinician=slot.clinician,
                                               clinic=self.clinic, kind=kind, starts_at=slot.starts, room=slot.room,
                                               notes=notes)
        ctx.stats[f"appointment:{kind}"] += 1
        return appointment

    def is_past(self, appointment) -> bool:
        return appointment.ends_at < self.ctx.present

    def complete(self, appointment) -> None:
        from anagen.scheduling.services import appointment_complete

        with self.ctx.act(appointment.clinician, self.advance(appointment.ends_at + timedelta(minutes=5))):
            appointment_complete(actor=appointment.clinician, appointment=appointment)

    def no_show(self, appointment) -> None:
        from anagen.scheduling.services import appointment_mark_no_show

        with self.ctx.act(self.ctx.coordinator, self.advance(appointment.starts_at + timedelta(minutes=20))):
            appointment_mark_no_show(actor=self.ctx.coordinator, appointment=appointment)
        self.ctx.stats["no_shows"] += 1

    def cancel(self, appointment, reason: str) -> None:
        from anagen.scheduling.services import appointment_cancel

        when = appointment.starts_at - timedelta(days=self.rng.randint(1, 3), hours=self.rng.randint(1, 6))
        when = max(when, self.t + timedelta(minutes=30))
        if when >= appointment.starts_at:
            return
        with self.ctx.act(self.ctx.coordinator, self.advance(when)):
            appointment_cancel(actor=self.ctx.coordinator, appointment=appointment, reason=reason)
        self.ctx.stats["cancellations"] += 1

    def second_opinion(self) -> None:
        """Some patients come back by video to talk it over; a few miss it."""
        appointment = self.book("video_consultation", (self.t + timedelta(days=self.rng.randint(10, 40))).date(),
                                notes="Second conversation about the options.")
        if appointment is None or not self.is_past(appointment):
            return
        if self.rng.random() < 0.15:
            self.no_show(appointment)
        else:
            self.complete(appointment)
