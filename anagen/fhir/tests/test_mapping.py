"""The mapping on its own: plain objects in, resources out, no database."""

from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace as NS

import pytest

from anagen.fhir import codes, mapping, validation
from anagen.fhir.mapping import ExportOptions

IDENTIFIED = ExportOptions(deidentified=False, today=date(2026, 6, 1))
DEIDENTIFIED = ExportOptions(deidentified=True, pseudonym_key=b"k1", today=date(2026, 6, 1))


def _patient(**extra):
    base = dict(pk=7, clinic_id=1, patient_number="AN-000007", first_name="Harriet", last_name="Hale",
                date_of_birth=date(1980, 3, 4), sex="female", email="h@example.test", phone="+447700900123",
                address="2 Temple Row", diagnosis="female_aga", diagnosis_detail="diffuse")
    base.update(extra)
    return NS(**base)


def _visit(**extra):
    base = dict(pk=3, patient_id=7, clinic_id=1, visit_date=date(2026, 5, 1), performed_by_id=2,
                is_baseline=True, appointment_id=None, investigator_global=None, patient_global=None)
    base.update(extra)
    return NS(**base)


def _measurement(**extra):
    base = dict(hair_count=80, field_area_cm2=0.65, terminal_count=70, vellus_count=10, mean_diameter_um=55.5,
                anagen_pct=None, hair_count_auto=80, terminal_count_auto=70, vellus_count_auto=10,
                mean_diameter_um_auto=55.5, is_corrected=False, engine_version="1.2.0", profile_name="default")
    base.update(extra)
    return NS(**base)


@pytest.mark.parametrize(("born", "band"), [
    (date(1980, 3, 4), (45, 49)),    # 46 on 2026-06-01
    (date(1981, 6, 2), (40, 44)),    # 44: the birthday the day after is not yet reached
    (date(1930, 1, 1), (90, None)),  # 90 and over is one open band
])
def test_age_band(born, band):
    assert mapping.age_band(born, date(2026, 6, 1)) == band


def test_identified_patient_carries_identity():
    r = mapping.patient(_patient(), IDENTIFIED)
    assert r["id"] == "7"
    assert r["name"] == [{"use": "official", "family": "Hale", "given": ["Harriet"]}]
    assert r["birthDate"] == "1980-03-04"
    assert {t["system"] for t in r["telecom"]} == {"phone", "email"}
    assert r["identifier"] == [{"system": codes.SID_PATIENT_NUMBER, "value": "AN-000007"}]
    validation.validate(r)


def test_deidentified_patient_keeps_sex_and_an_age_band_only():
    r = mapping.patient(_patient(), DEIDENTIFIED)
    assert not {"name", "birthDate", "telecom", "address"} & set(r)
    assert r["gender"] == "female"
    assert "AN-000007" not in str(r) and "7" != r["id"]
    band = r["extension"][0]
    assert band["url"] == codes.EXT_AGE_BAND
    assert (band["valueRange"]["low"]["value"], band["valueRange"]["high"]["value"]) == (45, 49)
    validation.validate(r)


def test_pseudonyms_are_stable_per_key_and_differ_by_key_and_type():
    other_key = ExportOptions(deidentified=True, pseudonym_key=b"k2")
    assert DEIDENTIFIED.rid("Patient", 7) == ExportOptions(deidentified=True, pseudonym_key=b"k1").rid("Patient", 7)
    assert DEIDENTIFIED.rid("Patient", 7) != other_key.rid("Patient", 7)
    assert DEIDENTIFIED.rid("Patient", 7) != DEIDENTIFIED.rid("Encounter", 7)
    assert DEIDENTIFIED.ref("Patient", 7) == {"reference": f"Patient/{DEIDENTIFIED.rid('Patient', 7)}"}


def test_density_is_derived_from_count_and_area_and_says_so():
    obs = {o["code"]["coding"][0]["code"]: o
           for o in mapping.measurement_observations(_visit(), _measurement(), IDENTIFIED, device_profile_id=4)}
    density = obs["hair-density"]
    assert density["valueQuantity"] == {"value": 80 / 0.65, "unit": "hairs/cm²", "system": codes.UCUM, "code": "/cm2"}
    assert density["method"]["coding"][0]["code"] == "derived-count-per-area"
    assert density["derivedFrom"] == [{"reference": "Observation/3-hair-count"},
                                      {"reference": "Observation/3-field-area"}]
    assert obs["field-area"]["valueQuantity"]["code"] == "cm2"
    assert obs["mean-shaft-diameter"]["valueQuantity"]["code"] == "um"
    for o in obs.values():
        assert o["device"] == {"reference": "Device/dermoscope-4"}
        exts = {e["url"]: e for e in o["extension"]}
        assert exts[codes.EXT_ENGINE_VERSION]["valueString"] == "1.2.0"
        assert exts[codes.EXT_ENGINE_PROFILE]["valueString"] == "default"
        validation.validate(o)


def test_uncalibrated_measurement_has_no_area_and_no_density():
    obs = mapping.measurement_observations(_visit(), _measurement(field_area_cm2=None, mean_diameter_um=None,
                                                                   mean_diameter_um_auto=None), IDENTIFIED)
    names = {o["code"]["coding"][0]["code"] for o in obs}
    assert "hair-count" in names and not {"hair-density", "field-area", "mean-shaft-diameter"} & names


def test_corrected_count_keeps_the_engine_value_beside_it():
    obs = {o["code"]["coding"][0]["code"]: o
           for o in mapping.measurement_observations(_visit(), _measurement(hair_count=84, is_corrected=True),
                                                     IDENTIFIED)}
    count = obs["hair-count"]
    assert count["valueQuantity"]["value"] == 84
    assert count["method"]["coding"][0]["code"] == "phototrichogram-corrected"
    auto = [e for e in count["extension"] if e["url"] == codes.EXT_AUTOMATIC_VALUE]
    assert auto[0]["valueQuantity"]["value"] == 80


def test_an_excluded_measurement_is_marked_and_its_reason_kept_only_in_identified_exports():
    m = _measurement(excluded=True, exclusion_reason="Wrong target area photographed")
    for opts in (IDENTIFIED, DEIDENTIFIED):
        obs = mapping.measurement_observations(_visit(), m, opts)
        assert obs and all(any(e["url"] == codes.EXT_EXCLUDED and e["valueBoolean"] is True
                                   for e in o["extension"]) for o in obs)
        notes = [o.get("note") for o in obs]
        if opts.deidentified:
            assert notes == [None] * len(obs)
        else:
            assert all("Wrong target area" in n[0]["text"] for n in notes)
        for o in obs:
            validation.validate(o)
    plain = mapping.measurement_observations(_visit(), _measurement(), IDENTIFIED)
    assert not any(e["url"] == codes.EXT_EXCLUDED for o in plain for e in o.get("extension", []))


def test_lots_become_medication_or_device_with_their_lot_number():
    exo = NS(pk=1, lot_number="EXR-1", expires_on=date(2027, 1, 1), recalled=False,
             product=NS(kind="exosome", name="Exo", manufacturer="Regen", unit="vial"))
    kit = NS(pk=2, lot_number="KIT-2", expires_on=date(2027, 1, 1), recalled=False,
             product=NS(kind="prp_kit", name="Kit", manufacturer="Kitco", unit="kit", get_kind_display=lambda: "PRP kit"))
    med, dev = mapping.product_resource(exo, IDENTIFIED), mapping.product_resource(kit, IDENTIFIED)
    assert (med["resourceType"], med["batch"]["lotNumber"]) == ("Medication", "EXR-1")
    assert (dev["resourceType"], dev["lotNumber"]) == ("Device", "KIT-2")
    proc = NS(pk=5, patient_id=7, clinic_id=1, clinician_id=2, performed_on=date(2026, 5, 2), delivery="injection",
              anaesthesia="none", microneedling_depth_mm=None, sample_id=None, notes="Harriet was fine",
              modality=NS(code="exosomes", name="Exosome product"))
    uses = [NS(lot=exo, quantity=1), NS(lot=kit, quantity=1)]
    r = mapping.procedure(proc, IDENTIFIED, zones=[NS(zone="vertex", volume_ml=2)], uses=uses, diagnosed=True)
    assert r["usedReference"] == [{"reference": "Medication/lot-1"}, {"reference": "Device/lot-2"}]
    assert r["note"] == [{"text": "Harriet was fine"}]
    assert "note" not in mapping.procedure(proc, DEIDENTIFIED, uses=uses)
    for resource in (med, dev, r):
        validation.validate(resource)


def test_adverse_event_codes_severity_seriousness_outcome_and_causality():
    ae = NS(pk=9, patient_id=7, procedure_id=5, severity=2, serious=False, relation="probable", action="treated",
            outcome="recovered", resolved_on=date(2026, 5, 9), onset_on=date(2026, 5, 3), reported_by_id=2,
            reported_at=datetime(2026, 5, 3, 9, tzinfo=timezone.utc), description="Swelling, told Harriet")
    r = mapping.adverse_event(ae, IDENTIFIED)
    assert r["severity"]["coding"][0]["code"] == "moderate"
    assert r["seriousness"]["coding"][0]["code"] == "Non-serious"
    assert r["outcome"]["coding"][0]["code"] == "resolved"
    assert r["suspectEntity"][0]["causality"][0]["assessment"]["coding"][0]["code"] == "probably-likely"
    assert r["event"]["text"] == "Swelling, told Harriet"
    assert "event" not in mapping.adverse_event(ae, DEIDENTIFIED)
    validation.validate(r)


def test_invalid_resource_is_refused_with_what_is_wrong():
    with pytest.raises(validation.InvalidResource, match="code"):
        validation.validate({"resourceType": "Observation", "id": "x", "status": "final"})
    with pytest.raises(validation.InvalidResource, match="not a FHIR resource type"):
        validation.validate({"resourceType": "Hair"})


def test_the_patients_global_assessment_is_performed_by_the_patient():
    obs = {o["code"]["coding"][0]["code"]: o
           for o in mapping.global_assessment_observations(_visit(investigator_global=1, patient_global=2), IDENTIFIED)}
    assert obs["patient-global-assessment"]["performer"] == [{"reference": "Patient/7"}]
    assert obs["patient-global-assessment"]["valueInteger"] == 2
    assert obs["investigator-global-assessment"]["performer"] == [{"reference": "Practitioner/2"}]
