"""GET /api/v1/fhir/$export and /$export/{type}.ndjson: bulk NDJSON by role, identified for
clinicians and admins, de-identified for statisticians."""

from __future__ import annotations

import pytest

from anagen.fhir.models import FhirExport
from anagen.fhir.selectors import resource_types

from .helpers import check_resources, ndjson

pytestmark = pytest.mark.django_db



def identity(patient) -> tuple[str, ...]:
    return (patient.first_name, patient.last_name, patient.email, patient.phone, patient.address, patient.patient_number,
            patient.date_of_birth.isoformat())


def fetch_all(client, query: str = "") -> list[dict]:
    manifest = client.get(f"/api/v1/fhir/$export{query}")
    assert manifest.status_code == 200, manifest.content
    out = []
    for item in manifest.json()["output"]:
        response = client.get(item["url"].replace("http://testserver", ""))
        assert response.status_code == 200, response
        assert response["Content-Type"] == "application/fhir+ndjson"
        lines = ndjson(b"".join(response.streaming_content).decode())
        assert all(r["resourceType"] == item["type"] for r in lines)
        out.extend(lines)
    return out


def test_manifest_lists_one_ndjson_file_per_resource_type(api_client, clinician, record):
    body = api_client(clinician).get("/api/v1/fhir/$export").json()
    assert [o["type"] for o in body["output"]] == list(resource_types())
    assert all(o["url"].endswith(f"/$export/{o['type']}.ndjson?deidentified=false") for o in body["output"])
    assert body["requiresAccessToken"] is True


def test_clinician_gets_identified_resources_all_valid(api_client, clinician, patient, patient_b, record):
    by_type = check_resources(fetch_all(api_client(clinician)))
    assert [p["name"][0]["family"] for p in by_type["Patient"]] == ["Hale"]  # not Solihull's patient
    assert by_type["Media"]


def test_statistician_gets_deidentified_resources_by_default(api_client, statistician, patient, record):
    resources = fetch_all(api_client(statistician))
    by_type = check_resources(resources)
    (p,) = by_type["Patient"]
    assert not {"name", "birthDate", "telecom", "address"} & set(p)
    assert p["id"] != str(patient.pk)
    text = str(resources)
    for value in identity(patient) + ("Tolerated well", "Scalp swelling", "Widened part", "diffuse thinning", "Bring Harriet"):
        assert value not in text, f"{value!r} leaked into a de-identified export"
    assert "Media" not in by_type  # no photographs
    assert by_type["Observation"] and by_type["Procedure"]
    exports = FhirExport.objects.filter(actor=statistician, deidentified=True, scope="bulk", via="api")
    assert sorted(t for e in exports for t in e.resource_counts) == sorted(resource_types())


def test_pseudonyms_are_the_same_in_the_next_export(api_client, statistician, record):
    client = api_client(statistician)
    first = [r["id"] for r in fetch_all(client, "?_type=Patient")]
    assert first == [r["id"] for r in fetch_all(client, "?_type=Patient")]


def test_a_clinician_may_ask_for_deidentified(api_client, clinician, record):
    (p,) = [r for r in fetch_all(api_client(clinician), "?deidentified=true&_type=Patient")]
    assert "name" not in p


def test_statistician_asking_for_identity_is_403(api_client, statistician, record):
    response = api_client(statistician).get("/api/v1/fhir/$export?deidentified=false")
    assert response.status_code == 403
    assert "deidentified=true" in response.json()["detail"]
    assert api_client(statistician).get("/api/v1/fhir/$export/Patient.ndjson?deidentified=false").status_code == 403


@pytest.mark.parametrize("persona", ["lab_scientist", "evaluator", "coordinator", "stranger"])
def test_other_roles_get_no_bulk_export(api_client, persona, request, record):
    client = api_client(request.getfixturevalue(persona))
    assert client.get("/api/v1/fhir/$export").status_code == 403
    assert client.get("/api/v1/fhir/$export/Patient.ndjson?deidentified=true").status_code == 403
    assert not FhirExport.objects.exists()


def test_another_clinic_is_404(api_client, clinician, clinic_b, record):
    client = api_client(clinician)
    assert client.get("/api/v1/fhir/$export?clinic=solihull").status_code == 404
    assert client.get("/api/v1/fhir/$export/Patient.ndjson?clinic=solihull").status_code == 404
    assert client.get("/api/v1/fhir/$export?clinic=birmingham").status_code == 200


def test_each_clinic_sees_only_its_own_patients(api_client, clinician_b, patient_b, record):
    (p,) = fetch_all(api_client(clinician_b), "?_type=Patient")
    assert p["name"][0]["family"] == "Bishop"


def test_unknown_types_are_refused_with_the_list_to_choose_from(api_client, clinician, record):
    client = api_client(clinician)
    response = client.get("/api/v1/fhir/$export?_type=Patient,Hair")
    assert response.status_code == 400
    assert "Hair" in response.json()["detail"] and "Observation" in response.json()["detail"]
    assert client.get("/api/v1/fhir/$export/Hair.ndjson").status_code == 404


def test_bad_parameters_are_400_with_a_message(api_client, clinician, record):
    response = api_client(clinician).get("/api/v1/fhir/$export?deidentified=maybe")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "deidentified"
