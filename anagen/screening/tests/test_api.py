"""/api/v1/screenings: run, list, read and publish rules, with roles and clinics."""

import json

import pytest

from anagen.screening.models import RuleSet, Screening
from anagen.screening.rules import seed_rules


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def put(client, url, body):
    return client.put(url, json.dumps(body), content_type="application/json")


def test_a_clinician_screens_a_patient(api_client, clinician, patient, clear_answers):
    r = post(api_client(clinician), "/api/v1/screenings",
             {"patient_id": patient.pk, "answers": {**clear_answers, "target_area_bald": True},
              "modalities": ["hfsc_micrograft", "prp"]})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["rule_version"] == 1 and body["patient_id"] == patient.pk
    assert [s["modality"] for s in body["screenings"]] == ["hfsc_micrograft", "prp"]
    micro = body["screenings"][0]
    assert micro["decision"] == "not_candidate"
    assert micro["reasons"][0]["rule_id"] == "target_area_bald"
    assert micro["reasons"][0]["effect"] == "contraindication"
    assert micro["rule_version"] == 1
    assert Screening.objects.count() == 2


def test_the_default_is_all_four_modalities(api_client, clinician, patient, clear_answers):
    r = post(api_client(clinician), "/api/v1/screenings", {"patient_id": patient.pk, "answers": clear_answers})
    assert {s["modality"] for s in r.json()["screenings"]} == {"hfsc_micrograft", "adipose_stem_cells", "exosomes", "prp"}


def test_bad_answers_get_a_400_with_a_message(api_client, clinician, patient):
    c = api_client(clinician)
    r = post(c, "/api/v1/screenings", {"patient_id": patient.pk, "answers": {"anticoagulants": "perhaps"}})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("Answer 'anticoagulants' with true, false")
    r = post(c, "/api/v1/screenings", {"patient_id": patient.pk, "modalities": ["laser"]})
    assert r.status_code == 400 and "Unknown modality 'laser'" in r.json()["detail"]
    r = post(c, "/api/v1/screenings", {"answers": {}})
    assert r.status_code == 400
    assert Screening.objects.count() == 0


def test_listing_a_patients_screenings(api_client, clinician, coordinator, patient, clear_answers):
    post(api_client(clinician), "/api/v1/screenings", {"patient_id": patient.pk, "answers": clear_answers,
                                                        "modalities": ["prp"]})
    r = api_client(coordinator).get(f"/api/v1/screenings?patient_id={patient.pk}")
    assert r.status_code == 200
    [s] = r.json()
    assert s["modality"] == "prp" and s["decision"] == "candidate" and s["rule_version"] == 1
    assert s["performed_by"] == clinician.email


def test_only_clinicians_screen_through_the_api(api_client, coordinator, admin_user, patient, clear_answers):
    for user in (coordinator, admin_user):
        r = post(api_client(user), "/api/v1/screenings", {"patient_id": patient.pk, "answers": clear_answers})
        assert r.status_code == 403
    assert Screening.objects.count() == 0


@pytest.mark.parametrize("persona", ["evaluator", "lab_scientist", "statistician", "stranger"])
def test_other_roles_get_403(request, api_client, persona, patient, clear_answers):
    c = api_client(request.getfixturevalue(persona))
    assert post(c, "/api/v1/screenings", {"patient_id": patient.pk, "answers": clear_answers}).status_code == 403
    assert c.get(f"/api/v1/screenings?patient_id={patient.pk}").status_code == 403
    assert c.get("/api/v1/screenings/rules").status_code == 403


def test_another_clinics_patient_is_404(api_client, clinician_b, coordinator_b, patient, clear_answers):
    r = post(api_client(clinician_b), "/api/v1/screenings", {"patient_id": patient.pk, "answers": clear_answers})
    assert r.status_code == 404
    assert api_client(coordinator_b).get(f"/api/v1/screenings?patient_id={patient.pk}").status_code == 404


def test_anonymous_requests_get_401(client, patient):
    assert client.get(f"/api/v1/screenings?patient_id={patient.pk}").status_code == 401


def test_reading_the_active_rules(api_client, clinician):
    r = api_client(clinician).get("/api/v1/screenings/rules")
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == 1 and body["is_active"] and body["rules"] == seed_rules()


def test_an_admin_publishes_rules_through_the_api(api_client, admin_user, clinician, patient, clear_answers):
    rules = seed_rules()
    rules.append({"id": "no_prp_over_80", "description": "Over 80: review", "modalities": ["prp"],
                  "effect": "review", "when": {"fact": "age", "op": "gte", "value": 80}})
    r = put(api_client(admin_user), "/api/v1/screenings/rules", {"rules": rules, "note": "age limit"})
    assert r.status_code == 201, r.content
    assert r.json()["version"] == 2
    body = post(api_client(clinician), "/api/v1/screenings",
                {"patient_id": patient.pk, "answers": clear_answers, "modalities": ["prp"]}).json()
    assert body["rule_version"] == 2


def test_invalid_rules_get_400_with_every_error(api_client, admin_user):
    rules = seed_rules()
    rules[0]["when"] = {"fact": "shoe_size", "op": "gte"}
    r = put(api_client(admin_user), "/api/v1/screenings/rules", {"rules": rules})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid_rules"
    assert body["errors"] == [
        "Rule 'receding_or_thinning': when: unknown fact 'shoe_size'; known facts are " + ", ".join(
            __import__("anagen.screening.rules", fromlist=["FACTS"]).FACTS) + ".",
        "Rule 'receding_or_thinning': when: operator 'gte' needs a 'value'.",
    ]
    r = put(api_client(admin_user), "/api/v1/screenings/rules", {"rules": "not a list"})
    assert r.status_code == 400 and r.json()["errors"]
    assert RuleSet.objects.count() == 1


def test_only_admins_publish_rules_through_the_api(api_client, clinician, coordinator):
    for user in (clinician, coordinator):
        assert put(api_client(user), "/api/v1/screenings/rules", {"rules": seed_rules()[:2]}).status_code == 403
    assert RuleSet.objects.count() == 1
