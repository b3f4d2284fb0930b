"""The outcomes API: same selectors, same permissions as the pages."""

import pytest

from . import factories as f

pytestmark = pytest.mark.django_db

BASE = "/api/v1/outcomes"


def test_timeline_in_order(treated_patient, clinician, api_client):
    r = api_client(clinician).get(f"{BASE}/patients/{treated_patient.pk}/timeline")
    assert r.status_code == 200
    body = r.json()
    assert body["patient_number"] == treated_patient.patient_number
    kinds = [e["kind"] for e in body["events"]]
    assert kinds[0] in ("registration", "staging") and "procedure" in kinds and "assessment" in kinds
    days = [e["on"] for e in body["events"]]
    assert days == sorted(days)


def test_measurements_with_change_from_baseline(treated_patient, clinician, api_client):
    r = api_client(clinician).get(f"{BASE}/patients/{treated_patient.pk}/measurements")
    assert r.status_code == 200
    body = r.json()
    assert [m["hair_count"] for m in body["measurements"]] == [80, 92, 99]
    assert body["measurements"][0]["density_change"] is None
    assert body["measurements"][2]["density_change"]["absolute"] == pytest.approx(19 / 0.65)
    assert [s["on"] for s in body["sessions"]] == [f.day(0).isoformat(), f.day(4).isoformat()]


def test_outcome_table_with_filters(treated_patient, statistician, api_client):
    c = api_client(statistician)
    body = c.get(f"{BASE}/table").json()
    exo = next(r for r in body["rows"] if r["modality"] == "exosomes")
    assert exo["treated"] == 1
    w12 = next(v for v in exo["visits"] if v["week"] == 12)
    assert w12["followed_up"] == 1 and w12["density_change"]["n"] == 1
    assert w12["density_change"]["lower"] is None and "fewer than two" in w12["density_change"]["reason"]
    assert "±2 weeks" in body["window_rule"]
    assert "Patel" not in str(body) and treated_patient.patient_number not in str(body)
    female = c.get(f"{BASE}/table", {"sex": "female"}).json()
    assert next(r for r in female["rows"] if r["modality"] == "exosomes")["treated"] == 0
    weeks = c.get(f"{BASE}/table", {"weeks": "12,24"}).json()
    assert [v["week"] for v in weeks["rows"][0]["visits"]] == [12, 24]


def test_bad_filter_is_400_with_a_message(statistician, api_client):
    r = api_client(statistician).get(f"{BASE}/table", {"scale": "hamilton"})
    assert r.status_code == 400 and "norwood" in r.json()["detail"]
    r = api_client(statistician).get(f"{BASE}/table", {"date_from": "yesterday"})
    assert r.status_code == 400


@pytest.mark.parametrize("persona", ["evaluator", "lab_scientist", "statistician", "stranger"])
def test_other_roles_get_403_on_patient_routes(persona, treated_patient, api_client, request):
    c = api_client(request.getfixturevalue(persona))
    assert c.get(f"{BASE}/patients/{treated_patient.pk}/timeline").status_code == 403
    assert c.get(f"{BASE}/patients/{treated_patient.pk}/measurements").status_code == 403


def test_another_clinics_patient_is_404(treated_patient, coordinator_b, api_client):
    assert api_client(coordinator_b).get(f"{BASE}/patients/{treated_patient.pk}/timeline").status_code == 404


@pytest.mark.parametrize("persona", ["coordinator", "evaluator", "lab_scientist", "stranger"])
def test_other_roles_get_403_on_the_table(persona, api_client, request):
    assert api_client(request.getfixturevalue(persona)).get(f"{BASE}/table").status_code == 403


def test_another_clinic_filter_is_404(clinician, clinic_b, api_client):
    assert api_client(clinician).get(f"{BASE}/table", {"clinic": clinic_b.pk}).status_code == 404


def test_no_token_is_401(client, db):
    assert client.get(f"{BASE}/table").status_code == 401


def test_the_progress_report_pdf_through_the_api(treated_patient, clinician, api_client):
    r = api_client(clinician).get(f"{BASE}/patients/{treated_patient.pk}/report.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and treated_patient.patient_number in r["Content-Disposition"]


@pytest.mark.parametrize("persona", ["lab_scientist", "evaluator", "statistician"])
def test_the_report_api_refuses_other_roles(persona, treated_patient, api_client, request):
    user = request.getfixturevalue(persona)
    assert api_client(user).get(f"{BASE}/patients/{treated_patient.pk}/report.pdf").status_code == 403


def test_the_report_api_of_another_clinic_is_404(treated_patient, clinician_b, api_client):
    assert api_client(clinician_b).get(f"{BASE}/patients/{treated_patient.pk}/report.pdf").status_code == 404
