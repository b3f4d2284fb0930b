"""Assessment pages: who sees what, uploads, progress and corrections through the browser forms."""

from __future__ import annotations

import pytest
from django.urls import reverse

from anagen.assessments.models import AssessmentVisit, GlobalPhoto, Measurement, TrichogramImage

from .conftest import upload


def visit_url(visit):
    return reverse("assessments:visit", kwargs={"pk": visit.pk})


def image_url(image, name="assessments:image"):
    return reverse(name, kwargs={"pk": image.pk})


def test_a_clinician_opens_a_visit_from_the_patient(login, clinician, patient):
    client = login(clinician)
    url = reverse("assessments:patient_visits", kwargs={"patient_id": patient.pk})
    assert client.get(url).status_code == 200
    response = client.post(url, {"visit_date": "2025-02-01", "is_baseline": "on", "notes": "Tattoo dot placed."})
    visit = AssessmentVisit.objects.get(patient=patient)
    assert response.status_code == 302 and response["Location"] == visit_url(visit)
    assert visit.is_baseline and visit.performed_by == clinician and visit.clinic == patient.clinic


def test_a_visit_date_in_the_future_is_refused_with_a_message(login, clinician, patient):
    url = reverse("assessments:patient_visits", kwargs={"patient_id": patient.pk})
    response = login(clinician).post(url, {"visit_date": "2999-01-01"})
    assert response.status_code == 400 and "in the future" in response.content.decode()
    assert not AssessmentVisit.objects.exists()


def test_the_visit_page_shows_measurement_photos_and_history(login, clinician, analysed):
    body = login(clinician).get(visit_url(analysed.visit)).content.decode()
    assert "Measurement" in body and "Global photographs" in body and "History" in body
    assert "Upload and analyse" in body and "Vertex" in body
    assert str(Measurement.objects.get(visit=analysed.visit_id).hair_count) in body


def test_the_patient_page_links_to_the_visits(login, clinician, analysed):
    response = login(clinician).get(reverse("patients:detail", kwargs={"pk": analysed.visit.patient_id}))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Assessment visits" in body and visit_url(analysed.visit) in body


def test_uploading_an_image_redirects_to_its_analysis(login, clinician, visit, device, scalp_png):
    client = login(clinician)
    response = client.post(reverse("assessments:image_upload", kwargs={"pk": visit.pk}),
                           {"kind": "target", "file": upload(scalp_png)})
    image = TrichogramImage.objects.get(visit=visit)
    assert response.status_code == 302 and response["Location"] == image_url(image)
    page = client.get(image_url(image)).content.decode()
    assert "Automatic result" in page and "Correct the count" in page and 'name="removed"' in page
    status = client.get(image_url(image, "assessments:image_status")).json()
    assert status["status"] == "done" and status["progress"] == 100 and status["finished"]
    overlay = client.get(image_url(image, "assessments:image_overlay"))
    assert overlay.status_code == 200 and overlay["Content-Type"] == "image/png"


def test_a_text_file_renamed_jpg_shows_the_engines_message(login, clinician, visit):
    response = login(clinician).post(reverse("assessments:image_upload", kwargs={"pk": visit.pk}),
                                     {"kind": "target", "file": upload(b"hello" * 50, "scalp.jpg", "image/jpeg")})
    assert response.status_code == 400
    assert "scalp.jpg: not an image (JPEG, PNG or TIFF expected)." in response.content.decode()
    assert not TrichogramImage.objects.exists()


def test_a_pdf_photo_shows_the_engines_message(login, clinician, visit):
    response = login(clinician).post(reverse("assessments:photo_upload", kwargs={"pk": visit.pk}),
                                     {"view": "frontal", "file": upload(b"%PDF-1.4\n%%EOF\n", "photo.pdf", "application/pdf")})
    assert response.status_code == 400 and "photo.pdf" in response.content.decode()
    assert not GlobalPhoto.objects.exists()


def test_a_photo_upload_is_shown_by_view(login, clinician, visit, scalp_png):
    client = login(clinician)
    response = client.post(reverse("assessments:photo_upload", kwargs={"pk": visit.pk}),
                           {"view": "frontal", "file": upload(scalp_png, "front.png")})
    assert response.status_code == 302
    photo = GlobalPhoto.objects.get(visit=visit)
    assert photo.view == "frontal"
    assert reverse("assessments:photo_file", kwargs={"pk": photo.pk}) in client.get(visit_url(visit)).content.decode()
    assert client.get(reverse("assessments:photo_file", kwargs={"pk": photo.pk})).status_code == 200


def test_corrections_by_form_remove_by_number_and_add_typed_segments(login, clinician, analysed):
    client = login(clinician)
    auto = analysed.analysis.automatic
    first = auto["hairs"][0]["id"]
    response = client.post(image_url(analysed, "assessments:image_correct"),
                           {"removed": [str(first)], "added": "5,5,40,30\n50,60,90,100"})
    assert response.status_code == 302
    analysed.analysis.refresh_from_db()
    assert analysed.analysis.corrected["hair_count"] == auto["hair_count"] + 1
    page = client.get(image_url(analysed)).content.decode()
    assert "Corrected result" in page and "5,5,40,30" in page
    assert client.get(image_url(analysed, "assessments:image_overlay") + "?corrected=1").status_code == 200


def test_a_malformed_added_line_is_named(login, clinician, analysed):
    response = login(clinician).post(image_url(analysed, "assessments:image_correct"), {"added": "5,5,40"})
    assert response.status_code == 400 and "Line 1" in response.content.decode()
    analysed.analysis.refresh_from_db()
    assert analysed.analysis.corrected is None


def test_the_global_assessment_form_saves_the_scale(login, clinician, visit):
    response = login(clinician).post(reverse("assessments:visit_update", kwargs={"pk": visit.pk}),
                                     {"investigator_global": "2", "patient_global": "-1",
                                      "adverse_events_since_last_visit": "None"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert (visit.investigator_global, visit.patient_global) == (2, -1)


def test_a_coordinator_reads_the_visit_without_photographs_and_cannot_change(login, coordinator, analysed, scalp_png,
                                                                             settings):
    client = login(coordinator)
    visit_page = client.get(visit_url(analysed.visit))
    assert visit_page.status_code == 200
    assert reverse("assessments:image", kwargs={"pk": analysed.pk}) not in visit_page.content.decode()
    assert client.get(image_url(analysed)).status_code == 403
    assert client.get(image_url(analysed, "assessments:image_file")).status_code == 403
    assert client.get(image_url(analysed, "assessments:image_overlay")).status_code == 403
    settings.ANAGEN_COORDINATORS_SEE_PHOTOS = True  # a clinic group's policy may allow it
    body = client.get(image_url(analysed)).content.decode()
    assert "Correct the count" not in body
    assert client.get(image_url(analysed, "assessments:image_file")).status_code == 200
    assert client.post(reverse("assessments:image_upload", kwargs={"pk": analysed.visit_id}),
                       {"kind": "target", "file": upload(scalp_png)}).status_code == 403
    assert client.post(image_url(analysed, "assessments:image_correct"), {"removed": ["1"]}).status_code == 403
    assert client.post(reverse("assessments:visit_update", kwargs={"pk": analysed.visit_id}),
                       {"investigator_global": "1"}).status_code == 403


@pytest.mark.parametrize("persona", ["lab_scientist", "evaluator", "statistician", "stranger"])
def test_roles_without_access_to_photographs_get_403(request, login, persona, analysed):
    client = login(request.getfixturevalue(persona))
    for url in (visit_url(analysed.visit), image_url(analysed), image_url(analysed, "assessments:image_file"),
                image_url(analysed, "assessments:image_overlay"), image_url(analysed, "assessments:image_status"),
                reverse("assessments:patient_visits", kwargs={"patient_id": analysed.visit.patient_id})):
        assert client.get(url).status_code == 403, url


def test_another_clinics_staff_get_404(login, clinician_b, coordinator_b, analysed):
    for user in (clinician_b, coordinator_b):
        client = login(user)
        for url in (visit_url(analysed.visit), image_url(analysed), image_url(analysed, "assessments:image_file"),
                    image_url(analysed, "assessments:image_status"),
                    reverse("assessments:patient_visits", kwargs={"patient_id": analysed.visit.patient_id})):
            assert client.get(url).status_code == 404, url
    assert login(clinician_b).post(image_url(analysed, "assessments:image_correct"), {"removed": ["1"]}).status_code == 404


def test_an_anonymous_visitor_is_sent_to_login(client, analysed):
    response = client.get(visit_url(analysed.visit))
    assert response.status_code == 302 and "/login/" in response["Location"]
