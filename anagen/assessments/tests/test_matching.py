"""A follow-up target-area image is matched hair by hair to the patient's baseline."""

from __future__ import annotations

from datetime import date

import pytest

from anagen.assessments.matching import visit_match_after_analysis, visit_match_confirm
from anagen.assessments.models import AnalysisStatus, VisitMatch
from anagen.assessments.services import trichogram_image_upload, visit_create
from anagen.core.errors import ActionError

from .conftest import png_bytes, upload


@pytest.fixture(scope="session")
def visit_pair():
    """A baseline and a follow-up of one target area: 8 kept, 2 lost, 2 new hairs (100 px/mm)."""
    from anagen.trichoscopy.synthetic import generate_visit_pair

    base, follow = generate_visit_pair(seed=6, n_hairs=10, lost=2, new=2, px_per_mm=100.0, shape=(240, 320),
                                       shift_px=(-6.0, 4.0))
    return png_bytes(base.image), png_bytes(follow.image), base.truth.notes


@pytest.fixture
def baseline_image(visit, device, clinician, visit_pair):
    image, _ = trichogram_image_upload(actor=clinician, visit=visit, file=upload(visit_pair[0], "baseline.png"))
    return image


@pytest.fixture
def followup_visit(patient, clinician):
    return visit_create(actor=clinician, patient=patient, visit_date=date(2025, 4, 10))


@pytest.fixture
def followup_image(baseline_image, followup_visit, clinician, visit_pair):
    image, _ = trichogram_image_upload(actor=clinician, visit=followup_visit, file=upload(visit_pair[1], "followup.png"))
    return image


def test_a_followup_is_matched_to_the_baseline_when_analysed(followup_image, baseline_image, visit_pair):
    from anagen.trichoscopy import ENGINE_VERSION

    match = VisitMatch.objects.get(followup_analysis__image=followup_image)
    assert match.baseline_analysis.image == baseline_image
    assert match.engine_version == ENGINE_VERSION
    notes = visit_pair[2]
    assert (match.kept, match.lost, match.new) == (len(notes["kept"]), len(notes["lost"]), len(notes["new"]))
    assert match.matched_change == match.new - match.lost == 0
    assert match.count_change == match.followup_count - match.baseline_count
    assert match.overlap_area_cm2 == pytest.approx(240 * 320 / 100**2 / 100, rel=0.1)
    assert len(match.result["pairs"]) == match.kept
    assert all(0 <= p["confidence"] <= 1 for p in match.result["pairs"])
    assert match.confirmed_at is None and match.change == match.matched_change


def test_baseline_images_and_patients_without_a_baseline_are_not_matched(baseline_image, patient, clinician, visit_pair,
                                                                          device):
    assert not VisitMatch.objects.exists()  # the baseline itself
    lone = visit_create(actor=clinician, patient=patient, visit_date=date(2024, 12, 1))  # before the baseline
    trichogram_image_upload(actor=clinician, visit=lone, file=upload(visit_pair[1], "early.png"))
    assert not VisitMatch.objects.exists()


def test_a_failed_match_leaves_the_analysis_done(baseline_image, followup_visit, clinician, visit_pair, monkeypatch, caplog):
    import anagen.trichoscopy as engine

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "match_visits", crash)
    image, _ = trichogram_image_upload(actor=clinician, visit=followup_visit, file=upload(visit_pair[1], "followup.png"))
    image.analysis.refresh_from_db()
    assert image.analysis.status == AnalysisStatus.DONE
    assert not VisitMatch.objects.exists()
    assert "matching analysis" in caplog.text
    monkeypatch.undo()
    assert visit_match_after_analysis(image.analysis.pk) is not None  # running it again works


def test_the_clinician_confirms_lost_and_new_hairs(followup_image, clinician, coordinator):
    match = VisitMatch.objects.get(followup_analysis__image=followup_image)
    lost_id = match.result["lost_hairs"][0]["hair_id"]
    confirmed = visit_match_confirm(actor=clinician, match=match, rejected_lost=[lost_id])
    assert confirmed.confirmed_change == match.matched_change + 1 == confirmed.change
    assert confirmed.confirmed_by == clinician and confirmed.rejected_lost == [lost_id]
    again = visit_match_confirm(actor=clinician, match=match)
    assert again.confirmed_change == match.matched_change and again.rejected_lost == []
    with pytest.raises(ActionError, match="No rejected new numbered 999"):
        visit_match_confirm(actor=clinician, match=match, rejected_new=[999])
    with pytest.raises(ActionError, match="hair numbers"):
        visit_match_confirm(actor=clinician, match=match, rejected_new=["x"])
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        visit_match_confirm(actor=coordinator, match=match)


def test_the_review_page_shows_both_images_and_saves_the_review(followup_image, login, clinician):
    client = login(clinician)
    url = f"/assessments/images/{followup_image.pk}/match"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    match = VisitMatch.objects.get(followup_analysis__image=followup_image)
    assert html.count('<svg class="match-image"') == 2 and 'name="rejected_lost"' in html and 'name="rejected_new"' in html
    assert "assessments/match.js" in html and "<script>" not in html
    new_id = match.result["new_hairs"][0]["hair_id"]
    resp = client.post(url, {"rejected_new": [str(new_id)]})
    assert resp.status_code == 302
    match.refresh_from_db()
    assert match.confirmed_change == match.matched_change - 1
    bad = client.post(url, {"rejected_new": ["9999"]})
    assert bad.status_code == 400 and "No rejected new numbered 9999" in bad.content.decode()
    detail = client.get(f"/assessments/images/{followup_image.pk}/").content.decode()
    assert f"/assessments/images/{followup_image.pk}/match" in detail


def test_the_review_page_without_a_match_says_why(baseline_image, login, clinician):
    html = login(clinician).get(f"/assessments/images/{baseline_image.pk}/match").content.decode()
    assert "This is the baseline visit" in html


@pytest.mark.parametrize("persona, get_status, post_status", [
    ("coordinator", 403, 403),  # no clinical photographs unless ANAGEN_COORDINATORS_SEE_PHOTOS
    ("admin_user", 200, 403), ("lab_scientist", 403, 403), ("evaluator", 403, 403),
    ("statistician", 403, 403), ("clinician_b", 404, 404),
])
def test_the_review_page_checks_role_and_clinic(followup_image, login, request, persona, get_status, post_status):
    client = login(request.getfixturevalue(persona))
    url = f"/assessments/images/{followup_image.pk}/match"
    assert client.get(url).status_code == get_status
    assert client.post(url, {}).status_code == post_status
    assert VisitMatch.objects.get(followup_analysis__image=followup_image).confirmed_at is None


def test_the_api_gives_the_match_and_takes_the_review(followup_image, baseline_image, api_client, clinician):
    client = api_client(clinician)
    url = f"/api/v1/assessments/images/{followup_image.pk}/match"
    data = client.get(url).json()
    for key in ("kept", "lost", "new", "matched_change", "count_change", "change", "change_used", "result"):
        assert key in data
    assert data["change_used"] == "matched" and data["baseline_image_id"] == baseline_image.pk
    lost_id = data["result"]["lost_hairs"][0]["hair_id"]
    reviewed = client.post(url, {"rejected_lost": [lost_id]}, content_type="application/json")
    assert reviewed.status_code == 200
    assert reviewed.json()["confirmed_change"] == data["matched_change"] + 1
    assert reviewed.json()["change_used"] == "matched (confirmed)"
    bad = client.post(url, {"rejected_lost": [12345]}, content_type="application/json")
    assert bad.status_code == 400 and "12345" in bad.json()["detail"]
    assert client.get(f"/api/v1/assessments/images/{baseline_image.pk}/match").status_code == 404


@pytest.mark.parametrize("persona, status", [("lab_scientist", 403), ("evaluator", 403), ("clinician_b", 404)])
def test_the_api_checks_role_and_clinic(followup_image, api_client, request, persona, status):
    client = api_client(request.getfixturevalue(persona))
    url = f"/api/v1/assessments/images/{followup_image.pk}/match"
    assert client.get(url).status_code == status
    assert client.post(url, {}, content_type="application/json").status_code == status


def test_the_coordinator_reads_but_cannot_review_through_the_api_where_photographs_are_allowed(
        followup_image, api_client, coordinator, settings):
    client = api_client(coordinator)
    url = f"/api/v1/assessments/images/{followup_image.pk}/match"
    assert client.get(url).status_code == 403  # no clinical photographs by default
    settings.ANAGEN_COORDINATORS_SEE_PHOTOS = True
    assert client.get(url).status_code == 200
    assert client.post(url, {}, content_type="application/json").status_code == 403


def test_correcting_the_followup_matches_it_again_and_clears_the_review(followup_image, clinician):
    from anagen.assessments.services import trichogram_analysis_correct

    match = VisitMatch.objects.get(followup_analysis__image=followup_image)
    visit_match_confirm(actor=clinician, match=match, rejected_lost=[match.result["lost_hairs"][0]["hair_id"]])
    analysis = followup_image.analysis
    analysis.refresh_from_db()
    new_id = match.result["new_hairs"][0]["hair_id"]
    trichogram_analysis_correct(actor=clinician, analysis=analysis, removed=[new_id])
    again = VisitMatch.objects.get(followup_analysis__image=followup_image)
    assert again.confirmed_at is None and again.rejected_lost == []
    assert again.new == match.new - 1  # the removed hair is no longer new
    assert new_id not in [f["hair_id"] for f in again.result["new_hairs"]]


def test_correcting_the_baseline_matches_its_followups_again(followup_image, baseline_image, clinician):
    from anagen.assessments.services import trichogram_analysis_correct

    match = VisitMatch.objects.get(followup_analysis__image=followup_image)
    lost_id = match.result["lost_hairs"][0]["hair_id"]
    analysis = baseline_image.analysis
    analysis.refresh_from_db()
    trichogram_analysis_correct(actor=clinician, analysis=analysis, removed=[lost_id])
    again = VisitMatch.objects.get(followup_analysis__image=followup_image)
    assert again.lost == match.lost - 1


def test_a_match_of_different_areas_is_shown_but_not_used(followup_image, login, api_client, clinician):
    match = VisitMatch.objects.get(followup_analysis__image=followup_image)
    match.result = {**match.result, "same_area": False}
    match.save()
    html = login(clinician).get(f"/assessments/images/{followup_image.pk}/match").content.decode()
    assert "do not seem to show the same target area" in html and "(not used)" in html
    data = api_client(clinician).get(f"/api/v1/assessments/images/{followup_image.pk}/match").json()
    assert data["same_area"] is False and data["change_used"] == "independent counts"
    from anagen.assessments.selectors import visit_matches

    assert visit_matches([followup_image.visit_id]) == {}


def test_the_synthetic_followup_shows_the_same_area(followup_image):
    match = VisitMatch.objects.get(followup_analysis__image=followup_image)
    assert match.same_area and match.result["linked"] >= 0.4 * match.baseline_count
    from anagen.assessments.selectors import visit_matches

    assert visit_matches([followup_image.visit_id]) == {followup_image.visit_id: match}


def test_a_baseline_uploaded_after_the_followup_gets_it_matched(visit, device, followup_visit, clinician, visit_pair):
    follow, _ = trichogram_image_upload(actor=clinician, visit=followup_visit, file=upload(visit_pair[1], "followup.png"))
    assert not VisitMatch.objects.exists()
    base, _ = trichogram_image_upload(actor=clinician, visit=visit, file=upload(visit_pair[0], "baseline.png"))
    match = VisitMatch.objects.get()
    assert match.followup_analysis.image == follow and match.baseline_analysis.image == base


def test_voiding_the_baseline_image_stops_its_matches_counting(followup_image, baseline_image, clinician, visit, visit_pair):
    from anagen.assessments.selectors import visit_matches
    from anagen.assessments.services import trichogram_image_void
    from anagen.trichoscopy.synthetic import generate_visit_pair

    assert followup_image.visit_id in visit_matches([followup_image.visit_id])
    trichogram_image_void(actor=clinician, image=baseline_image, reason="wrong patient's photograph")
    assert visit_matches([followup_image.visit_id]) == {}
    # Another photograph of the baseline area: the follow-up is matched to it once it is analysed.
    again, _ = generate_visit_pair(seed=6, n_hairs=10, lost=2, new=2, px_per_mm=100.0, shape=(240, 320),
                                   shift_px=(-6.0, 4.0))
    retake = png_bytes(again.image[:, ::1].copy() // 2 * 2)  # different bytes, same field
    other, _ = trichogram_image_upload(actor=clinician, visit=visit, file=upload(retake, "retake.png"))
    match = VisitMatch.objects.get(followup_analysis__image=followup_image)
    assert match.baseline_analysis.image == other
    assert followup_image.visit_id in visit_matches([followup_image.visit_id])
