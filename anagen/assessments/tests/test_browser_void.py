"""Browser journey: a clinician analyses an image again with another device profile, then voids it."""

from __future__ import annotations

import pytest

from anagen.assessments.models import DeviceProfile, Measurement
from tests.browser.a11y import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1366, "height": 900}, "tablet": {"width": 820, "height": 1180}}


def shots(page, name):
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.shot(f"{name}-{size}")  # (puts the window back to its usual width afterwards)


def test_clinician_reanalyses_an_image_with_another_profile_then_voids_it(page, browser_login, clinician, clinic,
                                                                          analysed):
    loupe = DeviceProfile.objects.create(clinic=clinic, name="Room 3 loupe", engine_profile="default", px_per_mm=50.0)
    area_before = Measurement.objects.get(visit=analysed.visit).field_area_cm2
    browser_login(clinician)
    page.goto(f"/assessments/images/{analysed.pk}/")
    assert_accessible(page)
    shots(page, "image")
    page.select_option("#reanalyse-device", str(loupe.pk))
    page.fill("#reanalyse-reason", "Taken with the Room 3 loupe")
    page.click("#reanalyse-form button[type=submit]")
    page.locator("text=Earlier results of this image").wait_for()
    assert_accessible(page)
    shots(page, "reanalysed")
    assert Measurement.objects.get(visit=analysed.visit).field_area_cm2 == pytest.approx(area_before * 4)

    page.click("#void-form button[type=submit]")  # no reason: the browser asks for one, nothing is sent
    assert page.locator("#void-reason:invalid").count() == 1
    page.fill("#void-reason", "Another patient's photograph")
    page.click("#void-form button[type=submit]")
    page.locator("text=Image voided").wait_for()
    assert_accessible(page)
    shots(page, "voided")
    assert page.locator("h1 .badge", has_text="voided").is_visible()
    assert Measurement.objects.get(visit=analysed.visit).hair_count is None
