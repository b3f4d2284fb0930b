"""GET /api/v1/fhir/Patient/{id}/$everything: the patient's whole record, checked by the FHIR
models, read back without loss, and only for the roles and clinics that see patient records."""

from __future__ import annotations

import json

import pytest
from auditlog.models import LogEntry
from fhir.resources.R4B.bundle import Bundle

from anagen.assessments.models import Measurement
from anagen.fhir import codes
from anagen.fhir.models import FhirExport

from .helpers import check_resources

pytestmark = pytest.mark.django_db


def url(patient) -> str:
    return f"/api/v1/fhir/Patient/{patient.pk}/$everything"


def everything(api_client, user, patient) -> dict:
    response = api_client(user).get(url(patient))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    return json.loads(response.content)


def test_it_returns_every_resource_valid_and_linked(api_client, clinician, patient, record):
    bundle = everything(api_client, clinician, patient)
    assert (bundle["resourceType"], bundle["type"], bundle["total"]) == ("Bundle", "searchset", 1)
    Bundle.model_validate(bundle)
    by_type = check_resources([e["resource"] for e in bundle["entry"]])
    assert {"Patient", "Condition", "Consent", "Appointment", "Encounter", "Procedure", "Medication", "Device",
            "AdverseEvent", "Observation", "Media", "Practitioner", "Organization", "Location"} <= set(by_type)
    assert all(e["fullUrl"].startswith("http://testserver/api/v1/fhir/") for e in bundle["entry"])
    assert [e["search"]["mode"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"] == ["match"]

    (p,) = by_type["Patient"]
    assert p["name"][0]["family"] == "Hale" and p["birthDate"] == "1980-03-04"
    (cond,) = by_type["Condition"]
    assert {"system": codes.SNOMED, "code": "1108009", "display": "Female pattern alopecia"} in cond["code"]["coding"]
    assert len(by_type["Consent"]) == 2
    (appt,) = by_type["Appointment"]
    assert appt["status"] == "booked" and appt["appointmentType"]["coding"][0]["code"] == "FOLLOWUP"


def test_procedure_names_the_product_lots_used(api_client, clinician, patient, record):
    by_type = check_resources([e["resource"] for e in everything(api_client, clinician, patient)["entry"]])
    (proc,) = by_type["Procedure"]
    used = {ref["reference"] for ref in proc["usedReference"]}
    lots = {f"{r['resourceType']}/{r['id']}": r for r in by_type["Medication"] + by_type["Device"]}
    lot_numbers = {lots[ref].get("lotNumber") or lots[ref]["batch"]["lotNumber"] for ref in used}
    assert lot_numbers == {"EXR-2405", "KIT-77"}
    zones = {c["coding"][0]["code"] for c in proc["bodySite"]}
    assert {"vertex", "frontal", "41695006"} <= zones
    (ae,) = by_type["AdverseEvent"]
    assert ae["suspectEntity"][0]["instance"]["reference"] == f"Procedure/{proc['id']}"


def test_observations_round_trip_every_measurement_value_and_unit(api_client, clinician, patient, record):
    """Export -> parse with fhir.resources -> read the Observations back: nothing lost."""
    bundle = Bundle.model_validate(everything(api_client, clinician, patient))
    read = {}
    for entry in bundle.entry:
        res = entry.resource
        if res.__resource_type__ != "Observation" or res.valueQuantity is None:
            continue
        coding = res.code.coding[0]
        assert coding.system == codes.CS_PHOTOTRICHOGRAM
        assert res.valueQuantity.system == codes.UCUM
        read[(res.encounter.reference, coding.code)] = (float(res.valueQuantity.value), res.valueQuantity.code)

    expected = {}
    for m in Measurement.objects.filter(visit__patient=patient):
        enc = f"Encounter/{m.visit_id}"
        for code, value, unit in (("hair-count", m.hair_count, "{hairs}"), ("field-area", m.field_area_cm2, "cm2"),
                                  ("terminal-hair-count", m.terminal_count, "{hairs}"),
                                  ("vellus-hair-count", m.vellus_count, "{hairs}"),
                                  ("mean-shaft-diameter", m.mean_diameter_um, "um"),
                                  ("hair-density", m.density_per_cm2, "/cm2"),
                                  ("anagen-hair-percent", m.anagen_pct, "%")):
            if value is not None:
                expected[(enc, code)] = (float(value), unit)
    assert len(expected) >= 13  # two calibrated visits, one with a regrowth image
    assert any(code == "anagen-hair-percent" for _, code in expected)
    assert read == expected


def test_observations_carry_method_device_and_engine_version(api_client, clinician, patient, record):
    by_type = check_resources([e["resource"] for e in everything(api_client, clinician, patient)["entry"]])
    m = Measurement.objects.get(visit=record["visits"][0])
    counts = [o for o in by_type["Observation"] if o["id"] == f"{m.visit_id}-hair-count"]
    (count,) = counts
    assert count["method"]["coding"][0]["code"] == "phototrichogram-automatic"
    assert count["device"]["reference"] == f"Device/dermoscope-{m.source_image.device_profile_id}"
    assert {"url": codes.EXT_ENGINE_VERSION, "valueString": m.engine_version} in count["extension"]
    assert count["derivedFrom"] == [{"reference": f"Media/trichogram-{m.source_image_id}"}]


def test_front_desk_may_export_too(api_client, coordinator, patient, record):
    assert everything(api_client, coordinator, patient)["total"] == 1


@pytest.mark.parametrize("persona", ["lab_scientist", "evaluator", "statistician", "stranger"])
def test_roles_without_patient_records_get_403(api_client, patient, persona, request):
    response = api_client(request.getfixturevalue(persona)).get(url(patient))
    assert response.status_code == 403
    assert "Harriet" not in response.content.decode()
    assert not FhirExport.objects.exists()


def test_another_clinics_patient_is_404(api_client, coordinator_b, patient):
    assert api_client(coordinator_b).get(url(patient)).status_code == 404


def test_a_missing_patient_is_404(api_client, clinician, patient):
    assert api_client(clinician).get("/api/v1/fhir/Patient/999999/$everything").status_code == 404


def test_without_a_token_it_is_401(client, patient):
    assert client.get(url(patient)).status_code == 401


def test_the_export_is_recorded_with_its_actor(api_client, clinician, patient, record):
    everything(api_client, clinician, patient)
    export = FhirExport.objects.get()
    assert (export.actor, export.patient, export.scope, export.via, export.deidentified) == \
        (clinician, patient, "patient", "api", False)
    assert export.resource_counts["Observation"] >= 13
    entry = LogEntry.objects.get_for_object(export).get()
    assert entry.action == LogEntry.Action.CREATE and entry.actor == clinician
    access = LogEntry.objects.get_for_object(patient).filter(action=LogEntry.Action.ACCESS).get()
    assert access.actor == clinician


def test_the_patient_history_shows_who_exported_the_record(api_client, login, clinician, patient):
    everything(api_client, clinician, patient)
    from anagen.audit.selectors import record_history

    (accessed,) = [h for h in record_history(patient) if h.action == "accessed"]
    assert accessed.actor == str(clinician)
    page = login(clinician).get(f"/patients/{patient.pk}/")
    assert page.status_code == 200 and "accessed" in page.content.decode()


def test_a_patient_id_that_is_not_a_number_is_404(api_client, clinician, patient):
    assert api_client(clinician).get("/api/v1/fhir/Patient/AN-000001/$everything").status_code == 404


def test_the_patient_page_offers_the_download_to_record_roles_only(login, clinician, patient):
    page = login(clinician).get(f"/patients/{patient.pk}/").content.decode()
    assert f"/api/v1/fhir/Patient/{patient.pk}/$everything?download=true" in page


def test_the_download_is_a_file_named_after_the_patient_number(api_client, clinician, patient):
    response = api_client(clinician).get(url(patient) + "?download=true")
    assert response["Content-Disposition"] == f'attachment; filename="{patient.patient_number}-fhir.json"'
