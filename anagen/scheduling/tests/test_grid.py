"""The time grid, prefilled booking from a free slot, next free slots, moving by clicking a slot,
and the booking form's patient search."""

from datetime import time, timedelta

import pytest

from anagen.scheduling import rules, selectors
from anagen.scheduling.models import Appointment

from .conftest import at


def _cells(grid, column=0):
    return {tod: cells[column] for tod, cells in grid.rows}


def test_free_slots_leave_out_booked_times(coordinator, clinic, clinician, book, day, rooms):
    book("10:00")  # Consulting 1, 10:00-10:30
    grid = selectors.time_grid(user=coordinator, clinic=clinic, first_day=day)
    assert [c.clinician for c in grid.columns] == [clinician]
    cells = _cells(grid)
    assert cells[time(10, 0)].state == "appointment" and cells[time(10, 0)].appointment.patient.first_name == "Pat"
    assert cells[time(9, 30)].state == "free"  # 09:30-10:00 ends as the booking starts
    assert cells[time(10, 30)].state == "free"
    assert cells[time(9, 0)].room_id == rooms["Consulting 1"].pk  # an ordinary room before a procedure room


def test_outside_hours_is_off_and_too_short_is_busy(coordinator, clinic, day, make_patient):
    from anagen.accounts.services import staff_create
    from anagen.scheduling.models import ClinicianAvailability

    doc = staff_create(email="half@birmingham.test", password=None, roles=["clinician"], clinics=[clinic],
                       first_name="Hal", last_name="Half")
    ClinicianAvailability.objects.create(clinician=doc, clinic=clinic, weekday=day.weekday(), start_time=time(9, 0),
                                         end_time=time(10, 15), valid_from=day - timedelta(days=1))
    grid = selectors.time_grid(user=coordinator, clinic=clinic, first_day=day, clinician=doc)
    cells = _cells(grid)
    assert list(cells) == [time(9, 0), time(9, 30), time(10, 0)]
    assert cells[time(9, 30)].state == "free"
    assert cells[time(10, 0)].state == "busy"  # 10:00-10:30 runs past the end of the hours
    next_day = selectors.time_grid(user=coordinator, clinic=clinic, first_day=day + timedelta(days=1), clinician=doc)
    assert {c.state for _, row in next_day.rows for c in row} == {"off"}


def test_a_procedure_needs_a_free_procedure_room(coordinator, clinic, clinician, open_clinic, book, day, rooms):
    book("09:00", kind="procedure")  # Procedure 1 09:00-11:00 with the only clinician
    grid = selectors.time_grid(user=coordinator, clinic=clinic, first_day=day, kind="procedure", by="room")
    names = [c.room.name for c in grid.columns]
    proc = names.index("Procedure 1")
    cells = _cells(grid, proc)
    assert cells[time(9, 0)].state == "appointment" and cells[time(10, 0)].state == "busy"
    assert cells[time(11, 0)].state == "free" and cells[time(11, 0)].clinician == clinician
    consulting = _cells(grid, names.index("Consulting 1"))
    assert {c.state for c in consulting.values()} == {"off"}  # no procedures there


def test_the_grid_page_links_free_slots_to_a_prefilled_booking_form(login, coordinator, open_clinic, clinician, day, rooms):
    client = login(coordinator)
    r = client.get(f"/calendar/grid/?clinic={open_clinic.pk}&date={day:%Y-%m-%d}&kind=follow_up")
    assert r.status_code == 200
    body = r.content.decode()
    href = (f"/calendar/book/?clinic={open_clinic.pk}&amp;kind=follow_up&amp;clinician={clinician.pk}"
            f"&amp;starts_at={day:%Y-%m-%d}T09%3A00&amp;room={rooms['Consulting 1'].pk}")
    assert href in body
    form = client.get(href.replace("&amp;", "&")).content.decode()
    assert f'value="{day:%Y-%m-%d}T09:00"' in form
    assert f'<option value="{clinician.pk}" selected>' in form
    assert '<option value="follow_up" selected>' in form
    week = client.get(f"/calendar/grid/?clinic={open_clinic.pk}&date={day:%Y-%m-%d}&view=week&by=room")
    assert week.status_code == 200 and week.content.decode().count('scope="col"') == 8


def test_booking_a_slot_taken_meanwhile_is_refused_with_a_message(login, coordinator, open_clinic, clinician, patient,
                                                                  book, day, rooms):
    book("09:00")
    r = login(coordinator).post("/calendar/book/", {
        "clinic": open_clinic.pk, "patient": patient.pk, "clinician": clinician.pk, "kind": "free_consultation",
        "starts_at": f"{day:%Y-%m-%d}T09:00", "room": rooms["Consulting 1"].pk})
    assert r.status_code == 409
    assert "is already booked" in r.content.decode() and "choose another time" in r.content.decode()
    assert Appointment.objects.count() == 1


def test_the_booking_page_lists_the_next_free_slots_for_a_kind(login, coordinator, open_clinic, clinician):
    r = login(coordinator).get(f"/calendar/book/?clinic={open_clinic.pk}&kind=procedure")
    body = r.content.decode()
    assert "Next free slots" in body
    assert body.count('class="free-slot"') == 8 and "kind=procedure" in body


def test_moving_an_appointment_by_clicking_a_free_slot(login, coordinator, open_clinic, clinician, book, day):
    a = book("10:00")
    client = login(coordinator)
    r = client.get(f"/calendar/grid/?clinic={open_clinic.pk}&date={day:%Y-%m-%d}&move={a.pk}")
    assert "Move here" in r.content.decode()
    r = client.post(f"/calendar/appointments/{a.pk}/reschedule",
                    {"starts_at": f"{day:%Y-%m-%d}T14:00", "clinician": clinician.pk})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.starts_at == at(open_clinic, day, "14:00")
    assert f"/calendar/grid/?clinic={open_clinic.pk}" in client.get(f"/calendar/appointments/{a.pk}/").content.decode()


def test_other_clinic_is_404_and_other_roles_403(login, coordinator_b, coordinator, open_clinic, clinic_b, book, day,
                                                 request):
    client = login(coordinator_b)
    assert client.get(f"/calendar/grid/?clinic={open_clinic.pk}").status_code == 404
    assert client.get(f"/calendar/patients.json?clinic={open_clinic.pk}&q=pat").status_code == 404
    a = book("10:00")
    assert client.get(f"/calendar/grid/?clinic={clinic_b.pk}&move={a.pk}").status_code == 404
    assert login(coordinator).get(f"/calendar/grid/?clinic={open_clinic.pk}&clinician=999999").status_code == 404
    for persona in ("evaluator", "lab_scientist", "statistician"):
        c = login(request.getfixturevalue(persona))
        assert c.get(f"/calendar/grid/?clinic={open_clinic.pk}").status_code == 403
        assert c.get(f"/calendar/patients.json?clinic={open_clinic.pk}&q=pat").status_code == 403


def test_patient_search_answers_only_the_clinics_patients(login, coordinator, clinic, clinic_b, make_patient, admin_user):
    from anagen.patients.services import _refresh_search_text

    mine = make_patient(clinic, first_name="Petra", last_name="Patel")
    theirs = make_patient(clinic_b, first_name="Petra", last_name="Pateman")
    for p in (mine, theirs):
        _refresh_search_text(p)
        p.save()
    r = login(coordinator).get(f"/calendar/patients.json?clinic={clinic.pk}&q=petra")
    assert r.status_code == 200
    assert r.json() == {"results": [{"id": mine.pk, "label": f"Patel, Petra ({mine.patient_number})",
                                     "date_of_birth": None}]}
    assert login(coordinator).get(f"/calendar/patients.json?clinic={clinic.pk}&q=p").json() == {"results": []}
    assert login(coordinator).get(f"/calendar/patients.json?clinic=abc&q=petra").status_code == 404


def test_slot_state_rules():
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/London")
    day = date(2030, 1, 7)
    w = rules.Window(day.weekday(), time(9), time(12), date(2030, 1, 1), None, None)
    start = datetime.combine(day, time(9), tzinfo=tz)
    half = timedelta(minutes=30)
    assert rules.slot_state(start, half, tz=tz, windows=[w], clinician_busy=[], room_busy={}, rooms=[1, 2],
                            needs_room=True) == ("free", 1)
    assert rules.slot_state(start, half, tz=tz, windows=[w], clinician_busy=[], room_busy={1: [(start, start + half)]},
                            rooms=[1, 2], needs_room=True) == ("free", 2)
    assert rules.slot_state(start, half, tz=tz, windows=[w], clinician_busy=[(start, start + half)], room_busy={},
                            rooms=[1], needs_room=True) == ("busy", None)
    assert rules.slot_state(start, half, tz=tz, windows=[w], clinician_busy=[], room_busy={}, rooms=[],
                            needs_room=False) == ("free", None)
    assert rules.slot_state(start - 2 * half, half, tz=tz, windows=[w], clinician_busy=[], room_busy={}, rooms=[1],
                            needs_room=True) == ("off", None)
    assert rules.slot_state(start, half, tz=tz, windows=[w], clinician_busy=[], room_busy={}, rooms=[1],
                            needs_room=True, not_before=start + half) == ("busy", None)


def test_the_grid_reads_a_fixed_number_of_queries(login, coordinator, open_clinic, book, day, make_patient,
                                                  django_assert_max_num_queries):
    client = login(coordinator)
    url = f"/calendar/grid/?clinic={open_clinic.pk}&date={day:%Y-%m-%d}"
    client.get(url)
    for hhmm in ("09:00", "11:00", "13:00", "15:00"):
        book(hhmm, patient=make_patient(open_clinic, first_name=f"P{hhmm[:2]}"))
    with django_assert_max_num_queries(20):
        body = client.get(url).content.decode()
    assert body.count('class="slot appointment"') == 4


def test_a_clinician_sees_free_slots_for_follow_ups_only(login, clinician, open_clinic, day):
    body = login(clinician).get(f"/calendar/grid/?clinic={open_clinic.pk}&date={day:%Y-%m-%d}&kind=procedure").content.decode()
    assert "30-minute follow-up assessment" in body and "kind=procedure" not in body
    assert '<option value="procedure"' not in body


def test_next_free_slots_look_ahead_past_days_off(coordinator, clinic, clinician, day, django_assert_max_num_queries):
    from anagen.scheduling.models import ClinicianAvailability

    ClinicianAvailability.objects.create(clinician=clinician, clinic=clinic, weekday=day.weekday(), start_time=time(9, 0),
                                         end_time=time(10, 0), valid_from=day - timedelta(days=30))
    with django_assert_max_num_queries(10):
        slots = selectors.next_free_slots(user=coordinator, clinic=clinic, kind="free_consultation",
                                          from_day=day - timedelta(days=6), limit=3)
    # Only Mondays 09:00-10:00 are worked: six days off, then Monday, then the Monday after.
    assert [(c.start.date(), c.start.time()) for c in slots] == [(day, time(9, 0)), (day, time(9, 30)),
                                                                  (day + timedelta(days=7), time(9, 0))]


# --- moving from the grid -------------------------------------------------------------------------

def _move(client, a, starts_at, **extra):
    data = {"starts_at": starts_at, "back": f"clinic={a.clinic_id}&view=day&by=clinician&evil=https://x.test", **extra}
    return client.post(f"/calendar/appointments/{a.pk}/move", data)


def test_each_appointment_in_the_grid_has_a_move_link_and_a_drag_handle(login, coordinator, open_clinic, book, day):
    a = book("10:00")
    body = login(coordinator).get(f"/calendar/grid/?clinic={open_clinic.pk}&date={day:%Y-%m-%d}").content.decode()
    assert f'data-move-url="/calendar/appointments/{a.pk}/move"' in body and 'draggable="true"' in body
    assert f"&amp;move={a.pk}" in body and ">Move</a>" in body
    assert 'id="grid-move-form"' in body and "scheduling/grid_move.js" in body
    # Every other cell is a drop target that names its time and column.
    assert f'data-start="{day:%Y-%m-%d}T10:30"' in body


def test_the_move_mode_counts_the_appointments_own_time_as_free(login, coordinator, open_clinic, clinician, book, day):
    a = book("10:00", duration_minutes=60)  # 10:00-11:00
    grid = selectors.time_grid(user=coordinator, clinic=open_clinic, first_day=day, moving=a)
    cells = _cells(grid)
    assert grid.duration_minutes == 60
    assert cells[time(10, 0)].state == "appointment"
    assert cells[time(10, 30)].state == "free"  # 10:30-11:30 overlaps only itself
    assert cells[time(9, 30)].state == "free"
    plain = _cells(selectors.time_grid(user=coordinator, clinic=open_clinic, first_day=day))
    assert plain[time(10, 30)].state == "busy"
    body = login(coordinator).get(f"/calendar/grid/?clinic={open_clinic.pk}&date={day:%Y-%m-%d}&move={a.pk}").content.decode()
    assert 'aria-current="true"' in body and "stop moving" in body and "draggable" not in body


def test_moving_by_drop_goes_through_the_service_and_is_audited(login, coordinator, open_clinic, clinician, book, day,
                                                                rooms):
    from anagen.audit.selectors import record_history

    a = book("10:00")
    r = _move(login(coordinator), a, f"{day:%Y-%m-%d}T14:30", clinician=clinician.pk)
    assert r.status_code == 302
    assert r["Location"] == f"/calendar/grid/?clinic={open_clinic.pk}&view=day&by=clinician&date={day:%Y-%m-%d}"
    a.refresh_from_db()
    assert a.starts_at == at(open_clinic, day, "14:30") and a.room == rooms["Consulting 1"]
    latest = record_history(a)[0]
    assert latest.action == "updated" and latest.actor == str(coordinator)
    assert a.emails.filter(subject__contains="has moved").exists()
    page = login(coordinator).get(r["Location"]).content.decode()
    assert "Moved Pat Patient&#x27;s free consultation to" in page and "14:30" in page


def test_a_drop_on_a_slot_that_is_not_free_says_why_and_changes_nothing(login, coordinator, open_clinic, clinician,
                                                                       book, make_patient, day):
    a = book("10:00")
    book("14:00", patient=make_patient(open_clinic, first_name="Other"))
    client = login(coordinator)
    before = (a.starts_at, a.ends_at, a.room_id, a.sequence)
    r = _move(client, a, f"{day:%Y-%m-%d}T14:00", clinician=clinician.pk)
    assert r.status_code == 302 and f"move={a.pk}" in r["Location"]
    page = client.get(r["Location"]).content.decode()
    assert "The appointment was not moved" in page and "is already booked" in page and "choose another time" in page
    r = _move(client, a, f"{day:%Y-%m-%d}T19:00", clinician=clinician.pk)  # outside the hours
    assert "is not available" in client.get(r["Location"]).content.decode()
    r = _move(client, a, "tomorrow at ten", clinician=clinician.pk)
    assert "YYYY-MM-DD HH:MM" in client.get(r["Location"]).content.decode()
    a.refresh_from_db()
    assert (a.starts_at, a.ends_at, a.room_id, a.sequence) == before
    assert not a.emails.filter(subject__contains="has moved").exists()


def test_a_drop_on_a_room_column_keeps_the_clinician(login, coordinator, open_clinic, clinician, book, day, rooms):
    a = book("10:00")
    r = _move(login(coordinator), a, f"{day:%Y-%m-%d}T11:00", room=rooms["Procedure 1"].pk, clinician=clinician.pk)
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.room == rooms["Procedure 1"] and a.clinician == clinician


def test_moving_from_the_grid_keeps_role_and_clinic_rules(login, clinician, coordinator_b, open_clinic, book, day):
    a = book("10:00")  # a free consultation: clinicians move follow-ups only
    r = _move(login(clinician), a, f"{day:%Y-%m-%d}T12:00")
    assert "Clinicians may move follow-up assessments only" in login(clinician).get(r["Location"]).content.decode()
    assert _move(login(coordinator_b), a, f"{day:%Y-%m-%d}T12:00").status_code == 404
    a.refresh_from_db()
    assert a.starts_at == at(open_clinic, day, "10:00")
    body = login(clinician).get(f"/calendar/grid/?clinic={open_clinic.pk}&date={day:%Y-%m-%d}").content.decode()
    assert "draggable" not in body and f"move={a.pk}" not in body


def test_move_mode_in_the_rooms_view_offers_only_the_appointments_clinician(login, coordinator, open_clinic, clinician,
                                                                           book, day, rooms):
    from anagen.accounts.services import staff_create

    other = staff_create(email="other@birmingham.test", password=None, roles=["clinician"], clinics=[open_clinic],
                         first_name="Otto", last_name="Osei")
    from anagen.scheduling.models import ClinicianAvailability

    ClinicianAvailability.objects.create(clinician=other, clinic=open_clinic, weekday=day.weekday(), start_time=time(8),
                                         end_time=time(18), valid_from=day - timedelta(days=1))
    a = book("10:00")
    client = login(coordinator)
    body = client.get(f"/calendar/grid/?clinic={open_clinic.pk}&date={day:%Y-%m-%d}&by=room&move={a.pk}").content.decode()
    assert f"with {clinician}" in body and "with Otto Osei" not in body
    week = client.get(f"/calendar/grid/?clinic={open_clinic.pk}&date={day:%Y-%m-%d}&view=week&by=room&move={a.pk}")
    assert week.status_code == 200 and "Move here" in week.content.decode()
