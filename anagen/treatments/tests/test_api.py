"""The treatments API: the same rules as the pages, answered as JSON."""

import json
from datetime import time, timedelta

import pytest
from django.utils import timezone

from anagen.treatments.models import Lot, Procedure

from .conftest import screen

TODAY = timezone.localdate
BASE = "/api/v1/treatments"


def _post(client, path, body):
    return client.post(BASE + path, json.dumps(body, default=str), content_type="application/json")


def _patch(client, path, body):
    return client.patch(BASE + path, json.dumps(body, default=str), content_type="application/json")


def test_the_openapi_document_lists_the_treatment_routes(api_client, clinician):
    doc = api_client(clinician).get("/api/v1/openapi.json").json()
    for path in ("/catalogue", "/plans", "/plans/{plan_id}/changes", "/proposals/{proposal_id}/confirm", "/procedures",
                 "/products", "/lots", "/lots/{lot_id}/recall", "/recall", "/adverse-events", "/samples",
                 "/samples/{sample_id}/custody"):
        assert "/api/v1/treatments" + path in doc["paths"], path


def test_the_catalogue_is_listed_and_only_an_admin_edits_it(api_client, clinician, admin_user):
    assert any(m["code"] == "hfsc_micrograft" for m in api_client(clinician).get(BASE + "/catalogue").json())
    assert _patch(api_client(clinician), "/catalogue/prp", {"typical_sessions": 4}).status_code == 403
    r = _patch(api_client(admin_user), "/catalogue/prp", {"typical_sessions": 4, "follow_up_weeks": [12, 24]})
    assert r.status_code == 200 and r.json()["typical_sessions"] == 4
    r = _patch(api_client(admin_user), "/catalogue/prp", {"typical_sessions": 99})
    assert r.status_code == 400 and "between 1 and 24" in r.json()["detail"]


class TestPlans:
    def test_a_clinician_creates_and_changes_a_plan(self, api_client, clinician, consented):
        screen(consented, clinician, "prp")
        c = api_client(clinician)
        r = _post(c, "/plans", {"patient_id": consented.pk, "modalities": ["prp"],
                                "start_on": TODAY() + timedelta(days=5), "follow_up_weeks": [4, 12, 23, 44, 58]})
        assert r.status_code == 201, r.json()
        plan = r.json()
        assert plan["follow_up_weeks"] == [4, 12, 23, 44, 58] and plan["modalities"] == ["prp"]
        proposals = c.get(f"{BASE}/plans/{plan['id']}/proposals").json()
        assert len(proposals) == 8 and proposals[-1]["label"] == "Follow-up, week 58"
        r = _post(c, f"/plans/{plan['id']}/changes", {"reason": "Patient travelling", "interval_days": 35})
        assert r.status_code == 201 and r.json()["previous"] == {"interval_days": 30}
        assert _post(c, f"/plans/{plan['id']}/changes", {"reason": "", "sessions": 5}).status_code == 400
        assert len(c.get(f"{BASE}/plans/{plan['id']}/changes").json()) == 1

    def test_a_plan_without_a_candidate_screening_is_refused(self, api_client, clinician, consented):
        screen(consented, clinician, "exosomes", "not_candidate")
        r = _post(api_client(clinician), "/plans", {"patient_id": consented.pk, "modalities": ["exosomes"],
                                                    "start_on": TODAY()})
        assert r.status_code == 400 and r.json()["code"] == "not_candidate"

    def test_a_coordinator_confirms_a_proposal_and_a_clash_is_409(self, api_client, coordinator, clinician, clinic,
                                                                  prp_plan):
        from anagen.scheduling.services import availability_add

        for day in range(7):
            availability_add(actor=coordinator, clinician=clinician, clinic=clinic, weekday=day, start_time=time(8),
                             end_time=time(18), valid_from=TODAY(), room=clinic.rooms.get(is_procedure_room=True))
        first, second = prp_plan.proposals.all()[:2]
        c = api_client(coordinator)
        when = f"{first.proposed_on:%Y-%m-%d}T10:00:00"
        r = _post(c, f"/proposals/{first.pk}/confirm", {"starts_at": when})
        assert r.status_code == 200 and r.json()["status"] == "confirmed" and r.json()["appointment_id"]
        r = _post(c, f"/proposals/{second.pk}/confirm", {"starts_at": when})
        assert r.status_code == 409 and "already booked" in r.json()["detail"]
        second.refresh_from_db()
        assert second.status == "proposed"

    def test_a_clinician_cannot_confirm_bookings(self, api_client, clinician, prp_plan):
        p = prp_plan.proposals.first()
        r = _post(api_client(clinician), f"/proposals/{p.pk}/confirm", {"starts_at": "2030-01-01T10:00:00"})
        assert r.status_code == 403

    def test_another_clinics_plan_is_404(self, api_client, clinician_b, prp_plan):
        assert api_client(clinician_b).get(f"{BASE}/plans/{prp_plan.pk}").status_code == 404


class TestProceduresAndLots:
    def test_a_procedure_uses_a_lot_and_the_recall_search_finds_the_patient(self, api_client, clinician, consented,
                                                                            lot):
        c = api_client(clinician)
        r = _post(c, "/procedures", {"patient_id": consented.pk, "modality": "exosomes", "performed_on": TODAY(),
                                     "delivery": "microneedling", "microneedling_depth_mm": "0.5",
                                     "zones": {"vertex": 2, "mid_scalp": 1.5},
                                     "lots": [{"lot_id": lot.pk, "quantity": 1}]})
        assert r.status_code == 201, r.json()
        assert {z["zone"] for z in r.json()["zones"]} == {"vertex", "mid_scalp"}
        assert c.get(f"{BASE}/lots/{lot.pk}").json()["quantity_on_hand"] in ("2.00", 2, "2")
        hits = c.get(BASE + "/recall", {"lot_number": "EXR-2405"}).json()
        assert [h["patient_number"] for h in hits] == [consented.patient_number]

    def test_an_expired_lot_is_refused_with_its_message(self, api_client, clinician, consented, lot):
        Lot.objects.filter(pk=lot.pk).update(expires_on=TODAY() - timedelta(days=3))
        r = _post(api_client(clinician), "/procedures", {"patient_id": consented.pk, "modality": "exosomes",
                                                         "performed_on": TODAY(), "zones": {"vertex": 1},
                                                         "lots": [{"lot_id": lot.pk, "quantity": 1}]})
        assert r.status_code == 400 and r.json()["code"] == "lot_refused" and "expired" in r.json()["detail"]
        assert not Procedure.objects.exists()

    def test_a_recalled_lot_is_refused(self, api_client, clinician, consented, lot):
        c = api_client(clinician)
        assert _post(c, f"/lots/{lot.pk}/recall", {"reason": "supplier notice"}).status_code == 200
        r = _post(c, "/procedures", {"patient_id": consented.pk, "modality": "exosomes", "performed_on": TODAY(),
                                     "zones": {"vertex": 1}, "lots": [{"lot_id": lot.pk, "quantity": 1}]})
        assert r.status_code == 400 and "recalled" in r.json()["detail"]

    def test_a_procedure_without_consent_is_refused(self, api_client, clinician, patient):
        r = _post(api_client(clinician), "/procedures", {"patient_id": patient.pk, "modality": "exosomes",
                                                         "performed_on": TODAY(), "zones": {"vertex": 1}})
        assert r.status_code == 400 and r.json()["code"] == "no_consent"

    def test_a_coordinator_cannot_record_procedures(self, api_client, coordinator, consented):
        r = _post(api_client(coordinator), "/procedures", {"patient_id": consented.pk, "modality": "exosomes",
                                                           "performed_on": TODAY(), "zones": {"vertex": 1}})
        assert r.status_code == 403

    def test_a_clinician_receives_a_lot(self, api_client, clinician, clinic, exosome):
        r = _post(api_client(clinician), "/lots", {"product_id": exosome.pk, "clinic_id": clinic.pk,
                                                   "lot_number": "N-1", "expires_on": TODAY() + timedelta(days=10),
                                                   "quantity": "4"})
        assert r.status_code == 201 and r.json()["lot_number"] == "N-1"

    def test_adverse_events_are_reported_and_followed_up(self, api_client, clinician, consented):
        c = api_client(clinician)
        r = _post(c, "/adverse-events", {"patient_id": consented.pk, "description": "Erythema", "onset_on": TODAY(),
                                         "severity": 1, "relation": "probable"})
        assert r.status_code == 201
        r = _patch(c, f"/adverse-events/{r.json()['id']}", {"outcome": "recovered", "resolved_on": TODAY()})
        assert r.status_code == 200 and r.json()["outcome"] == "recovered"


class TestSamples:
    def test_the_lab_sees_code_and_patient_number_but_no_name(self, api_client, lab_scientist, released_sample):
        body = api_client(lab_scientist).get(BASE + "/samples").json()
        assert body[0]["code"] == released_sample.code
        assert body[0]["patient_number"] == released_sample.patient.patient_number
        text = json.dumps(body)
        assert "Hartley" not in text and "Oliver" not in text and "patient_id" not in text

    def test_the_lab_walks_a_sample_through_custody(self, api_client, lab_scientist, clinician, consented):
        s = _post(api_client(clinician), "/samples", {"patient_id": consented.pk, "kind": "lipoaspirate",
                                                      "lipoaspirate_ml": "80"}).json()
        lab = api_client(lab_scientist)
        assert _post(lab, f"/samples/{s['id']}/custody", {"step": "received"}).status_code == 201
        r = _post(lab, f"/samples/{s['id']}/custody", {"step": "released"})
        assert r.status_code == 400 and r.json()["code"] == "invalid_step"
        assert [e["step"] for e in lab.get(f"{BASE}/samples/{s['id']}/custody").json()] == ["harvested", "received"]

    def test_a_sample_cannot_be_implanted_into_another_patient(self, api_client, clinician, released_sample,
                                                               other_patient):
        from .conftest import give_consent

        give_consent(other_patient, clinician)
        r = _post(api_client(clinician), "/procedures", {
            "patient_id": other_patient.pk, "modality": "hfsc_micrograft", "performed_on": TODAY(),
            "zones": {"vertex": 2}, "sample_code": released_sample.code})
        assert r.status_code == 400 and r.json()["code"] == "sample_refused"

    @pytest.mark.parametrize("persona", ["evaluator", "statistician", "coordinator", "stranger"])
    def test_samples_are_closed_to_other_roles(self, api_client, request, persona, released_sample):
        assert api_client(request.getfixturevalue(persona)).get(BASE + "/samples").status_code == 403

    def test_another_clinics_sample_is_404(self, api_client, clinician_b, released_sample):
        assert api_client(clinician_b).get(f"{BASE}/samples/{released_sample.pk}").status_code == 404


@pytest.mark.parametrize("path", ["/plans", "/procedures", "/adverse-events", "/recall?lot_number=X", "/lots"])
def test_evaluators_see_nothing_identifying(api_client, evaluator, path):
    assert api_client(evaluator).get(BASE + path).status_code == 403


def test_unauthenticated_requests_get_401(client):
    assert client.get(BASE + "/plans").status_code == 401

