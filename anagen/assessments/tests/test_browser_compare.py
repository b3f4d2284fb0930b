"""Browser journey: a clinician opens the timeline, goes to before and after, and compares two
visits side by side, with the slider and the blink; desktop and tablet screenshots."""

from __future__ import annotations

from datetime import date

import pytest

from anagen.demo.assessments import draw_global_photo
from tests.browser.a11y import assert_accessible
from tests.browser.waiting import until

from .conftest import upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1366, 900), "tablet": (820, 1180)}


def test_clinician_compares_two_visits_side_by_side(page, browser_login, clinician, patient, visit, analysed):
    from anagen.assessments.services import global_photo_upload, visit_create

    later = visit_create(actor=clinician, patient=patient, visit_date=date(2025, 7, 10), weeks_after_last_session=24)
    middle = visit_create(actor=clinician, patient=patient, visit_date=date(2025, 4, 10), weeks_after_last_session=12)
    for v, density in ((visit, 55.0), (middle, 90.0), (later, 140.0)):
        for view in ("vertex", "frontal"):
            global_photo_upload(actor=clinician, visit=v, view=view,
                                file=upload(draw_global_photo(view, density, seed=2), f"{view}.jpg", "image/jpeg"))

    browser_login(clinician)
    page.goto(f"/outcomes/patients/{patient.pk}/")
    assert page.locator(".timeline-thumbs img").count() == 3 * 2 + 1  # two views each, and the target area
    assert_accessible(page)
    page.locator("#timeline-h").scroll_into_view_if_needed()
    page.shot("timeline")
    page.click("text=Before and after")
    page.wait_for_url(f"**/assessments/patients/{patient.pk}/compare/")
    # baseline and the latest visit by default
    assert page.locator("#compare-a option:checked").inner_text().startswith("10/01/2025")
    assert page.locator("#compare-b option:checked").inner_text().startswith("10/07/2025")
    vertex = page.locator('[data-compare="photo-vertex"]')
    assert vertex.locator("img").count() == 2
    boxes = [vertex.locator(f".compare-{s} img").bounding_box() for s in "ab"]
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"]  # side by side
    assert_accessible(page)
    for name, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        assert page.evaluate("document.documentElement.scrollWidth") <= w
        page.shot(f"side-by-side-{name}")

    # Slider: B stacked over A, wiped from the left by the range.
    vertex.locator("button", has_text="Slider").click()
    boxes = [vertex.locator(f".compare-{s} img").bounding_box() for s in "ab"]
    assert abs(boxes[0]["x"] - boxes[1]["x"]) < 1 and abs(boxes[0]["y"] - boxes[1]["y"]) < 1
    vertex.locator("input[type=range]").fill("80")
    assert "20%" in vertex.locator(".compare-b").evaluate("el => el.style.clipPath")
    assert_accessible(page)
    page.shot("slider")

    # Blink: A and B alternate in the same place.
    vertex.locator("button", has_text="Blink").click()
    until(page, "document.querySelector('[data-compare=\"photo-vertex\"]').classList.contains('show-b')")
    assert vertex.locator(".compare-now").inner_text() == "Showing B"
    page.shot("blink")

    # Another pair of visits: the middle one against the latest.
    page.select_option("#compare-a", str(middle.pk))
    page.click("button:has-text('Compare')")
    page.wait_for_url(f"**/compare/?a={middle.pk}&b={later.pk}")
    assert "week 12" in page.locator('[data-compare="photo-vertex"] .compare-a figcaption').inner_text()
    page.shot("middle-and-latest")
