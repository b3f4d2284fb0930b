"""API routes of data quality, the lock and the results."""

from __future__ import annotations

import json

import pytest

from conftest import PASSWORD

from .test_analysis import split_study, write_study  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_query_sdv_lock_unlock_through_the_api(randomized_subject, api_client, statistician, clinician, evaluator):
    study, subject = randomized_subject.study, randomized_subject
    base = f"/api/v1/studies/{study.pk}"
    stats, doctor = api_client(statistician), api_client(clinician)
    r = _post(stats, f"{base}/queries", {"subject_id": subject.pk, "data_point": "density at week 4",
                                         "question": "Twice the baseline?"})
    assert r.status_code == 201, r.content
    qid = r.json()["id"]
    r = _post(stats, f"{base}/lock", {"password": PASSWORD})
    assert r.status_code == 409 and r.json()["code"] == "open_queries"
    assert _post(doctor, f"{base}/queries/{qid}/answer", {"answer": "Checked, correct."}).json()["status"] == "answered"
    assert _post(stats, f"{base}/queries/{qid}/close", {}).json()["status"] == "closed"
    r = _post(stats, f"{base}/verifications", {"subject_id": subject.pk, "data_point": "baseline density"})
    assert r.status_code == 201
    assert [v["data_point"] for v in stats.get(f"{base}/verifications").json()] == ["baseline density"]
    assert _post(stats, f"{base}/lock", {"password": "nope"}).json()["code"] == "bad_password"
    r = _post(stats, f"{base}/lock", {"password": PASSWORD})
    assert r.status_code == 201 and r.json()["locked"] is True and r.json()["results_released"] is False
    assert _post(doctor, f"{base}/unblinding", {"password": PASSWORD}).status_code == 403
    assert doctor.get(f"{base}/results").status_code == 403
    r = _post(stats, f"{base}/unblinding", {"password": PASSWORD})
    assert r.status_code == 201 and r.json()["results_released"] is True
    assert r.json()["events"][0]["unblinded_by"] == str(statistician)
    assert _post(stats, f"{base}/unblinding", {"password": PASSWORD}).json()["code"] == "already_unblinded"
    r = _post(doctor, f"{base}/subjects/{subject.pk}/end", {"status": "withdrawn", "on": "2026-01-01",
                                                           "reason": "Moved"})
    assert r.status_code == 409 and r.json()["code"] == "locked" and "locked" in r.json()["detail"]
    r = _post(stats, f"{base}/unlock", {"password": PASSWORD, "reason": ""})
    assert r.status_code == 400
    r = _post(stats, f"{base}/unlock", {"password": PASSWORD, "reason": "Correct the week-4 density."})
    assert r.status_code == 201 and r.json()["locked"] is False
    assert [e["action"] for e in stats.get(f"{base}/lock").json()["events"]] == ["unlock", "lock"]
    ev = api_client(evaluator)
    assert ev.get(f"{base}/queries").status_code == 403
    assert ev.get(f"{base}/verifications").status_code == 403


def test_results_api_is_for_the_unblinded_statistician_before_the_lock(quality_team, clinician, make_patient, clinic,
                                                                       api_client, unblinded_statistician,
                                                                       statistician, evaluator):
    write_study(quality_team, clinician, make_patient, clinic, n=8)
    url = f"/api/v1/studies/{quality_team.pk}/results"
    r = api_client(unblinded_statistician).get(url)
    assert r.status_code == 200
    body = r.json()
    assert body["interim"] is True and body["primary"]["results"][0]["method"].startswith("ANCOVA")
    assert body["consort"]["randomized"] == 8
    for user in (statistician, evaluator, clinician):
        assert api_client(user).get(url).status_code == 403


def test_sample_size_api_equals_the_library(quality_team, api_client, statistician, evaluator):
    from anagen.evidence.power import sample_size_parallel

    url = f"/api/v1/studies/{quality_team.pk}/sample-size"
    r = _post(api_client(statistician), url, {"difference": 14.7, "sd": 25.4, "rho": 0.5, "dropout": 0.1})
    assert r.status_code == 200
    expected = sample_size_parallel(difference=14.7, sd=25.4, rho=0.5, dropout=0.1)
    assert r.json()["n_total"] == expected.n_total
    r = _post(api_client(statistician), url, {"difference": 14.7, "sd": -1})
    assert r.status_code == 400 and r.json()["detail"]
    assert _post(api_client(evaluator), url, {"difference": 1, "sd": 1}).status_code == 403


def test_side_values_for_split_scalp_only(randomized_subject, api_client, clinician):
    from datetime import date

    from anagen.assessments.services import visit_create

    visit = visit_create(actor=clinician, patient=randomized_subject.patient, visit_date=date.today())
    url = f"/api/v1/studies/{randomized_subject.study_id}/subjects/{randomized_subject.pk}/side-values"
    r = _post(api_client(clinician), url, {"visit_id": visit.pk, "side": "left", "density_per_cm2": 120.5})
    assert r.status_code == 400 and r.json()["code"] == "not_split_scalp"


def test_side_values_recorded_and_corrected_for_a_split_scalp_subject(split_study, make_patient, clinic, api_client,
                                                                      clinician):
    from datetime import date

    from anagen.assessments.services import visit_create
    from anagen.studies import services
    from anagen.studies.models import SideMeasurement
    from anagen.studies.randomization import subject_randomize

    subject = services.subject_enrol(actor=clinician, study=split_study, patient=make_patient(clinic))
    subject_randomize(actor=clinician, subject=subject)
    visit = visit_create(actor=clinician, patient=subject.patient, visit_date=date.today())
    url = f"/api/v1/studies/{split_study.pk}/subjects/{subject.pk}/side-values"
    client = api_client(clinician)
    assert _post(client, url, {"visit_id": visit.pk, "side": "left", "density_per_cm2": 120.5}).status_code == 201
    assert _post(client, url, {"visit_id": visit.pk, "side": "left", "density_per_cm2": 121.0}).status_code == 201
    assert _post(client, url, {"visit_id": visit.pk, "side": "middle", "density_per_cm2": 1}).status_code == 400
    assert _post(client, url, {"visit_id": visit.pk, "side": "right", "density_per_cm2": -4}).status_code == 400
    assert list(SideMeasurement.objects.values_list("side", "density_per_cm2")) == [("left", 121.0)]
    # The half's photograph may be named; only a target image of that very visit.
    from anagen.assessments.models import TrichogramImage

    image = TrichogramImage.objects.create(visit=visit, kind="target", file="t/l.jpg", sha256="7" * 64, width=32,
                                           height=24, profile_name="default")
    assert _post(client, url, {"visit_id": visit.pk, "side": "left", "density_per_cm2": 121.0,
                               "image_id": image.pk + 999}).status_code == 404
    assert _post(client, url, {"visit_id": visit.pk, "side": "left", "density_per_cm2": 121.0,
                               "image_id": image.pk}).status_code == 201
    assert SideMeasurement.objects.get(side="left").source_image == image


def test_a_visit_at_a_clinic_the_user_does_not_work_at_is_not_found(split_study, make_patient, clinic, clinic_b,
                                                                   api_client, clinician, statistician):
    from datetime import date

    from anagen.assessments.models import AssessmentVisit
    from anagen.core.errors import NotFound
    from anagen.studies import services
    from anagen.studies.models import SideMeasurement
    from anagen.studies.quality_services import query_raise, side_value_record
    from anagen.studies.randomization import subject_randomize

    subject = services.subject_enrol(actor=clinician, study=split_study, patient=make_patient(clinic))
    subject_randomize(actor=clinician, subject=subject)
    # The same patient seen at another clinic of the group, where the clinician does not work.
    elsewhere = AssessmentVisit.objects.create(patient=subject.patient, clinic=clinic_b, visit_date=date.today())
    url = f"/api/v1/studies/{split_study.pk}/subjects/{subject.pk}/side-values"
    r = _post(api_client(clinician), url, {"visit_id": elsewhere.pk, "side": "left", "density_per_cm2": 120.5})
    assert r.status_code == 404 and "clinic you work at" in r.json()["detail"]
    with pytest.raises(NotFound):
        side_value_record(actor=clinician, subject=subject, visit=elsewhere, side="left", density_per_cm2=120.5)
    with pytest.raises(NotFound):
        query_raise(actor=statistician, subject=subject, data_point="density", question="Is it right?", visit=elsewhere)
    assert not SideMeasurement.objects.exists()
