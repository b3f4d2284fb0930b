"""The three inputs an attacker test turned into 500s are answered 4xx, and every integer
parameter the API takes has a maximum (so a new route cannot bring the overflow back)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.fixture
def admin_api(admin_user):
    from anagen.accounts.services import token_create

    _, raw = token_create(email=admin_user.email)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", raise_request_exception=False)


@pytest.mark.parametrize("url", [
    f"/api/v1/inquiries?offset={HUGE}",
    f"/api/v1/inquiries?limit={HUGE}",
    f"/api/v1/appointments?clinic={HUGE}",
    f"/api/v1/appointments?patient=-{HUGE}",
    f"/api/v1/appointments/availability?clinic={HUGE}",
    f"/api/v1/patients?offset={HUGE}",
    f"/api/v1/patients/{HUGE}",
    f"/api/v1/outcomes/table?clinic={HUGE}",
    f"/api/v1/treatments/plans?patient_id={HUGE}",
])
def test_an_overflowing_number_is_a_400_naming_the_parameter(admin_api, url):
    response = admin_api.get(url)
    assert response.status_code in (400, 404), response.content
    if response.status_code == 400:
        assert response.json()["code"] == "invalid"
        assert response.json()["errors"][0]["message"]


def test_a_multipart_upload_without_boundary_is_a_400(admin_api):
    response = admin_api.post("/api/v1/assessments/visits/1/photos", data=b"--x\r\n\r\nabc",
                              content_type="multipart/form-data")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "bad_multipart"
    assert "boundary" in response.json()["detail"]


def test_every_integer_parameter_has_bounds():
    from anagen.api.urls import api

    schema = api.get_openapi_schema()
    unbounded = []

    def walk(where, node):
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            walk(where, schema["components"]["schemas"][name])
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key, []):
                walk(where, sub)
        if node.get("type") == "integer" and "maximum" not in node:
            unbounded.append(where)
        for name, prop in (node.get("properties") or {}).items():
            walk(f"{where}.{name}", prop)

    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            for param in op.get("parameters", []):
                walk(f"{method.upper()} {path} ?{param['name']}", param.get("schema", {}))
            form = (op.get("requestBody") or {}).get("content", {}).get("multipart/form-data", {})
            for name, prop in (form.get("schema", {}).get("properties") or {}).items():
                walk(f"{method.upper()} {path} form {name}", prop)
    assert not unbounded, ("integer parameters without a maximum: use anagen.api.params (Id, Offset, Limit, "
                           "Count, Minutes):\n" + "\n".join(unbounded))


def test_an_impossible_time_zone_offset_is_a_400(admin_api):
    # Found by the fuzz test on PostgreSQL: "-20:42" reached the database and answered 500.
    response = admin_api.get("/api/v1/appointments", {"from": "0006-12-03T08:51:58-20:42"})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
