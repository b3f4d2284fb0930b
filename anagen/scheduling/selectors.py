"""Reads for appointments, calendars, availability and free slots, scoped to the user.

Admins, coordinators and clinicians see the appointments of the clinics they work at; every
other role gets PermissionDenied (403); a record of another clinic is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from anagen.accounts.models import Clinic, Role, Room, User
from anagen.core.permissions import BOOKING_ROLES, check_role, clinic_filter

from . import rules
from .models import Appointment, AppointmentKind, AppointmentStatus, ClinicianAvailability
from .services import MAX_DURATION_MINUTES, duration_for


def _check(user) -> None:
    check_role(user, *BOOKING_ROLES)


def appointment_list(*, user: User, clinic: Clinic | int | None = None, clinician: User | int | None = None,
                     patient=None, start: datetime | None = None, end: datetime | None = None,
                     status: str | None = None) -> QuerySet[Appointment]:
    """Appointments overlapping ``[start, end)`` at the user's clinics, oldest first, with their rows joined."""
    _check(user)
    qs = (Appointment.objects.filter(**clinic_filter(user))
          .select_related("clinic", "patient", "clinician", "room"))
    if clinic is not None:
        qs = qs.filter(clinic=clinic)
    if clinician is not None:
        qs = qs.filter(clinician=clinician)
    if patient is not None:
        qs = qs.filter(patient=patient)
    if start is not None:
        # No appointment is longer than MAX_DURATION_MINUTES (the services refuse it and the admin
        # is read-only), so this lower bound on starts_at changes no answer; it lets the
        # (clinic, starts_at) index read just the window instead of every earlier appointment.
        qs = qs.filter(ends_at__gt=start, starts_at__gt=start - timedelta(minutes=MAX_DURATION_MINUTES))
    if end is not None:
        qs = qs.filter(starts_at__lt=end)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("starts_at", "id")


def appointment_get(*, user: User, pk: int) -> Appointment:
    _check(user)
    appointment = (Appointment.objects.select_related("clinic", "patient", "clinician", "room", "created_by",
                                                      "cancelled_by")
                   .filter(pk=pk, **clinic_filter(user)).first())
    if appointment is None:
        raise Http404("No appointment with that id at the clinics you work at.")
    return appointment


def clinic_list(*, user: User) -> QuerySet[Clinic]:
    _check(user)
    return Clinic.objects.filter(pk__in=user.clinic_ids, is_active=True).order_by("name")


def clinic_get(*, user: User, pk: int) -> Clinic:
    _check(user)
    clinic = Clinic.objects.filter(pk=pk, pk__in=user.clinic_ids).first()
    if clinic is None:
        raise Http404("That clinic is not one you work at.")
    return clinic


def clinicians_of(*, user: User, clinic: Clinic) -> QuerySet[User]:
    _check(user)
    if not user.can_see_clinic(clinic.pk):
        raise Http404("That clinic is not one you work at.")
    return (User.objects.filter(clinics=clinic, role_grants__role=Role.CLINICIAN, is_active=True)
            .distinct().order_by("last_name", "first_name"))


def clinician_get(*, user: User, pk: int) -> User:
    """A clinician who works at one of the user's clinics."""
    _check(user)
    clinician = (User.objects.filter(pk=pk, role_grants__role=Role.CLINICIAN, clinics__in=list(user.clinic_ids))
                 .distinct().first())
    if clinician is None:
        raise Http404("No clinician with that id at the clinics you work at.")
    return clinician


def availability_list(*, user: User, clinician: User | None = None, clinic: Clinic | None = None,
                      on: date | None = None) -> QuerySet[ClinicianAvailability]:
    _check(user)
    qs = ClinicianAvailability.objects.filter(**clinic_filter(user)).select_related("clinician", "clinic", "room")
    if clinician is not None:
        qs = qs.filter(clinician=clinician)
    if clinic is not None:
        qs = qs.filter(clinic=clinic)
    if on is not None:
        qs = qs.filter(valid_from__lte=on).exclude(valid_until__lt=on)
    return qs.order_by("clinic__name", "clinician__last_name", "weekday", "start_time")


def free_slots(*, user: User, clinician: User, clinic: Clinic, day: date, kind: str = AppointmentKind.FREE_CONSULTATION,
               duration_minutes: int | None = None, step_minutes: int = 15) -> list[tuple[datetime, datetime]]:
    """Times on ``day`` (clinic's local date) at which ``clinician`` could see a patient at ``clinic``.

    Leaves out the clinician's booked appointments everywhere and, for a window tied to a room,
    that room's bookings. Rooms of windows without one are checked when booking.
    """
    _check(user)
    if not user.can_see_clinic(clinic.pk):
        raise Http404("That clinic is not one you work at.")
    tz = clinic.tz
    duration = timedelta(minutes=duration_minutes or duration_for(kind))
    day_start, day_end = rules.local_day_bounds(day, tz)
    booked = list(Appointment.objects.filter(status=AppointmentStatus.BOOKED, starts_at__lt=day_end, ends_at__gt=day_start)
                  .filter(clinician=clinician).values_list("starts_at", "ends_at"))
    slots: set[tuple[datetime, datetime]] = set()
    for a in availability_list(user=user, clinician=clinician, clinic=clinic, on=day).filter(weekday=day.weekday()):
        w = rules.Window(a.weekday, a.start_time, a.end_time, a.valid_from, a.valid_until, a.room_id)
        w_start, w_end = w.on(day, tz)
        busy = list(booked)
        if a.room_id and kind != AppointmentKind.VIDEO_CONSULTATION:
            busy += list(Appointment.objects.filter(status=AppointmentStatus.BOOKED, room_id=a.room_id,
                                                    starts_at__lt=w_end, ends_at__gt=w_start)
                         .values_list("starts_at", "ends_at"))
        slots.update(rules.free_slots(w_start, w_end, busy, duration=duration, step=timedelta(minutes=step_minutes),
                                      not_before=timezone.now()))
    return sorted(slots)


# --- calendars ------------------------------------------------------------------------------------

@dataclass
class CalendarDay:
    day: date
    appointments: list[Appointment] = field(default_factory=list)


def calendar_days(*, user: User, clinic: Clinic, first_day: date, days: int, clinician: User | None = None,
                  include_cancelled: bool = True) -> list[CalendarDay]:
    """``days`` days from ``first_day`` (clinic's local dates), each with its appointments.

    One query for all of them (clinic, patient, clinician and room joined), however many there are.
    With ``clinician``, the clinician's appointments at every clinic the user works at are shown,
    so a clash across clinics is visible.
    """
    tz = clinic.tz
    start, _ = rules.local_day_bounds(first_day, tz)
    _, end = rules.local_day_bounds(first_day + timedelta(days=days - 1), tz)
    if clinician is not None:
        qs = appointment_list(user=user, clinician=clinician, start=start, end=end)
    else:
        qs = appointment_list(user=user, clinic=clinic, start=start, end=end)
    if not include_cancelled:
        qs = qs.exclude(status=AppointmentStatus.CANCELLED)
    buckets = {first_day + timedelta(days=i): CalendarDay(first_day + timedelta(days=i)) for i in range(days)}
    for a in qs:
        local_day = timezone.localtime(a.starts_at, tz).date()
        if local_day in buckets:
            buckets[local_day].appointments.append(a)
    return list(buckets.values())


def may_book_any_kind(user: User) -> bool:
    """Admins and coordinators book every kind; clinicians only follow-up assessments."""
    return bool(user.roles & {Role.ADMIN, Role.COORDINATOR})


# --- the time grid --------------------------------------------------------------------------------

GRID_BY = ("clinician", "room")


@dataclass
class GridColumn:
    day: date
    clinician: User | None = None
    room: Room | None = None


@dataclass
class GridCell:
    state: str  # "appointment" (where it starts), "busy" (taken or too short), "free", "off"
    start: datetime  # clinic's local time
    appointment: Appointment | None = None
    clinician: User | None = None
    room_id: int | None = None


@dataclass
class TimeGrid:
    columns: list[GridColumn]
    rows: list[tuple[time, list[GridCell]]]
    step_minutes: int
    duration_minutes: int
    kind: str

    @property
    def free_count(self) -> int:
        return sum(1 for _, cells in self.rows for c in cells if c.state == rules.FREE)


def _suitable_rooms(clinic: Clinic, kind: str) -> list[Room]:
    rooms = Room.objects.filter(clinic=clinic, is_active=True)
    if kind == AppointmentKind.PROCEDURE:
        rooms = rooms.filter(is_procedure_room=True)
    # Consultations go to ordinary rooms first, keeping procedure rooms for procedures.
    return list(rooms.order_by("is_procedure_room", "name"))


def time_grid(*, user: User, clinic: Clinic, first_day: date, days: int = 1, kind: str = AppointmentKind.FREE_CONSULTATION,
              by: str = "clinician", clinician: User | None = None, room: Room | None = None,
              every_column: bool = False, moving: Appointment | None = None) -> TimeGrid:
    """A time grid of ``clinic``: rows of wall-clock times, columns of clinicians or rooms (one day),
    or of days (a week of one clinician or room; with ``every_column``, every clinician or room on
    every day, as the next-free-slots search reads it). Each cell is an appointment, busy, free for an
    appointment of ``kind`` starting then (with the clinician and room it would use), or off.

    Free means: inside the clinician's hours at this clinic for the whole length, not in the past,
    clashing with none of the clinician's booked appointments (at any clinic) and with a suitable
    room of the clinic free for the whole length (none needed by video).
    """
    _check(user)
    if not user.can_see_clinic(clinic.pk):
        raise Http404("That clinic is not one you work at.")
    tz = clinic.tz
    if moving is not None:
        kind = moving.kind
        duration = moving.ends_at - moving.starts_at
    else:
        duration = timedelta(minutes=duration_for(kind))
    step = timedelta(minutes=min(30, int(duration.total_seconds() // 60)))
    day_list = [first_day + timedelta(days=i) for i in range(days)]
    start, _ = rules.local_day_bounds(day_list[0], tz)
    _, end = rules.local_day_bounds(day_list[-1], tz)
    clinicians = list(clinicians_of(user=user, clinic=clinic))
    if clinician is not None:
        clinicians = [c for c in clinicians if c.pk == clinician.pk]
    rooms = _suitable_rooms(clinic, kind)
    if moving is not None and moving.room_id in {r.pk for r in rooms}:
        rooms.sort(key=lambda r: r.pk != moving.room_id)
    all_rooms = list(Room.objects.filter(clinic=clinic, is_active=True).order_by("name"))
    windows: dict[int, list[rules.Window]] = {c.pk: [] for c in clinicians}
    for a in ClinicianAvailability.objects.filter(clinic=clinic, clinician__in=clinicians):
        windows[a.clinician_id].append(rules.Window(a.weekday, a.start_time, a.end_time, a.valid_from, a.valid_until,
                                                    a.room_id))
    booked = list(Appointment.objects.filter(status=AppointmentStatus.BOOKED, starts_at__lt=end, ends_at__gt=start)
                  .filter(Q(clinic=clinic) | Q(clinician__in=clinicians))
                  .select_related("clinic", "patient", "clinician", "room").order_by("starts_at"))
    by_clinician: dict[int, list[Appointment]] = {}
    by_room: dict[int, list[Appointment]] = {}
    for a in booked:
        by_clinician.setdefault(a.clinician_id, []).append(a)
        if a.room_id:
            by_room.setdefault(a.room_id, []).append(a)
    # The appointment being moved does not stand in its own way.
    others = [a for a in booked if moving is None or a.pk != moving.pk]
    room_busy: dict[int, list[tuple[datetime, datetime]]] = {}
    clinician_busy: dict[int, list[tuple[datetime, datetime]]] = {}
    for a in others:
        clinician_busy.setdefault(a.clinician_id, []).append((a.starts_at, a.ends_at))
        if a.room_id:
            room_busy.setdefault(a.room_id, []).append((a.starts_at, a.ends_at))
    needs_room = kind != AppointmentKind.VIDEO_CONSULTATION
    room_ids = [r.pk for r in rooms]
    now = timezone.now()

    if by == "room":
        resources = [room] if room is not None else all_rooms
        columns = [GridColumn(day=d, room=r) for r in resources for d in day_list] if days == 1 or every_column else \
            [GridColumn(day=d, room=resources[0]) for d in day_list] if resources else []
    else:
        resources = clinicians
        columns = [GridColumn(day=d, clinician=c) for c in resources for d in day_list] if days == 1 or every_column else \
            [GridColumn(day=d, clinician=resources[0]) for d in day_list] if resources else []
    row_windows = [w for c in clinicians for w in windows[c.pk]]
    rows = []
    for i, tod in enumerate(rules.grid_times(row_windows, day_list, step)):
        cells = []
        for col in columns:
            local = datetime.combine(col.day, tod, tzinfo=tz)
            at = local.astimezone(dt_timezone.utc)
            taken = by_room.get(col.room.pk, []) if col.room else by_clinician.get(col.clinician.pk, [])
            appointment = next((a for a in taken if a.starts_at < at + step and a.ends_at > at
                                and not (moving is not None and a.pk == moving.pk and a.starts_at < at)), None)
            if appointment is not None:
                starts_here = appointment.starts_at >= at or i == 0
                shown = appointment if appointment.clinic_id == clinic.pk else None
                cells.append(GridCell("appointment" if starts_here and shown else rules.BUSY, local, shown))
                continue
            if col.clinician is not None:
                state, room_id = rules.slot_state(at, duration, tz=tz, windows=windows[col.clinician.pk],
                                                  clinician_busy=clinician_busy.get(col.clinician.pk, []),
                                                  room_busy=room_busy, rooms=room_ids, needs_room=needs_room,
                                                  not_before=now)
                cells.append(GridCell(state, local, clinician=col.clinician if state == rules.FREE else None,
                                      room_id=room_id))
                continue
            state, who = rules.OFF, None
            if col.room.pk in room_ids:
                for c in clinicians:
                    usable = [w for w in windows[c.pk] if w.room_id in (None, col.room.pk)]
                    s, _ = rules.slot_state(at, duration, tz=tz, windows=usable, clinician_busy=clinician_busy.get(c.pk, []),
                                            room_busy=room_busy, rooms=[col.room.pk], needs_room=True, not_before=now)
                    if s == rules.FREE:
                        state, who = s, c
                        break
                    if s == rules.BUSY:
                        state = rules.BUSY
            cells.append(GridCell(state, local, clinician=who, room_id=col.room.pk if who else None))
        rows.append((tod, cells))
    return TimeGrid(columns=columns, rows=rows, step_minutes=int(step.total_seconds() // 60),
                    duration_minutes=int(duration.total_seconds() // 60), kind=kind)


def room_for_move(*, user: User, appointment: Appointment, clinician: User, starts_at: datetime) -> Room | None:
    """The room the time grid gives ``appointment`` when moved to ``clinician`` at ``starts_at``
    (naive: the clinic's local time): its own room when that suits and is free, else the first
    suitable free one. When the slot is not free, its current room, so that the booking service
    says why."""
    clinic = appointment.clinic
    local = timezone.make_aware(starts_at, clinic.tz) if timezone.is_naive(starts_at) else starts_at.astimezone(clinic.tz)
    grid = time_grid(user=user, clinic=clinic, first_day=local.date(), clinician=clinician, moving=appointment)
    cell = next((cells[0] for tod, cells in grid.rows if cells and cells[0].start == local), None)
    if cell is not None and cell.state == rules.FREE and cell.room_id is not None:
        return Room.objects.filter(pk=cell.room_id).first()
    return appointment.room


def next_free_slots(*, user: User, clinic: Clinic, kind: str, clinician: User | None = None, days: int = 14,
                    limit: int = 8, from_day: date | None = None) -> list[GridCell]:
    """The first ``limit`` free starts for ``kind`` at ``clinic`` within ``days`` days, earliest first,
    each with the clinician and room it would use (one clinician's only, with ``clinician``)."""
    day = from_day or timezone.localtime(timezone.now(), clinic.tz).date()
    grid = time_grid(user=user, clinic=clinic, first_day=day, days=days, kind=kind, clinician=clinician,
                     every_column=True)
    cells = sorted((c for _, row in grid.rows for c in row if c.state == rules.FREE),
                   key=lambda c: (c.start, c.clinician.last_name if c.clinician else ""))
    return cells[:limit]
