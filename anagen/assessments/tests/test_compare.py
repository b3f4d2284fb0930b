"""Before and after: two visits' photographs by view and target areas side by side, who may see
them, and the pictures at the visits' points of the timeline."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from anagen.demo.assessments import draw_global_photo

from .conftest import upload


def compare_url(patient, **query):
    url = reverse("assessments:compare", kwargs={"patient_id": patient.pk})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def later(patient, clinician):
    from anagen.assessments.services import visit_create

    return visit_create(actor=clinician, patient=patient, visit_date=date(2025, 7, 10), weeks_after_last_session=24)


@pytest.fixture
def photographed(visit, later, clinician):
    """The baseline and a later visit, each with a vertex photograph; only the later one has a frontal."""
    from anagen.assessments.services import global_photo_upload

    photos = {}
    for v, density in ((visit, 60.0), (later, 120.0)):
        data = draw_global_photo("vertex", density, seed=1)
        photos[(v.pk, "vertex")], _ = global_photo_upload(actor=clinician, visit=v, view="vertex",
                                                          file=upload(data, "vertex.jpg", "image/jpeg"))
    photos[(later.pk, "frontal")], _ = global_photo_upload(
        actor=clinician, visit=later, view="frontal",
        file=upload(draw_global_photo("frontal", 120.0, seed=1), "frontal.jpg", "image/jpeg"))
    return photos


def test_the_clinician_sees_baseline_and_latest_side_by_side(login, clinician, patient, visit, later, photographed):
    response = login(clinician).get(compare_url(patient))
    assert response.status_code == 200
    cmp = response.context["cmp"]
    assert (cmp.a, cmp.b) == (visit, later)
    assert [p.key for p in cmp.pairs] == ["photo-vertex", "photo-frontal"]
    vertex, frontal = cmp.pairs
    assert vertex.a.url == reverse("assessments:photo_file", kwargs={"pk": photographed[(visit.pk, "vertex")].pk})
    assert vertex.b.url == reverse("assessments:photo_file", kwargs={"pk": photographed[(later.pk, "vertex")].pk})
    assert frontal.a is None and frontal.b is not None
    body = response.content.decode()
    assert "No photograph at this visit" in body and "assessments/compare.js" in body
    assert "<script>" not in body and 'style="' not in body.split("<main", 1)[-1]


def test_any_two_visits_can_be_chosen_and_the_target_areas_are_paired(login, clinician, patient, visit, later,
                                                                       analysed):
    response = login(clinician).get(compare_url(patient, a=later.pk, b=visit.pk))
    cmp = response.context["cmp"]
    assert (cmp.a, cmp.b) == (later, visit)
    target = next(p for p in cmp.pairs if p.key == "target")
    assert target.a is None
    assert target.b.url == reverse("assessments:image_file", kwargs={"pk": analysed.pk})
    assert target.b.overlay_url.startswith(reverse("assessments:image_overlay", kwargs={"pk": analysed.pk}))


def test_a_visit_of_another_patient_is_404_and_a_bad_choice_is_a_clear_400(login, clinician, patient, visit,
                                                                          later, visit_b):
    client = login(clinician)
    assert client.get(compare_url(patient, a=visit.pk, b=visit_b.pk)).status_code == 404
    response = client.get(compare_url(patient, a="first"))
    assert response.status_code == 400
    assert "Choose visit A from the list" in response.content.decode()


def test_one_visit_only_says_two_are_needed(login, clinician, patient, visit):
    body = login(clinician).get(compare_url(patient)).content.decode()
    assert "needs two assessment visits" in body


def test_other_clinic_is_404(login, clinician_b, patient, visit):
    assert login(clinician_b).get(compare_url(patient)).status_code == 404


@pytest.mark.parametrize("persona", ["lab_scientist", "evaluator", "statistician"])
def test_roles_without_photographs_are_403(request, login, persona, patient, visit):
    user = request.getfixturevalue(persona)
    assert login(user).get(compare_url(patient)).status_code == 403


def test_a_coordinator_sees_the_photographs_only_where_the_clinic_allows_it(login, coordinator, patient, visit, later,
                                                                             settings):
    assert login(coordinator).get(compare_url(patient)).status_code == 403
    settings.ANAGEN_COORDINATORS_SEE_PHOTOS = True
    assert login(coordinator).get(compare_url(patient)).status_code == 200


def test_the_chart_and_the_timeline_link_to_the_comparison(login, clinician, patient, visit, later, photographed):
    client = login(clinician)
    url = compare_url(patient)
    assert url in client.get(reverse("patients:detail", kwargs={"pk": patient.pk})).content.decode()
    body = client.get(reverse("outcomes:patient", kwargs={"pk": patient.pk})).content.decode()
    assert url in body
    # the timeline shows each visit's pictures at its point
    later_vertex = reverse("assessments:photo_file", kwargs={"pk": photographed[(later.pk, "vertex")].pk})
    assert f'src="{later_vertex}"' in body


def test_the_timeline_api_carries_the_pictures(login, clinician, patient, visit, later, photographed):
    data = login(clinician).get(f"/api/v1/outcomes/patients/{patient.pk}/timeline").json()
    assessment = [e for e in data["events"] if e["kind"] == "assessment"]
    assert [len(e["images"]) for e in assessment] == [1, 2]
    assert [i["kind"] for i in assessment[1]["images"]] == ["vertex", "frontal"]


def test_the_drawn_demo_photograph_has_fewer_hair_strokes_when_thinner():
    import io

    import numpy as np
    from PIL import Image

    def dark_share(density):
        pixels = np.asarray(Image.open(io.BytesIO(draw_global_photo("vertex", density, seed=5))).convert("L"))
        return float((pixels < 90).mean())

    assert dark_share(50.0) < dark_share(150.0)


def test_a_visit_page_links_to_itself_against_the_baseline(login, clinician, patient, visit, later):
    client = login(clinician)
    body = client.get(reverse("assessments:visit", kwargs={"pk": later.pk})).content.decode()
    url = compare_url(patient, b=later.pk)
    assert url in body
    cmp = client.get(url).context["cmp"]
    assert (cmp.a, cmp.b) == (visit, later)
