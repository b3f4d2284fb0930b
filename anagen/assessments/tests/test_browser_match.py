"""Browser journey: a follow-up image is matched to the baseline and the clinician reviews it."""

from __future__ import annotations

from datetime import date

import pytest

from anagen.assessments.models import VisitMatch
from anagen.assessments.services import trichogram_image_upload, visit_create

from .conftest import upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def visit_pair_pngs():
    from anagen.trichoscopy.synthetic import generate_visit_pair

    from .conftest import png_bytes

    base, follow = generate_visit_pair(seed=6, n_hairs=10, lost=2, new=2, px_per_mm=100.0, shape=(240, 320),
                                       shift_px=(-6.0, 4.0))
    return png_bytes(base.image), png_bytes(follow.image)


def test_clinician_reviews_lost_and_new_hairs_side_by_side(page, browser_login, clinician, visit, device, patient,
                                                           visit_pair_pngs, tmp_path):
    trichogram_image_upload(actor=clinician, visit=visit, file=upload(visit_pair_pngs[0], "baseline.png"))
    followup = visit_create(actor=clinician, patient=patient, visit_date=date(2025, 4, 10), weeks_after_last_session=12)
    target = tmp_path / "followup.png"
    target.write_bytes(visit_pair_pngs[1])

    browser_login(clinician)
    page.goto(f"/assessments/visits/{followup.pk}/")
    page.set_input_files("#image_file", str(target))
    page.click("text=Upload and analyse")
    page.wait_for_url("**/assessments/images/*/")
    page.locator("#visit-match").wait_for()
    page.shot("analysed-and-matched")
    page.click("text=review side by side")
    page.wait_for_url("**/match")
    assert page.locator("svg.match-image").count() == 2
    match = VisitMatch.objects.get()
    assert page.locator("svg.match-image").first.locator("g.pair").count() >= 1
    page.shot("side-by-side")

    # Clicking a lost hair's label in the baseline image ticks its "reject" box (it is still there).
    lost_id = match.result["lost_hairs"][0]["hair_id"]
    page.locator(f'g[data-group="lost-{lost_id}"] text').click()
    assert page.is_checked(f'input[name="rejected_lost"][value="{lost_id}"]')
    page.click("text=Confirm the review")
    page.locator("text=Review saved").wait_for()
    page.shot("confirmed")
    match.refresh_from_db()
    assert match.rejected_lost == [lost_id] and match.confirmed_change == match.matched_change + 1
    assert "confirmed" in page.inner_text("#matched-change")

    page.goto(f"/outcomes/patients/{patient.pk}/")
    page.locator("text=matched (confirmed)").first.wait_for()
    page.shot("timeline")
    assert f"change from baseline {match.confirmed_change:+d} hairs, matched (confirmed)" in page.content()
