"""Browser journey: a clinician uploads a phototrichogram, sees the overlay and corrects the count."""

from __future__ import annotations

import pytest

from anagen.assessments.models import Measurement, TrichogramAnalysis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_uploads_an_image_and_corrects_the_count_on_the_overlay(page, browser_login, clinician, visit, device,
                                                                         scalp_png, tmp_path):
    target = tmp_path / "target.png"
    target.write_bytes(scalp_png)
    browser_login(clinician)
    page.goto(f"/assessments/visits/{visit.pk}/")
    page.shot("visit")
    page.set_input_files("#image_file", str(target))
    page.click("text=Upload and analyse")
    page.wait_for_url("**/assessments/images/*/")
    page.locator("#overlay").wait_for()
    page.shot("analysis")
    analysis = TrichogramAnalysis.objects.get(image__visit=visit)
    auto_count = analysis.automatic["hair_count"]

    # Two clicks on the overlay: the two ends of a missed hair.
    box = page.locator("#overlay").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1)
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.2)
    line = page.input_value("#id_added")
    assert len(line.split(",")) == 4
    first_hair = analysis.automatic["hairs"][0]["id"]
    page.check(f'input[name="removed"][value="{first_hair}"]')
    page.click("text=Save correction")
    page.locator("text=Corrected result").wait_for()
    page.shot("corrected")

    m = Measurement.objects.get(visit=visit)
    assert m.is_corrected and m.hair_count == auto_count and m.hair_count_auto == auto_count
    analysis.refresh_from_db()
    assert analysis.corrected["hair_count"] == auto_count  # one removed, one added
    assert analysis.automatic["hair_count"] == auto_count
