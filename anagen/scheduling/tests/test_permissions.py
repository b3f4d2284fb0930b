"""Who sees which calendar: booking roles of the clinic only; 403 for other roles, 404 for other clinics."""

import pytest

PAGES = ["/calendar/", "/calendar/book/", "/calendar/availability/"]


@pytest.mark.parametrize("persona", ["evaluator", "lab_scientist", "statistician", "stranger"])
def test_other_roles_get_403_everywhere(login, request, persona, book):
    a = book("10:00")
    client = login(request.getfixturevalue(persona))
    for url in PAGES + [f"/calendar/appointments/{a.pk}/", f"/calendar/appointments/{a.pk}/ics"]:
        assert client.get(url).status_code == 403, url
    assert client.post(f"/calendar/appointments/{a.pk}/cancel", {"reason": "x"}).status_code == 403
    a.refresh_from_db()
    assert a.status == "booked"


@pytest.mark.parametrize("persona", ["admin_user", "coordinator", "clinician"])
def test_booking_roles_see_their_clinics_calendar(login, request, persona, book):
    a = book("10:00")
    client = login(request.getfixturevalue(persona))
    assert client.get("/calendar/").status_code == 200
    assert client.get(f"/calendar/appointments/{a.pk}/").status_code == 200


def test_another_clinics_appointment_is_404(login, coordinator_b, book):
    a = book("10:00")
    client = login(coordinator_b)
    for url in [f"/calendar/appointments/{a.pk}/", f"/calendar/appointments/{a.pk}/ics"]:
        assert client.get(url).status_code == 404
    assert client.post(f"/calendar/appointments/{a.pk}/cancel", {"reason": "x"}).status_code == 404
    a.refresh_from_db()
    assert a.status == "booked"


def test_another_clinics_calendar_is_404(login, coordinator_b, open_clinic):
    client = login(coordinator_b)
    assert client.get(f"/calendar/?clinic={open_clinic.pk}").status_code == 404
    assert client.get(f"/calendar/book/?clinic={open_clinic.pk}").status_code == 404
    assert client.get("/calendar/?clinic=abc").status_code == 404


def test_another_clinics_clinician_calendar_is_404(login, coordinator_b, clinician):
    assert login(coordinator_b).get(f"/calendar/clinicians/{clinician.pk}/").status_code == 404


def test_a_coordinator_sees_only_their_clinics_appointments(login, coordinator_b, clinic_b, book, day):
    book("10:00")
    body = login(coordinator_b).get(f"/calendar/?clinic={clinic_b.pk}&date={day:%Y-%m-%d}").content.decode()
    assert "Pat Patient" not in body and "Nothing booked" in body


def test_staff_without_a_clinic_get_a_clear_page(login, clinic):
    from anagen.accounts.services import staff_create

    lonely = staff_create(email="new@x.test", password=None, roles=["coordinator"], clinics=[])
    r = login(lonely).get("/calendar/")
    assert r.status_code == 200 and "do not work at any clinic" in r.content.decode()


def test_pages_need_a_login(client, db):
    r = client.get("/calendar/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
