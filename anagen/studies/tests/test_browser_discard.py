"""A spoiled syringe in Chromium: the unblinded pharmacist discards side L's syringe with a reason
and fills a new one; the blinded injector then sees that a syringe was discarded, never why or
what it held. Screenshots at desktop and tablet width land in test-artifacts/browser/."""

from __future__ import annotations

import pytest

from . import delivery_fixtures as fx
from .test_delivery import split  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 820, "height": 1180}


def test_the_pharmacist_discards_and_refills_and_the_injector_sees_no_reason(page, browser_login, split, pharmacist,
                                                                            clinician):
    study, subject, lots = split
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    active = subject.allocation.arm_code
    browser_login(pharmacist)
    page.goto(f"/studies/{study.pk}/subjects/{subject.pk}/treatment")
    page.click(f"summary:text(\"Discard 'study product, side {active}'\")")
    page.fill(f"#id_discard_{active}-reason", "Dropped while labelling")
    page.shot("discard-open")
    page.click(f"button:text(\"Discard 'study product, side {active}'\")")
    page.wait_for_load_state()
    assert "is discarded" in page.locator(".messages, main").first.inner_text()
    row = page.locator("#syringes-baseline tr.discarded")
    assert row.count() == 1 and "Dropped while labelling" in row.inner_text()
    page.select_option(f"#id_refill_{active}-lot", index=1)
    page.fill(f"#id_refill_{active}-quantity", "3.5")
    page.shot("refill-form")
    page.click("button:text('Fill and label the new syringe')")
    page.wait_for_load_state()
    assert page.locator("#syringes-baseline tbody tr.discarded").count() == 1
    assert f"A new 'study product, side {active}' is filled" in page.content()
    page.shot("after-refill")
    page.set_viewport_size(TABLET)
    page.shot("after-refill-tablet")

    page.context.clear_cookies()
    browser_login(clinician)
    page.goto(f"/studies/{study.pk}/subjects/{subject.pk}/treatment")
    text = page.locator("main").inner_text()
    assert "Discarded" in text and "Dropped while labelling" not in text
    assert not any(s in page.content() for s in fx.SECRETS)
    assert "Discard 'study product" not in text and "Fill a new syringe" not in text
    page.shot("injector-view")
