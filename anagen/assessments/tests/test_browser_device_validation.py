"""Browser journey: a clinician reads the device's validation report, fits an adjustment and
activates it with a reason; the page is accessible at desktop and tablet width."""

from __future__ import annotations

import pytest

from anagen.assessments.models import DeviceAdjustment
from tests.browser.a11y import assert_accessible

from .test_device_validation import _references

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1366, "height": 900}, "tablet": {"width": 820, "height": 1180}}


def shots(page, name):
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.shot(f"{name}-{size}")


def test_clinician_fits_and_activates_a_device_adjustment(page, browser_login, clinician, visit, device):
    _references(visit, device, clinician)
    browser_login(clinician)
    page.goto(f"/assessments/devices/{device.pk}/validation/")
    main = page.inner_text("main")
    assert "Engine" in main and "12 references" in main
    assert page.locator('figure img[src^="data:image/svg"]').count() >= 1  # the Bland-Altman plot
    assert_accessible(page)
    shots(page, "report")

    page.click("form.fit-form button[type=submit]")
    page.locator("#adjustment-1").wait_for()
    adjustment = DeviceAdjustment.objects.get(device=device)
    assert adjustment.version == 1 and not adjustment.is_active and adjustment.n == 12
    page.fill(f"#reason-{adjustment.pk}", "Twelve corrected images of this dermoscope agree with the fit")
    page.check(f"#adjustment-{adjustment.version} input[name=confirm]")
    page.click(f"#adjustment-{adjustment.version} button[type=submit]")
    page.locator(f"#adjustment-{adjustment.version} .badge.ok").wait_for()
    adjustment.refresh_from_db()
    assert adjustment.is_active and adjustment.activated_by == clinician
    assert_accessible(page)
    shots(page, "activated")
