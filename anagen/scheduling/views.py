"""Calendar pages: day and week per clinic and per clinician, booking, and an appointment's page
with its actions and history. Every page asks for a booking role (403) and the clinic (404)."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from anagen.audit.selectors import record_history
from anagen.core.errors import ActionError
from anagen.core.permissions import BOOKING_ROLES, FRONT_DESK_ROLES, has_role, role_required
from anagen.accounts.models import Room
from anagen.patients.models import Patient

from . import selectors, services
from .forms import AvailabilityForm, BookingForm, CancelForm, RescheduleForm
from .ics import appointment_ics, ics_filename
from .models import AppointmentKind, AppointmentStatus

VIEWS = ("day", "week")


def _int_param(request, name: str) -> int | None:
    raw = request.GET.get(name) or request.POST.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise Http404(f"'{raw}' is not a valid {name}.") from None


def _pick_clinic(request, fallback_ids=None):
    clinic_id = _int_param(request, "clinic")
    if clinic_id is not None:
        return selectors.clinic_get(user=request.user, pk=clinic_id)
    clinics = selectors.clinic_list(user=request.user)
    if fallback_ids:
        clinics = clinics.filter(pk__in=fallback_ids) or clinics
    return clinics.first()


def _pick_day(request, clinic) -> date:
    raw = request.GET.get("date", "")
    try:
        return date.fromisoformat(raw) if raw else timezone.localtime(timezone.now(), clinic.tz).date()
    except ValueError:
        messages.error(request, f"'{raw}' is not a date (use YYYY-MM-DD); showing today.")
        return timezone.localtime(timezone.now(), clinic.tz).date()


@role_required(*BOOKING_ROLES)
def calendar(request, clinician_pk: int | None = None):
    user = request.user
    clinician = selectors.clinician_get(user=user, pk=clinician_pk) if clinician_pk else None
    clinic = _pick_clinic(request, fallback_ids=clinician.clinic_ids if clinician else None)
    if clinic is None:
        return render(request, "scheduling/no_clinic.html", status=200)
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "day"
    day = _pick_day(request, clinic)
    if view == "week":
        first, days, step = day - timedelta(days=day.weekday()), 7, timedelta(days=7)
    else:
        first, days, step = day, 1, timedelta(days=1)
    calendar_days = selectors.calendar_days(user=user, clinic=clinic, first_day=first, days=days, clinician=clinician)
    base = reverse("scheduling:clinician_calendar", args=[clinician.pk]) if clinician else reverse("scheduling:calendar")
    return render(request, "scheduling/calendar.html", {
        "clinic": clinic, "clinician": clinician, "view": view, "day": day, "days": calendar_days,
        "clinics": selectors.clinic_list(user=user),
        "clinicians": selectors.clinicians_of(user=user, clinic=clinic),
        "base_url": base, "prev_day": day - step, "next_day": day + step,
        "today": timezone.localtime(timezone.now(), clinic.tz).date(),
        "count": sum(len(d.appointments) for d in calendar_days),
        "kinds": AppointmentKind.choices,
    })


def _bookable_kinds(user) -> list[str]:
    return list(AppointmentKind.values) if selectors.may_book_any_kind(user) else [AppointmentKind.FOLLOW_UP]


def _pick_kind(request, user) -> str:
    """The appointment kind asked for (``kind=``) when the user may book it, else the first they may."""
    allowed = _bookable_kinds(user)
    kind = request.GET.get("kind", "")
    return kind if kind in allowed else allowed[0]


def _book_url(clinic, cell, kind, patient_pk=None) -> str:
    params = {"clinic": clinic.pk, "kind": kind, "clinician": cell.clinician.pk,
              "starts_at": cell.start.strftime("%Y-%m-%dT%H:%M")}
    if cell.room_id:
        params["room"] = cell.room_id
    if patient_pk:
        params["patient"] = patient_pk
    return f"{reverse('scheduling:book')}?{urlencode(params)}"


@role_required(*BOOKING_ROLES)
def grid(request):
    """A day (columns: clinicians or rooms) or week (columns: days of one clinician or room) time grid
    with the free slots for the chosen kind of appointment as links to a prefilled booking form."""
    user = request.user
    clinic = _pick_clinic(request)
    if clinic is None:
        return render(request, "scheduling/no_clinic.html")
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "day"
    by = request.GET.get("by") if request.GET.get("by") in selectors.GRID_BY else "clinician"
    day = _pick_day(request, clinic)
    kind = _pick_kind(request, user)
    clinicians = selectors.clinicians_of(user=user, clinic=clinic)
    rooms = Room.objects.filter(clinic=clinic, is_active=True).order_by("name")
    clinician = room = None
    if _int_param(request, "clinician") is not None:
        clinician = clinicians.filter(pk=_int_param(request, "clinician")).first()
        if clinician is None:
            raise Http404("No clinician with that id at this clinic.")
    if _int_param(request, "room") is not None:
        room = rooms.filter(pk=_int_param(request, "room")).first()
        if room is None:
            raise Http404("No room with that id at this clinic.")
    move = None
    if _int_param(request, "move") is not None:
        move = selectors.appointment_get(user=user, pk=_int_param(request, "move"))
        if move.clinic_id != clinic.pk:
            raise Http404("That appointment is at another clinic.")
        if not _may_move(user, move):
            messages.error(request, f"This appointment is {move.get_status_display().lower()}; only booked "
                                    "appointments can be moved." if not move.is_booked else
                                    "Clinicians may move follow-up assessments only; ask a coordinator.")
            move = None
    if view == "week":
        first, days, step = day - timedelta(days=day.weekday()), 7, timedelta(days=7)
        if by == "room" and room is None:
            room = rooms.first()
        if by == "clinician" and clinician is None:
            clinician = clinicians.first()
    else:
        first, days, step = day, 1, timedelta(days=1)
    grid_clinician = clinician
    if move is not None:
        kind = move.kind
        if by == "room":  # moving keeps the clinician: a room's free slots are theirs only
            grid_clinician = move.clinician
    time_grid = selectors.time_grid(user=user, clinic=clinic, first_day=first, days=days, kind=kind, by=by,
                                    clinician=grid_clinician, room=room, moving=move)
    patient_pk = _int_param(request, "patient")
    movable = {c.appointment.pk for _, cells in time_grid.rows for c in cells
               if c.state == "appointment" and _may_move(user, c.appointment)}
    rows = [(tod, [(cell, _book_url(clinic, cell, kind, patient_pk) if cell.state == "free" else "", col)
                   for cell, col in zip(cells, time_grid.columns)])
            for tod, cells in time_grid.rows]
    query = {"clinic": clinic.pk, "view": view, "by": by, "kind": kind}
    if clinician and view == "week":
        query["clinician"] = clinician.pk
    if room and view == "week":
        query["room"] = room.pk
    if patient_pk:
        query["patient"] = patient_pk
    base_query = urlencode(query)
    back_query = urlencode({**query, "date": day.isoformat()})
    if move:
        query["move"] = move.pk
    context = {
        "clinic": clinic, "clinics": selectors.clinic_list(user=user), "grid": time_grid, "rows": rows,
        "view": view, "by": by, "day": day, "kind": kind, "kind_label": AppointmentKind(kind).label,
        "kinds": [(k, AppointmentKind(k).label) for k in _bookable_kinds(user)],
        "clinicians": clinicians, "rooms": rooms, "clinician": clinician, "room": room, "move": move,
        "movable": movable, "prev_day": day - step, "next_day": day + step,
        "today": timezone.localtime(timezone.now(), clinic.tz).date(),
        "query": urlencode(query), "base_query": base_query, "back_query": back_query, "patient_pk": patient_pk,
    }
    with timezone.override(clinic.tz):  # slot times in the page are the clinic's wall-clock times
        return render(request, "scheduling/grid.html", context)


def _may_move(user, appointment) -> bool:
    """Booked, and of a kind the user may book (the service checks again)."""
    return appointment.is_booked and (selectors.may_book_any_kind(user) or appointment.kind == AppointmentKind.FOLLOW_UP)


GRID_BACK_KEYS = ("clinic", "view", "by", "kind", "clinician", "room", "patient", "date")


def _grid_url(raw: str, **override) -> str:
    """The time grid's address from a posted query string, keeping only the grid's own parameters."""
    from django.http import QueryDict

    given = QueryDict(raw or "")
    params = {k: given.get(k) for k in GRID_BACK_KEYS if given.get(k) and len(given.get(k)) <= 40}
    params.update({k: v for k, v in override.items() if v is not None})
    return f"{reverse('scheduling:grid')}?{urlencode(params)}"


@require_POST
@role_required(*BOOKING_ROLES)
def grid_move(request, pk: int):
    """Move an appointment from the time grid (a slot dropped on, or a *Move here* button).

    ``starts_at`` (clinic's local time) and the target column's ``clinician`` or ``room``; a room
    left out is the one the grid would give this appointment there (its own room first). The
    scheduling service decides: a target that is not free is refused with its message and nothing
    changes. Either way the grid is shown again (``back``: its query string)."""
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    clinic = appointment.clinic
    form = RescheduleForm(request.POST, clinic=clinic,
                          clinicians=selectors.clinicians_of(user=request.user, clinic=clinic))
    with timezone.override(clinic.tz):
        valid = form.is_valid()
    back = request.POST.get("back", "")
    if not valid:
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, f"The appointment was not moved: {problems}")
        return redirect(_grid_url(back, clinic=clinic.pk, move=appointment.pk))
    d = form.cleaned_data
    clinician, room = d["clinician"] or appointment.clinician, d["room"]
    if room is None and appointment.kind != AppointmentKind.VIDEO_CONSULTATION:
        room = selectors.room_for_move(user=request.user, appointment=appointment, clinician=clinician,
                                       starts_at=d["starts_at"])
    try:
        moved = services.appointment_reschedule(actor=request.user, appointment=appointment,
                                                starts_at=d["starts_at"], room=room, clinician=clinician)
    except ActionError as exc:
        messages.error(request, f"The appointment was not moved: {exc.message}")
        return redirect(_grid_url(back, clinic=clinic.pk, move=appointment.pk))
    local = timezone.localtime(moved.starts_at, clinic.tz)
    where = f", {moved.room.name}" if moved.room else ""
    messages.success(request, f"Moved {moved.patient.first_name} {moved.patient.last_name}'s "
                              f"{moved.get_kind_display().lower()} to {local:%a %d/%m/%Y %H:%M} with {moved.clinician}{where}.")
    return redirect(_grid_url(back, clinic=clinic.pk, date=local.date().isoformat()))


@role_required(*BOOKING_ROLES)
def patient_search_json(request):
    """``?clinic=&q=``: up to 20 patients of that clinic matching ``q``, for the booking form's picker."""
    clinic = _pick_clinic(request)
    q = (request.GET.get("q") or "").strip()[:100]
    if clinic is None or len(q) < 2:
        return JsonResponse({"results": []})
    from anagen.patients.selectors import patient_search

    qs = patient_search(user=request.user, q=q).filter(clinic=clinic).order_by("last_name", "first_name")[:20]
    return JsonResponse({"results": [
        {"id": p.pk, "label": f"{p.last_name}, {p.first_name} ({p.patient_number})",
         "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None} for p in qs]})


def _patients_for(request, clinic):
    """Patients to choose from: a search when the patients app offers one, else the clinic's list."""
    q = (request.GET.get("q") or "").strip()
    qs = Patient.objects.filter(clinic=clinic)
    if q:
        try:
            from anagen.patients.selectors import patient_search
        except ImportError:
            patient_search = None
        if patient_search is not None:
            qs = patient_search(user=request.user, q=q).filter(clinic=clinic)
        else:
            qs = qs.filter(last_name__icontains=q) | qs.filter(patient_number__iexact=q)
    return qs.order_by("last_name", "first_name")[:500] if q else qs.order_by("last_name", "first_name")


@role_required(*BOOKING_ROLES)
def book(request):
    user = request.user
    clinic = _pick_clinic(request)
    if clinic is None:
        return render(request, "scheduling/no_clinic.html")
    kinds = None if selectors.may_book_any_kind(user) else [AppointmentKind.FOLLOW_UP]
    clinicians = selectors.clinicians_of(user=user, clinic=clinic)
    patients = Patient.objects.filter(clinic=clinic).order_by("last_name", "first_name")
    status = 200
    if request.method == "POST":
        form = BookingForm(request.POST, clinic=clinic, patients=patients, clinicians=clinicians, kinds=kinds)
        with timezone.override(clinic.tz):
            valid = form.is_valid()
        if valid:
            d = form.cleaned_data
            try:
                appointment = services.appointment_book(
                    actor=user, patient=d["patient"], clinician=d["clinician"], clinic=clinic, kind=d["kind"],
                    starts_at=d["starts_at"], room=d["room"], notes=d["notes"], duration_minutes=d["duration_minutes"])
            except ActionError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.status
            else:
                messages.success(request, "Appointment booked.")
                return redirect("scheduling:detail", pk=appointment.pk)
        else:
            status = 400
    else:
        initial = {"kind": kinds[0] if kinds else AppointmentKind.FREE_CONSULTATION}
        if request.GET.get("kind") in (kinds or AppointmentKind.values):
            initial["kind"] = request.GET["kind"]
        for name in ("patient", "clinician", "room"):
            if request.GET.get(name, "").isdigit():
                initial[name] = int(request.GET[name])
        if request.GET.get("starts_at"):
            initial["starts_at"] = request.GET["starts_at"]
        form = BookingForm(initial=initial, clinic=clinic, patients=_patients_for(request, clinic),
                           clinicians=clinicians, kinds=kinds)
    form.fields["patient"].widget.attrs.update({
        "data-picker-url": f"{reverse('scheduling:patient_search')}?clinic={clinic.pk}"})
    slot_kind = request.GET.get("kind") or request.POST.get("kind") or form.initial.get("kind")
    if slot_kind not in (kinds or AppointmentKind.values):
        slot_kind = (kinds or AppointmentKind.values)[0]
    patient_pk = _int_param(request, "patient")
    next_slots = [(cell, _book_url(clinic, cell, slot_kind, patient_pk))
                  for cell in selectors.next_free_slots(user=user, clinic=clinic, kind=slot_kind)]
    return render(request, "scheduling/book.html", {
        "form": form, "clinic": clinic, "q": request.GET.get("q", ""), "clinics": selectors.clinic_list(user=user),
        "next_slots": next_slots, "slot_kind": slot_kind,
        "slot_kinds": [(k, AppointmentKind(k).label) for k in (kinds or AppointmentKind.values)],
        "patient_pk": patient_pk}, status=status)


def _detail_context(request, appointment, **extra):
    user = request.user
    clinicians = selectors.clinicians_of(user=user, clinic=appointment.clinic)
    may_move = appointment.is_booked and (selectors.may_book_any_kind(user) or appointment.kind == AppointmentKind.FOLLOW_UP)
    local_start = timezone.localtime(appointment.starts_at, appointment.clinic.tz)
    context = {
        "a": appointment, "clinic": appointment.clinic,
        "history": record_history(appointment),
        "may_move": may_move,
        "may_close": appointment.is_booked and appointment.starts_at <= timezone.now(),
        "reschedule_form": RescheduleForm(initial={"starts_at": local_start.strftime("%Y-%m-%dT%H:%M")},
                                          clinic=appointment.clinic, clinicians=clinicians),
        "cancel_form": CancelForm(),
        "emails": appointment.emails.all(),
    }
    context.update(extra)
    return context


@role_required(*BOOKING_ROLES)
def detail(request, pk: int):
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    return render(request, "scheduling/detail.html", _detail_context(request, appointment))


@role_required(*BOOKING_ROLES)
def ics(request, pk: int):
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ics_filename(appointment)}"'
    return response


def _action(request, pk: int, run, success: str, **forms):
    """Run a service on the appointment; on bad input show the page again with the message."""
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    try:
        run(appointment)
    except ActionError as exc:
        return render(request, "scheduling/detail.html",
                      _detail_context(request, appointment, action_error=exc.message, **forms), status=exc.status)
    messages.success(request, success)
    return redirect("scheduling:detail", pk=pk)


@require_POST
@role_required(*BOOKING_ROLES)
def reschedule(request, pk: int):
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    form = RescheduleForm(request.POST, clinic=appointment.clinic,
                          clinicians=selectors.clinicians_of(user=request.user, clinic=appointment.clinic))
    with timezone.override(appointment.clinic.tz):
        valid = form.is_valid()
    if not valid:
        return render(request, "scheduling/detail.html",
                      _detail_context(request, appointment, reschedule_form=form), status=400)
    d = form.cleaned_data
    return _action(request, pk, lambda a: services.appointment_reschedule(
        actor=request.user, appointment=a, starts_at=d["starts_at"], room=d["room"], clinician=d["clinician"]),
        "Appointment moved.", reschedule_form=form)


@require_POST
@role_required(*BOOKING_ROLES)
def cancel(request, pk: int):
    reason = request.POST.get("reason", "")
    return _action(request, pk, lambda a: services.appointment_cancel(actor=request.user, appointment=a, reason=reason),
                   "Appointment cancelled.", cancel_form=CancelForm(request.POST))


@require_POST
@role_required(*BOOKING_ROLES)
def no_show(request, pk: int):
    return _action(request, pk, lambda a: services.appointment_mark_no_show(actor=request.user, appointment=a),
                   "Marked as a no-show.")


@require_POST
@role_required(*BOOKING_ROLES)
def complete(request, pk: int):
    return _action(request, pk, lambda a: services.appointment_complete(actor=request.user, appointment=a),
                   "Marked as completed.")


@role_required(*BOOKING_ROLES)
def availability(request):
    """Clinicians' weekly hours at a clinic; coordinators and admins add and remove them."""
    user = request.user
    clinic = _pick_clinic(request)
    if clinic is None:
        return render(request, "scheduling/no_clinic.html")
    clinicians = selectors.clinicians_of(user=user, clinic=clinic)
    may_edit = has_role(user, *FRONT_DESK_ROLES)
    form = AvailabilityForm(clinic=clinic, clinicians=clinicians, initial={"valid_from": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Only coordinators and admins set clinicians' hours.")
        if request.POST.get("remove"):
            row = selectors.availability_list(user=user, clinic=clinic).filter(pk=_int_param(request, "remove")).first()
            if row is None:
                raise Http404("No such hours at this clinic.")
            services.availability_remove(actor=user, availability=row)
            messages.success(request, "Hours removed.")
            return redirect(f"{reverse('scheduling:availability')}?clinic={clinic.pk}")
        form = AvailabilityForm(request.POST, clinic=clinic, clinicians=clinicians)
        if form.is_valid():
            try:
                services.availability_add(actor=user, clinic=clinic, **form.cleaned_data)
            except ActionError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.status
            else:
                messages.success(request, "Hours added.")
                return redirect(f"{reverse('scheduling:availability')}?clinic={clinic.pk}")
        else:
            status = 400
    return render(request, "scheduling/availability.html", {
        "clinic": clinic, "clinics": selectors.clinic_list(user=user), "form": form, "may_edit": may_edit,
        "rows": selectors.availability_list(user=user, clinic=clinic)}, status=status)


def patient_section(request, patient):
    """The patient page's appointments section (None when the user may not see appointments)."""
    user = request.user
    if not has_role(user, *BOOKING_ROLES) or not user.can_see_clinic(patient.clinic_id):
        return None
    appointments = selectors.appointment_list(user=user, patient=patient).order_by("-starts_at")[:50]
    upcoming = (selectors.appointment_list(user=user, patient=patient, status=AppointmentStatus.BOOKED)
                .filter(starts_at__gte=timezone.now()).first())
    next_text = ""
    if upcoming is not None:
        local = timezone.localtime(upcoming.starts_at, upcoming.clinic.tz)
        next_text = f"{local:%a %d/%m/%Y %H:%M}, {upcoming.get_kind_display().lower()} with {upcoming.clinician}"
    return {"template": "scheduling/_patient_section.html", "appointments": appointments,
            "title": "Appointments", "facts": [("Next appointment", next_text or "none booked")],
            "book_url": f"{reverse('scheduling:book')}?clinic={patient.clinic_id}&patient={patient.pk}",
            "booked_status": AppointmentStatus.BOOKED}
