"""Browser journey: a visitor takes the self-check, reads what a consultation would look at, and
requests a consultation; the coordinator reads the answers in the inbox. Desktop and tablet
screenshots, and axe-core on every page visited."""

from __future__ import annotations

import pytest

from anagen.intake.models import Inquiry
from tests.browser.a11y import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1366, 900), "tablet": (820, 1180)}


@pytest.fixture
def rules_v1(db):
    # Transactional tests empty the tables between tests, seeded rules included: put version 1 back.
    from anagen.screening.models import RuleSet
    from anagen.screening.rules import seed_rules

    return RuleSet.objects.get_or_create(version=1, defaults={"rules": seed_rules(), "is_active": True})[0]


def _shots(page, name):
    for size, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        assert page.evaluate("document.documentElement.scrollWidth") <= w
        page.shot(f"{name}-{size}")


def test_a_visitor_takes_the_self_check_and_requests_a_consultation(page, browser_login, rules_v1, clinic,
                                                                    coordinator):
    page.goto("/")
    page.click("text=Am I a candidate? Take the self-check")
    page.wait_for_url("**/self-check/")
    assert_accessible(page)
    _shots(page, "questions")
    page.get_by_label("Both receding and thinning").check()
    page.get_by_label("A man").check()
    page.get_by_label("18 to 69").check()
    for question in ("Is the area you most want to treat completely bald", "Have you been told",
                     "Are you being treated for cancer", "Do you have a bleeding disorder"):
        fieldset = page.locator("fieldset", has_text=question)
        fieldset.get_by_label("Yes" if question.startswith("Have you been told") else "No", exact=True).check()
    page.locator("fieldset", has_text="Do you take blood thinners").get_by_label("Not sure").check()
    page.click("text=See what a consultation would look at")
    page.locator("text=What a consultation would look at").wait_for()
    outcome = page.locator(".self-check-outcome").inner_text()
    assert "You're receding or thinning." in outcome
    assert "You've been told you're not a good candidate for a transplant." in outcome
    assert "Do you take blood thinners" in outcome and "not a diagnosis" in outcome
    assert_accessible(page)
    _shots(page, "outcome")

    page.fill("#id_name", "Omar Osei")
    page.fill("#id_email", "omar@example.test")
    page.select_option("#id_preferred_clinic", str(clinic.pk))
    page.check("#id_consent_to_contact")
    page.click("text=Request my consultation")
    page.wait_for_url("**/thanks/**")
    assert_accessible(page)
    inquiry = Inquiry.objects.get()
    assert inquiry.self_check["answers"]["pattern"] == "both" and inquiry.preferred_clinic == clinic

    browser_login(coordinator)
    page.goto(f"/inbox/{inquiry.pk}/")
    assert page.get_by_role("heading", name="Self-check answers").is_visible()
    assert page.get_by_role("cell", name="Both receding and thinning", exact=True).is_visible()
    assert_accessible(page)
    page.shot("inbox-detail")
