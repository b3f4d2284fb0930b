"""Browser journeys: a clinician screens a patient from the patient page; an admin edits the rules."""

import json

import pytest

from anagen.screening.models import RuleSet
from anagen.screening.rules import seed_rules

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rules_v1(db):
    # Transactional tests empty the tables between tests, seed data included: put version 1 back.
    return RuleSet.objects.get_or_create(version=1, defaults={"rules": seed_rules(), "is_active": True})[0]


def test_a_clinician_screens_a_patient_from_the_patient_page(page, browser_login, clinician, patient, rules_v1):
    from anagen.patients.models import MedicalHistory

    MedicalHistory.objects.create(patient=patient, anticoagulants=True)
    browser_login(clinician)
    page.goto(f"/screening/patients/{patient.pk}/new")
    # Pre-filled from the medical history.
    assert page.locator("input[name=anticoagulants][value=yes]").is_checked()
    page.select_option("select[name=pattern]", "thinning")
    for flag in ("target_area_bald", "active_scalp_infection", "scalp_inflammation", "cancer_under_treatment",
                 "pregnant_or_breastfeeding", "bleeding_disorder", "autoimmune_disease", "keloid_tendency"):
        page.check(f"input[name={flag}][value=no]")
    page.fill("input[name=bmi]", "24")
    page.shot("questionnaire")
    page.click("button:has-text('Screen')")
    page.wait_for_url("**/screening/runs/**")
    page.shot("result")
    assert page.locator("[data-modality=prp]").inner_text() == "Not a candidate"
    assert page.locator("text=On anticoagulants").first.is_visible()
    assert page.locator("text=version 1").first.is_visible()


def test_an_admin_publishes_a_new_rule_version(page, browser_login, admin_user, rules_v1):
    browser_login(admin_user)
    page.goto("/screening/rules/")
    page.click("text=Edit rules")
    rules = seed_rules()
    rules[0]["op_typo"] = True
    page.fill("textarea[name=rules]", json.dumps(rules, indent=2))
    page.click("button:has-text('Publish new version')")
    assert page.locator("#rule-errors").inner_text().startswith("Rule 'receding_or_thinning': unknown key 'op_typo'")
    page.shot("errors")
    del rules[0]["op_typo"]
    rules[0]["description"] = "Receding or thinning, follicles present."
    page.fill("textarea[name=rules]", json.dumps(rules, indent=2))
    page.fill("input[name=note]", "Clearer wording")
    page.click("button:has-text('Publish new version')")
    page.wait_for_url("**/screening/rules/")
    assert page.locator("text=Active: version 2").is_visible()
    page.shot("published")
