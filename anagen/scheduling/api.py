"""/api/v1/appointments: list, book, get, reschedule, cancel, no-show, complete, the .ics, and
clinicians' availability and free slots. Same services and selectors as the pages.

Times without a timezone offset are read in the clinic's local time; answers are in UTC
(ISO 8601) with the clinic's timezone named beside them.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.http import Http404, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from anagen.api.params import DateTime, Id, Minutes
from anagen.accounts.models import Room, User
from anagen.core.errors import ActionError
from anagen.patients.models import Patient

from . import selectors, services
from .ics import appointment_ics, ics_filename
from .models import Appointment

router = Router(tags=["scheduling"])


class AppointmentOut(Schema):
    id: int
    clinic_id: int
    clinic_timezone: str
    patient_id: int
    clinician_id: int
    room_id: int | None
    kind: str
    status: str
    starts_at: datetime
    ends_at: datetime
    starts_at_local: str
    meeting_url: str
    notes: str
    cancellation_reason: str

    @staticmethod
    def resolve_clinic_timezone(obj: Appointment) -> str:
        return obj.clinic.timezone

    @staticmethod
    def resolve_starts_at_local(obj: Appointment) -> str:
        return services.local_text(obj.starts_at, obj.clinic, "%Y-%m-%dT%H:%M")


class BookIn(Schema):
    clinic_id: int | None = None
    patient_id: int | None = None
    clinician_id: int | None = None
    kind: str = ""
    starts_at: DateTime | None = Field(None, description="ISO 8601; without an offset it is the clinic's local time.")
    room_id: int | None = None
    duration_minutes: int | None = None
    notes: str = ""


class RescheduleIn(Schema):
    starts_at: DateTime | None = None
    room_id: int | None = None
    clinician_id: int | None = None


class CancelIn(Schema):
    reason: str = ""


class ListFilters(Schema):
    clinic: Id | None = None
    clinician: Id | None = None
    patient: Id | None = None
    from_: DateTime | None = Field(None, alias="from")
    to: DateTime | None = None
    status: str | None = None
    limit: int = Field(500, ge=1, le=2000)


class AvailabilityOut(Schema):
    id: int
    clinician_id: int
    clinic_id: int
    room_id: int | None
    weekday: int
    start_time: time
    end_time: time
    valid_from: date
    valid_until: date | None


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime
    starts_at_local: str


def _patient(user, pk):
    if pk is None:
        return None
    patient = Patient.objects.filter(pk=pk, clinic_id__in=list(user.clinic_ids)).first()
    if patient is None:
        raise Http404
    return patient


def _clinician(pk):
    if pk is None:
        return None
    clinician = User.objects.filter(pk=pk).first()
    if clinician is None:
        raise ActionError(f"No clinician has id {pk}; choose a clinician of the clinic.", field="clinician_id")
    return clinician


def _room(pk):
    if pk is None:
        return None
    room = Room.objects.select_related("clinic").filter(pk=pk).first()
    if room is None:
        raise ActionError(f"No room has id {pk}; choose a room of the clinic.", field="room_id")
    return room


@router.get("", response=list[AppointmentOut], summary="List appointments at your clinics")
def list_appointments(request, filters: Query[ListFilters]):
    return list(selectors.appointment_list(user=request.user, clinic=filters.clinic, clinician=filters.clinician,
                                           patient=filters.patient, start=filters.from_, end=filters.to,
                                           status=filters.status)[:filters.limit])


@router.post("", response={201: AppointmentOut}, summary="Book an appointment")
def book(request, body: BookIn):
    user = request.user
    clinic = selectors.clinic_get(user=user, pk=body.clinic_id) if body.clinic_id is not None else None
    appointment = services.appointment_book(
        actor=user, clinic=clinic, patient=_patient(user, body.patient_id), clinician=_clinician(body.clinician_id),
        kind=body.kind, starts_at=body.starts_at, room=_room(body.room_id), notes=body.notes,
        duration_minutes=body.duration_minutes)
    return Status(201, appointment)


@router.get("/availability", response=list[AvailabilityOut], summary="Clinicians' weekly hours")
def availability(request, clinician: Id | None = None, clinic: Id | None = None, on: date | None = None):
    user = request.user
    return list(selectors.availability_list(
        user=user, clinician=selectors.clinician_get(user=user, pk=clinician) if clinician else None,
        clinic=selectors.clinic_get(user=user, pk=clinic) if clinic else None, on=on))


@router.get("/free-slots", response=list[SlotOut], summary="Free times of a clinician on a day")
def free_slots(request, clinician: Id, clinic: Id, day: date, kind: str = "free_consultation",
               duration_minutes: Minutes | None = None, step_minutes: Minutes = 15):
    user = request.user
    if kind not in services.AppointmentKind.values:
        raise ActionError(f"Unknown kind {kind!r}; choose one of: {', '.join(services.AppointmentKind.values)}.",
                          field="kind")
    if not 5 <= step_minutes <= 240 or (duration_minutes is not None and not 5 <= duration_minutes <= 480):
        raise ActionError("Use a step of 5 to 240 minutes and a duration of 5 to 480 minutes.")
    the_clinic = selectors.clinic_get(user=user, pk=clinic)
    slots = selectors.free_slots(user=user, clinician=selectors.clinician_get(user=user, pk=clinician),
                                 clinic=the_clinic, day=day, kind=kind, duration_minutes=duration_minutes,
                                 step_minutes=step_minutes)
    return [{"starts_at": s, "ends_at": e, "starts_at_local": services.local_text(s, the_clinic, "%Y-%m-%dT%H:%M")}
            for s, e in slots]


@router.get("/{int:appointment_id}", response=AppointmentOut, summary="One appointment")
def get(request, appointment_id: Id):
    return selectors.appointment_get(user=request.user, pk=appointment_id)


@router.post("/{int:appointment_id}/reschedule", response=AppointmentOut, summary="Move an appointment")
def reschedule(request, appointment_id: Id, body: RescheduleIn):
    appointment = selectors.appointment_get(user=request.user, pk=appointment_id)
    return services.appointment_reschedule(actor=request.user, appointment=appointment, starts_at=body.starts_at,
                                           room=_room(body.room_id), clinician=_clinician(body.clinician_id))


@router.post("/{int:appointment_id}/cancel", response=AppointmentOut, summary="Cancel an appointment")
def cancel(request, appointment_id: Id, body: CancelIn):
    appointment = selectors.appointment_get(user=request.user, pk=appointment_id)
    return services.appointment_cancel(actor=request.user, appointment=appointment, reason=body.reason)


@router.post("/{int:appointment_id}/no-show", response=AppointmentOut, summary="Mark a no-show")
def no_show(request, appointment_id: Id):
    appointment = selectors.appointment_get(user=request.user, pk=appointment_id)
    return services.appointment_mark_no_show(actor=request.user, appointment=appointment)


@router.post("/{int:appointment_id}/complete", response=AppointmentOut, summary="Mark completed")
def complete(request, appointment_id: Id):
    appointment = selectors.appointment_get(user=request.user, pk=appointment_id)
    return services.appointment_complete(actor=request.user, appointment=appointment)


@router.get("/{int:appointment_id}/ics", summary="The appointment as an iCalendar file")
def ics(request, appointment_id: Id):
    appointment = selectors.appointment_get(user=request.user, pk=appointment_id)
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ics_filename(appointment)}"'
    return response
