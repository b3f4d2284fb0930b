"""Bad input, as a new user or a careless integration sends it: every answer is a 4xx with a
message a person can act on, never a 500, and nothing is half-written.

The API part walks every write route of the OpenAPI document, so a route added later is covered
without editing this file.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

WRONG_BODIES = {
    "empty object": "{}",
    "a list": "[]",
    "a string": '"hello"',
    "not JSON": "name=Ann&x=1",
    "wrong types": '{"patient_id": "abc", "clinic_id": [1], "starts_at": 5, "first_name": {"a": 1}, '
                   '"date_of_birth": "31/02/2020", "modalities": "prp", "answers": [1, 2], "kind": 7, '
                   '"visit_date": "yesterday", "hair_count": "many", "quantity": "lots", "sessions": -3}',
    "5,000 characters": '{"first_name": "%s", "last_name": "%s", "concern": "%s", "reason": "%s", "notes": "%s"}'
                        % (("x" * 5000,) * 5),
}


def _write_routes():
    from anagen.api.urls import api

    schema = api.get_openapi_schema()
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if method in ("post", "put", "patch"):
                kinds = sorted((op.get("requestBody") or {}).get("content", {}))
                yield method, path, kinds


WRITE_ROUTES = [pytest.param(m, p, k, id=f"{m.upper()} {p}") for m, p, k in _write_routes()]


def _no_client_raise(token_header: str) -> Client:
    return Client(HTTP_AUTHORIZATION=token_header, raise_request_exception=False)


@pytest.fixture
def admin_api(admin_user):
    from anagen.accounts.services import token_create

    _, raw = token_create(email=admin_user.email)
    return _no_client_raise(f"Bearer {raw}")


@pytest.fixture
def patient(clinic, coordinator):
    from anagen.patients.services import patient_register

    return patient_register(actor=coordinator, clinic=clinic, first_name="Ann", last_name="Example",
                            date_of_birth=date(1980, 1, 2), phone="07700 900111")


@pytest.fixture
def patient_b(clinic_b, coordinator_b):
    from anagen.patients.services import patient_register

    return patient_register(actor=coordinator_b, clinic=clinic_b, first_name="Bo", last_name="Other")


def _fill(path: str, value) -> str:
    return re.sub(r"\{[a-z_]+\}", str(value), path)


def _assert_refused_with_message(resp, what: str):
    assert resp.status_code < 500, f"{what}: {resp.status_code} {resp.content[:300]!r}"
    assert 400 <= resp.status_code < 500, f"{what}: {resp.status_code}"
    if resp.get("Content-Type", "").startswith("application/json"):
        body = resp.json()
        assert body.get("detail"), f"{what}: no message in {body!r}"


def _counts():
    from django.apps import apps

    return {m._meta.label: m.objects.count() for m in apps.get_models()
            if m._meta.app_label in ("patients", "scheduling", "intake", "screening", "treatments", "assessments")}


@pytest.mark.parametrize("method,path,kinds", WRITE_ROUTES)
@pytest.mark.parametrize("body", list(WRONG_BODIES), ids=list(WRONG_BODIES))
def test_every_api_write_route_refuses_wrong_bodies_with_a_message(admin_api, patient, method, path, kinds, body):
    url = _fill(path, patient.pk if "{patient_id}" in path else 999999)
    if "{code}" in path:
        url = _fill(path, "no-such-treatment")
    before = _counts()
    data = WRONG_BODIES[body]
    if "multipart/form-data" in kinds:
        resp = getattr(admin_api, method)(url, data={"note": data[:100]})
    else:
        resp = getattr(admin_api, method)(url, data=data, content_type="application/json")
    if method == "patch" and body in ("empty object", "a list", "a string") and resp.status_code == 200:
        # Nothing to change is not an error for a partial update (a list or a string reads as nothing).
        patient.refresh_from_db()
        assert patient.first_name == "Ann"
    else:
        _assert_refused_with_message(resp, f"{method.upper()} {url} with {body}")
    assert _counts() == before, f"{method.upper()} {url} with {body} wrote something"


@pytest.mark.parametrize("method,path,kinds", [p for p in WRITE_ROUTES if re.search(r"\{\w+_id\}", p.values[1])])
def test_unknown_ids_are_404_not_500(admin_api, method, path, kinds):
    resp = getattr(admin_api, method)(_fill(path, 999999), data="{}", content_type="application/json")
    _assert_refused_with_message(resp, f"{method.upper()} {path}")


GET_ROUTES = [
    "/api/v1/patients/999999", "/api/v1/appointments/999999", "/api/v1/inquiries/999999",
    "/api/v1/treatments/plans/999999", "/api/v1/treatments/procedures/999999", "/api/v1/treatments/lots/999999",
    "/api/v1/assessments/visits/999999", "/api/v1/assessments/images/999999",
    "/api/v1/appointments?clinic_id=abc", "/api/v1/appointments?date_from=not-a-date",
    "/api/v1/patients?q=" + "x" * 5000,
]


@pytest.mark.parametrize("url", GET_ROUTES)
def test_api_reads_with_unknown_ids_or_bad_filters_are_4xx(admin_api, url):
    resp = admin_api.get(url)
    assert resp.status_code < 500, f"{url}: {resp.status_code} {resp.content[:300]!r}"
    if resp.status_code >= 400:
        _assert_refused_with_message(resp, url)


def test_other_clinics_patient_is_404_through_the_api(api_client, coordinator, patient_b):
    client = api_client(coordinator)
    assert client.get(f"/api/v1/patients/{patient_b.pk}").status_code == 404
    resp = client.post(f"/api/v1/patients/{patient_b.pk}/stagings",
                       data={"scale": "norwood", "stage": "II", "assessed_on": "2025-01-01"},
                       content_type="application/json")
    assert resp.status_code == 404
    assert not patient_b.stagings.exists()


def test_a_duplicate_patient_is_refused_with_the_existing_record_named(api_client, coordinator, patient, clinic):
    from anagen.patients.models import Patient

    resp = api_client(coordinator).post("/api/v1/patients", data={
        "clinic_id": clinic.pk, "first_name": "Ann", "last_name": "Example", "date_of_birth": "1980-01-02"},
        content_type="application/json")
    assert resp.status_code in (400, 409)
    assert patient.patient_number in resp.json()["detail"]
    assert Patient.objects.filter(last_name="Example").count() == 1


# --- pages ---------------------------------------------------------------------------------------

def _page_forms(patient):
    p = patient.pk
    return [
        "/ask/", "/consultation/",
        # (Medical and hair-loss history are left out: every field is optional, so an empty post is a valid save.)
        "/patients/new/", f"/patients/{p}/edit/", f"/patients/{p}/staging/new/",
        f"/patients/{p}/prior-treatments/new/", f"/patients/{p}/consents/new/",
        f"/screening/patients/{p}/new", "/calendar/book/", "/calendar/availability/",
        f"/treatments/plans/new/{p}/", f"/treatments/procedures/new/{p}/", f"/treatments/adverse-events/new/{p}/",
        f"/treatments/samples/new/{p}/", "/treatments/lots/", f"/assessments/patients/{p}/visits/",
    ]


PAGE_BODIES = {
    "empty": {},
    "past date, spaced phone, 5,000 characters": {
        "first_name": "x" * 5000, "last_name": "Example", "phone": "0121 496 0000", "email": "not-an-email",
        "date_of_birth": "1800-01-01", "assessed_on": "1900-01-01", "visit_date": "1999-12-31",
        "starts_at": "2001-01-01T10:00", "start_on": "2001-01-01", "performed_on": "3000-01-01",
        "onset_on": "2001-01-01", "concern": "x" * 5000, "notes": "x" * 5000, "scale": "norwood", "stage": "IX",
        "kind": "nonsense", "weekday": "9", "start_time": "25:00", "end_time": "xx", "valid_from": "yesterday",
        "sessions": "-1", "interval_days": "abc", "quantity": "lots", "lot_number": "x" * 5000,
        "expires_on": "2001-01-01", "modality": "999999", "modalities": ["999999"], "plan": "abc",
        "patient": "999999", "clinician": "999999", "clinic": "999999", "room": "999999",
    },
}


@pytest.mark.parametrize("body", list(PAGE_BODIES), ids=list(PAGE_BODIES))
def test_every_form_page_answers_bad_posts_with_the_form_again(admin_user, clinician, patient, body):
    client = Client(raise_request_exception=False)
    before = _counts()
    for user in (admin_user, clinician):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        for url in _page_forms(patient):
            resp = client.post(url, data=PAGE_BODIES[body])
            assert resp.status_code < 500, f"{user.email} POST {url}: {resp.status_code}"
            # The form again with its errors (some pages answer 200 rather than 400), never a redirect.
            assert resp.status_code in (200, 400, 403, 404, 429), f"{user.email} POST {url}: {resp.status_code}"
    assert _counts() == before


def test_a_wrong_file_type_is_refused_on_the_visit_page(clinician, patient):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from anagen.assessments.models import TrichogramImage
    from anagen.assessments.services import visit_create

    visit = visit_create(actor=clinician, patient=patient, visit_date=timezone.localdate() - timedelta(days=1))
    client = Client(raise_request_exception=False)
    client.force_login(clinician, backend="django.contrib.auth.backends.ModelBackend")
    for name, data, ctype in [("notes.txt", b"hello", "text/plain"), ("fake.png", b"%PDF-1.4 not an image", "image/png"),
                              ("empty.png", b"", "image/png")]:
        resp = client.post(f"/assessments/visits/{visit.pk}/images",
                           {"file": SimpleUploadedFile(name, data, content_type=ctype), "kind": "target"})
        assert resp.status_code == 400, f"{name}: {resp.status_code}"
    assert not TrichogramImage.objects.exists()


def test_an_in_person_conversion_can_name_the_room_when_the_hours_do_not(login, coordinator, clinician, clinic,
                                                                         admin_user):
    """Found by the front-desk browser journey: the convert form had no room to choose."""
    from datetime import time

    from anagen.accounts.models import Room
    from anagen.intake.models import Inquiry
    from anagen.scheduling.models import Appointment
    from anagen.scheduling.services import availability_add

    today = timezone.localtime(timezone.now(), clinic.tz).date()
    monday = today + timedelta(days=7 - today.weekday())
    availability_add(actor=admin_user, clinician=clinician, clinic=clinic, weekday=0, start_time=time(9),
                     end_time=time(17), valid_from=today)
    inquiry = Inquiry.objects.create(kind="consultation", name="Rui Costa", email="rui@example.test",
                                     concern="Thinning", preferred_clinic=clinic)
    room = Room.objects.get(clinic=clinic, name="Consulting 1")
    data = {"first_name": "Rui", "last_name": "Costa", "clinic": clinic.pk, "clinician": clinician.pk,
            "starts_at": f"{monday.isoformat()}T10:00", "mode": "in_person"}
    client = login(coordinator)
    resp = client.post(f"/inbox/{inquiry.pk}/convert/", data)
    assert resp.status_code == 400 and "Choose a room at Birmingham" in resp.content.decode()
    assert not Appointment.objects.exists()
    resp = client.post(f"/inbox/{inquiry.pk}/convert/", {**data, "room": room.pk})
    assert resp.status_code == 302
    assert Appointment.objects.get().room == room
