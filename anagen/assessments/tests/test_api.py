"""/api/v1/assessments: the same services as the pages."""

from __future__ import annotations

import pytest

from anagen.assessments.models import AssessmentVisit, TrichogramImage

from .conftest import upload

BASE = "/api/v1/assessments"


def test_a_clinician_records_a_visit_uploads_and_reads_the_result(api_client, clinician, patient, device, scalp_png):
    api = api_client(clinician)
    response = api.post(f"{BASE}/visits", {"patient_id": patient.pk, "visit_date": "2025-03-01", "is_baseline": True},
                        content_type="application/json")
    assert response.status_code == 201, response.content
    visit_id = response.json()["id"]

    response = api.post(f"{BASE}/visits/{visit_id}/images", {"kind": "target", "file": upload(scalp_png)})
    assert response.status_code == 201, response.content
    image = response.json()
    assert image["analysis"]["status"] == "done" and image["analysis"]["progress"] == 100
    assert image["analysis"]["automatic"]["hair_count"] > 0 and image["analysis"]["corrected"] is None

    again = api.post(f"{BASE}/visits/{visit_id}/images", {"kind": "target", "file": upload(scalp_png)})
    assert again.status_code == 200 and again.json()["id"] == image["id"]

    overlay = api.get(image["analysis"]["overlay_url"])
    assert overlay.status_code == 200 and overlay["Content-Type"] == "image/png"

    hair = image["analysis"]["automatic"]["hairs"][0]["id"]
    corrected = api.post(f"{BASE}/images/{image['id']}/corrections", {"removed": [hair], "added": [[1, 1, 30, 30]]},
                         content_type="application/json").json()
    assert corrected["analysis"]["corrected"]["hair_count"] == corrected["analysis"]["automatic"]["hair_count"]
    assert api.get(corrected["analysis"]["corrected_overlay_url"]).status_code == 200

    visit = api.get(f"{BASE}/visits/{visit_id}").json()
    m = visit["measurement"]
    assert m["is_corrected"] and m["density_per_cm2"] == pytest.approx(m["hair_count"] / m["field_area_cm2"])
    assert m["hair_count_auto"] == image["analysis"]["automatic"]["hair_count"]

    points = api.get(f"{BASE}/patients/{patient.pk}/measurements").json()
    assert [p["visit_id"] for p in points] == [visit_id] and points[0]["is_corrected"]


def test_global_assessments_by_patch(api_client, clinician, visit):
    api = api_client(clinician)
    response = api.patch(f"{BASE}/visits/{visit.pk}", {"investigator_global": 1, "patient_global": 2},
                         content_type="application/json")
    assert response.status_code == 200 and response.json()["patient_global"] == 2
    bad = api.patch(f"{BASE}/visits/{visit.pk}", {"patient_global": 9}, content_type="application/json")
    assert bad.status_code == 400 and "−3" in bad.json()["detail"]


def test_a_photo_upload_by_api(api_client, clinician, visit, scalp_png):
    api = api_client(clinician)
    response = api.post(f"{BASE}/visits/{visit.pk}/photos", {"view": "occipital", "file": upload(scalp_png)})
    assert response.status_code == 201 and response.json()["view"] == "occipital"
    assert api.get(response.json()["file_url"]).status_code == 200


def test_a_bad_file_gets_the_engines_message(api_client, clinician, visit):
    response = api_client(clinician).post(f"{BASE}/visits/{visit.pk}/images",
                                          {"file": upload(b"%PDF-1.7\n%%EOF", "scan.pdf", "application/pdf")})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_image" and "scan.pdf" in response.json()["detail"]
    assert not TrichogramImage.objects.exists()


def test_an_image_for_another_patients_visit_is_refused(api_client, clinician, visit, scalp_png, coordinator, clinic):
    from anagen.patients.services import patient_register

    other = patient_register(actor=coordinator, clinic=clinic, first_name="Olive", last_name="Other")
    response = api_client(clinician).post(f"{BASE}/visits/{visit.pk}/images",
                                          {"file": upload(scalp_png), "patient_id": other.pk})
    assert response.status_code == 400 and response.json()["code"] == "wrong_patient"
    assert not TrichogramImage.objects.exists()


def test_an_appointment_of_another_patient_is_refused(api_client, clinician, patient, coordinator, clinic):
    from datetime import datetime, timedelta, timezone

    from anagen.patients.services import patient_register
    from anagen.scheduling.models import Appointment

    other = patient_register(actor=coordinator, clinic=clinic, first_name="Olive", last_name="Other")
    start = datetime(2025, 3, 1, 10, tzinfo=timezone.utc)
    appt = Appointment.objects.create(clinic=clinic, patient=other, clinician=clinician, kind="follow_up",
                                      starts_at=start, ends_at=start + timedelta(minutes=30))
    response = api_client(clinician).post(f"{BASE}/visits", {"patient_id": patient.pk, "visit_date": "2025-03-01",
                                                             "appointment_id": appt.pk}, content_type="application/json")
    assert response.status_code == 400 and "another patient" in response.json()["detail"]
    assert not AssessmentVisit.objects.exists()


def test_another_clinics_records_are_404(api_client, clinician_b, analysed, scalp_png):
    api = api_client(clinician_b)
    assert api.get(f"{BASE}/visits/{analysed.visit_id}").status_code == 404
    assert api.get(f"{BASE}/images/{analysed.pk}").status_code == 404
    assert api.get(f"{BASE}/images/{analysed.pk}/overlay.png").status_code == 404
    assert api.post(f"{BASE}/visits/{analysed.visit_id}/images", {"file": upload(scalp_png)}).status_code == 404
    assert api.get(f"{BASE}/visits", {"patient_id": analysed.visit.patient_id}).status_code == 404
    assert TrichogramImage.objects.count() == 1


@pytest.mark.parametrize("persona", ["lab_scientist", "evaluator", "statistician", "stranger"])
def test_roles_without_access_get_403(request, api_client, persona, analysed):
    api = api_client(request.getfixturevalue(persona))
    assert api.get(f"{BASE}/images/{analysed.pk}").status_code == 403
    assert api.get(f"{BASE}/images/{analysed.pk}/file").status_code == 403
    assert api.get(f"{BASE}/visits/{analysed.visit_id}").status_code == 403


def test_a_coordinator_reads_the_visit_but_not_its_photographs_and_cannot_write(api_client, coordinator, analysed,
                                                                                 scalp_png, settings):
    api = api_client(coordinator)
    assert api.get(f"{BASE}/visits/{analysed.visit_id}").status_code == 200
    assert api.get(f"{BASE}/images/{analysed.pk}").status_code == 403
    assert api.get(f"{BASE}/images/{analysed.pk}/file").status_code == 403
    settings.ANAGEN_COORDINATORS_SEE_PHOTOS = True  # a clinic group's policy may allow it
    assert api.get(f"{BASE}/images/{analysed.pk}").status_code == 200
    assert api.post(f"{BASE}/visits/{analysed.visit_id}/images", {"file": upload(scalp_png)}).status_code == 403
    assert api.post(f"{BASE}/images/{analysed.pk}/corrections", {"removed": []},
                    content_type="application/json").status_code == 403


def test_no_token_no_access(client, analysed):
    assert client.get(f"{BASE}/images/{analysed.pk}").status_code == 401
