"""/api/v1/appointments through the same services."""

from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from anagen.scheduling.models import Appointment

from .conftest import at

URL = "/api/v1/appointments"


def _body(clinic, patient, clinician, day, hhmm="10:00", **kw):
    body = {"clinic_id": clinic.pk, "patient_id": patient.pk, "clinician_id": clinician.pk,
            "kind": "free_consultation", "starts_at": f"{day:%Y-%m-%d}T{hhmm}:00",
            "room_id": clinic.rooms.get(name="Consulting 1").pk}
    body.update(kw)
    return body


def test_create_get_and_list(api_client, coordinator, open_clinic, patient, clinician, day):
    api = api_client(coordinator)
    r = api.post(URL, _body(open_clinic, patient, clinician, day), content_type="application/json")
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["starts_at_local"] == f"{day:%Y-%m-%d}T10:00" and data["clinic_timezone"] == "Europe/London"
    assert api.get(f"{URL}/{data['id']}").json()["id"] == data["id"]
    listed = api.get(URL, {"clinic": open_clinic.pk, "clinician": clinician.pk, "patient": patient.pk,
                           "from": at(open_clinic, day, "00:00").isoformat(),
                           "to": at(open_clinic, day, "23:59").isoformat()}).json()
    assert [a["id"] for a in listed] == [data["id"]]
    assert api.get(URL, {"from": at(open_clinic, day, "11:00").isoformat()}).json() == []


def test_create_with_empty_fields_is_400(api_client, coordinator, open_clinic):
    r = api_client(coordinator).post(URL, {"clinic_id": open_clinic.pk}, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "required" and "patient" in r.json()["detail"]
    r = api_client(coordinator).post(URL, {}, content_type="application/json")
    assert r.status_code == 400


def test_create_with_garbage_is_400_not_500(api_client, coordinator, open_clinic):
    r = api_client(coordinator).post(URL, {"clinic_id": "x", "starts_at": "tomorrow"}, content_type="application/json")
    assert r.status_code == 400


def test_a_double_booking_is_409_naming_the_clash(api_client, coordinator, open_clinic, patient, clinician, day,
                                                  make_patient):
    api = api_client(coordinator)
    assert api.post(URL, _body(open_clinic, patient, clinician, day), content_type="application/json").status_code == 201
    r = api.post(URL, _body(open_clinic, make_patient(open_clinic), clinician, day, "10:29"),
                 content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "conflict" and "10:00–10:30" in r.json()["detail"]
    assert Appointment.objects.count() == 1


def test_a_room_of_another_clinic_is_400(api_client, coordinator, open_clinic, patient, clinician, day, clinic_b):
    r = api_client(coordinator).post(URL, _body(open_clinic, patient, clinician, day, room_id=clinic_b.rooms.get().pk),
                                     content_type="application/json")
    assert r.status_code == 400 and "Solihull" in r.json()["detail"]


def test_unknown_ids_are_clear(api_client, coordinator, open_clinic, patient, clinician, day):
    api = api_client(coordinator)
    assert api.post(URL, _body(open_clinic, patient, clinician, day, room_id=999999),
                    content_type="application/json").json()["detail"].startswith("No room has id")
    assert api.post(URL, _body(open_clinic, patient, clinician, day, patient_id=999999),
                    content_type="application/json").status_code == 404


def test_reschedule_cancel_and_ics(api_client, coordinator, book, open_clinic, day):
    a = book("10:00")
    api = api_client(coordinator)
    r = api.post(f"{URL}/{a.pk}/reschedule", {"starts_at": at(open_clinic, day, "12:00").isoformat()},
                 content_type="application/json")
    assert r.status_code == 200 and r.json()["starts_at_local"].endswith("T12:00")
    r = api.get(f"{URL}/{a.pk}/ics")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
    assert Calendar.from_ical(r.content).walk("VEVENT")[0].decoded("DTSTART") == at(open_clinic, day, "12:00")
    assert api.post(f"{URL}/{a.pk}/cancel", {"reason": ""}, content_type="application/json").status_code == 400
    r = api.post(f"{URL}/{a.pk}/cancel", {"reason": "ill"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


def test_no_show_and_complete(api_client, coordinator, book):
    a, b = book("10:00"), book("11:00")
    api = api_client(coordinator)
    assert api.post(f"{URL}/{a.pk}/no-show").status_code == 400  # not started yet
    Appointment.objects.filter(pk__in=[a.pk, b.pk]).update(starts_at=timezone.now() - timedelta(hours=2),
                                                          ends_at=timezone.now() - timedelta(hours=1))
    assert api.post(f"{URL}/{a.pk}/no-show").json()["status"] == "no_show"
    assert api.post(f"{URL}/{b.pk}/complete").json()["status"] == "completed"


def test_availability_and_free_slots(api_client, coordinator, book, open_clinic, clinician, day):
    book("10:00")
    api = api_client(coordinator)
    rows = api.get(f"{URL}/availability", {"clinician": clinician.pk, "clinic": open_clinic.pk}).json()
    assert len(rows) == 7 and rows[0]["start_time"] == "08:00:00"
    slots = api.get(f"{URL}/free-slots", {"clinician": clinician.pk, "clinic": open_clinic.pk,
                                          "day": f"{day:%Y-%m-%d}", "step_minutes": 30}).json()
    starts = [s["starts_at_local"][-5:] for s in slots]
    assert starts[:4] == ["08:00", "08:30", "09:00", "09:30"] and "10:00" not in starts and "10:30" in starts
    assert starts[-1] == "17:30"
    r = api.get(f"{URL}/free-slots", {"clinician": clinician.pk, "clinic": open_clinic.pk, "day": f"{day:%Y-%m-%d}",
                                      "kind": "nap"})
    assert r.status_code == 400


@pytest.mark.parametrize("persona", ["evaluator", "lab_scientist", "statistician", "stranger"])
def test_other_roles_get_403(api_client, request, persona, book):
    a = book("10:00")
    api = api_client(request.getfixturevalue(persona))
    assert api.get(URL).status_code == 403
    assert api.get(f"{URL}/{a.pk}").status_code == 403
    assert api.post(f"{URL}/{a.pk}/cancel", {"reason": "x"}, content_type="application/json").status_code == 403


def test_another_clinics_appointment_is_404(api_client, coordinator_b, book, open_clinic):
    a = book("10:00")
    api = api_client(coordinator_b)
    assert api.get(f"{URL}/{a.pk}").status_code == 404
    assert api.get(f"{URL}/{a.pk}/ics").status_code == 404
    assert api.post(f"{URL}/{a.pk}/cancel", {"reason": "x"}, content_type="application/json").status_code == 404
    assert api.get(URL).json() == []
    assert api.get(URL, {"clinic": open_clinic.pk}).json() == []


def test_a_clinician_booking_a_procedure_is_403(api_client, clinician, open_clinic, patient, day):
    r = api_client(clinician).post(URL, _body(open_clinic, patient, clinician, day, kind="procedure",
                                              room_id=open_clinic.rooms.get(name="Procedure 1").pk),
                                   content_type="application/json")
    assert r.status_code == 403 and "follow-up" in r.json()["detail"]


def test_no_token_is_401(client, db):
    assert client.get(URL).status_code == 401
