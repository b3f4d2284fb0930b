"""Patient API: same rules as the pages."""

import pytest

from anagen.patients.models import Patient

from .factories import make_patient


@pytest.fixture
def patient(coordinator, clinic):
    return make_patient(coordinator, clinic)


def test_no_token_is_401(client, patient):
    assert client.get("/api/v1/patients").status_code == 401


@pytest.mark.parametrize("persona", ["evaluator", "lab_scientist", "statistician", "stranger"])
def test_roles_without_patient_access_get_403(request, api_client, patient, persona):
    c = api_client(request.getfixturevalue(persona))
    assert c.get("/api/v1/patients").status_code == 403
    assert c.get(f"/api/v1/patients/{patient.pk}").status_code == 403


def test_another_clinics_patient_is_404(api_client, coordinator_b, patient):
    assert api_client(coordinator_b).get(f"/api/v1/patients/{patient.pk}").status_code == 404


def test_search(api_client, coordinator, patient):
    r = api_client(coordinator).get("/api/v1/patients", {"q": "07700 900123"})
    assert r.status_code == 200 and r.json()["count"] == 1
    assert r.json()["results"][0]["patient_number"] == patient.patient_number


def test_register_and_duplicate_409(api_client, coordinator, clinic):
    c = api_client(coordinator)
    body = {"clinic_id": clinic.pk, "first_name": "Ann", "last_name": "Lee", "date_of_birth": "1990-03-02",
            "phone": "+44 7700 900 555"}
    r = c.post("/api/v1/patients", body, content_type="application/json")
    assert r.status_code == 201 and r.json()["phone"] == "+447700900555"
    r = c.post("/api/v1/patients", body, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "duplicate"
    assert r.json()["existing_patient_number"] == "AN-000001"
    r = c.post("/api/v1/patients", {**body, "allow_duplicate": True}, content_type="application/json")
    assert r.status_code == 201


@pytest.mark.parametrize("body, field", [
    ({"first_name": "", "last_name": "Lee"}, "first_name"),
    ({"first_name": "A", "last_name": "Lee", "date_of_birth": "2999-01-01"}, "date_of_birth"),
    ({"first_name": "A", "last_name": "Lee", "phone": "call me"}, "phone"),
    ({"first_name": "A", "last_name": "Lee", "date_of_birth": "yesterday"}, "date_of_birth"),
])
def test_bad_bodies_are_400_naming_the_field(api_client, coordinator, clinic, body, field):
    r = api_client(coordinator).post("/api/v1/patients", {"clinic_id": clinic.pk, **body}, content_type="application/json")
    assert r.status_code == 400
    data = r.json()
    fields = [data.get("field")] + [e.get("field") for e in data.get("errors", [])]
    assert field in fields or f"body.{field}" in fields
    assert not Patient.objects.exists()


def test_clinician_cannot_register_and_coordinator_cannot_register_elsewhere(api_client, clinician, coordinator, clinic_b, clinic):
    body = {"clinic_id": clinic.pk, "first_name": "A", "last_name": "B"}
    assert api_client(clinician).post("/api/v1/patients", body, content_type="application/json").status_code == 403
    r = api_client(coordinator).post("/api/v1/patients", {**body, "clinic_id": clinic_b.pk}, content_type="application/json")
    assert r.status_code == 404


def test_patch_contact_and_diagnosis_by_role(api_client, coordinator, clinician, patient):
    r = api_client(coordinator).patch(f"/api/v1/patients/{patient.pk}", {"phone": "07700 900 999"},
                                      content_type="application/json")
    assert r.status_code == 200 and r.json()["phone"] == "+447700900999"
    r = api_client(coordinator).patch(f"/api/v1/patients/{patient.pk}", {"diagnosis": "traction"},
                                      content_type="application/json")
    assert r.status_code == 403
    r = api_client(clinician).patch(f"/api/v1/patients/{patient.pk}", {"diagnosis": "traction"},
                                    content_type="application/json")
    assert r.status_code == 200 and r.json()["diagnosis"] == "traction"


def test_consents_through_the_api(api_client, coordinator, patient):
    c = api_client(coordinator)
    r = c.post(f"/api/v1/patients/{patient.pk}/consents", {"kind": "research", "document_version": "v4"},
               content_type="application/json")
    assert r.status_code == 201 and r.json()["is_active"]
    cid = r.json()["id"]
    r = c.post(f"/api/v1/patients/{patient.pk}/consents/{cid}/withdraw", {"reason": ""}, content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = c.post(f"/api/v1/patients/{patient.pk}/consents/{cid}/withdraw", {"reason": "email"}, content_type="application/json")
    assert r.status_code == 200 and not r.json()["is_active"]
    assert c.get(f"/api/v1/patients/{patient.pk}/consents").json()[0]["withdrawal_reason"] == "email"


def test_staging_through_the_api(api_client, clinician, coordinator, patient):
    body = {"scale": "norwood", "stage": "III vertex", "assessed_on": "2025-02-01"}
    assert api_client(coordinator).post(f"/api/v1/patients/{patient.pk}/stagings", body,
                                        content_type="application/json").status_code == 403
    r = api_client(clinician).post(f"/api/v1/patients/{patient.pk}/stagings", body, content_type="application/json")
    assert r.status_code == 201 and r.json()["stage"] == "III vertex"
    r = api_client(clinician).post(f"/api/v1/patients/{patient.pk}/stagings", {**body, "stage": "VIII"},
                                   content_type="application/json")
    assert r.status_code == 400 and "Norwood" in r.json()["detail"]


@pytest.mark.parametrize("body", ["[]", '"text"', "{}"])
def test_a_patch_that_changes_nothing_is_refused_with_a_hint(api_client, coordinator, clinic, body):
    from anagen.patients.services import patient_register

    patient = patient_register(actor=coordinator, clinic=clinic, first_name="Ann", last_name="Patch")
    r = api_client(coordinator).patch(f"/api/v1/patients/{patient.pk}", body, content_type="application/json")
    assert r.status_code == 400
    assert "at least one field" in r.json()["detail"]
