"""The study journey in Chromium, as far as the studies app goes today: a statistician writes the
protocol and builds the team, the statistician and a clinician sign it off, the clinician checks a
patient's eligibility from the patient page, enrols and randomizes them (and sees "Blinded"), then
breaks the code in an emergency with a reason. Screenshots land in test-artifacts/browser/."""

from __future__ import annotations

import pytest

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _logout(page):
    page.click("text=Log out")
    page.wait_for_load_state()


def test_protocol_to_sign_off_to_enrolment_randomization_and_code_break(page, browser_login, clinic, statistician,
                                                                          clinician, make_patient):
    from anagen.studies.models import CodeBreak, Study, Subject

    patient = make_patient(clinic, consent="research v2 2026-01")

    browser_login(statistician)
    page.goto("/studies/")
    page.click("text=New study")
    page.fill("#id_title", "Split-scalp micrograft pilot")
    page.fill("#id_registry_id", "ISRCTN99887766")
    page.check("#id_sites_0")
    page.select_option("#id_design", "split_scalp")
    page.fill("#id_arms", "MG | Micrograft suspension | active | 1\nPL | Saline placebo | placebo | 1")
    page.fill("#id_target_enrolment", "30")
    page.fill("#id_research_consent_version", "research v2 2026-01")
    page.fill("#id_age_min_years", "18")
    page.fill("#id_age_max_years", "65")
    page.fill("#id_primary_endpoint", "Change in target-area density (hairs/cm²) at week 23, treated minus placebo side")
    page.check("input[name=strata_factors][value=sex]")
    page.shot("protocol-form")
    page.click("button:text('Create the study')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Split-scalp micrograft pilot")
    study = Study.objects.get()
    page.click("text=Team")
    page.fill("#id_email", clinician.email)
    page.select_option("#id_role", "investigator")
    page.click("text=Add to the team")
    page.wait_for_load_state()
    assert "Clara Clinician" in page.content()
    page.goto(f"/studies/{study.pk}/")
    page.check("input[name=meaning][value=statistical_approval]")
    page.fill("#id_password", "not my password")
    page.click("button:text('Sign')")
    page.wait_for_load_state()
    assert "password is not correct" in page.content()
    page.check("input[name=meaning][value=statistical_approval]")
    page.fill("#id_password", PASSWORD)
    page.click("button:text('Sign')")
    page.wait_for_load_state()
    page.shot("statistician-signed")
    _logout(page)

    browser_login(clinician)
    page.goto(f"/studies/{study.pk}/")
    page.check("input[name=meaning][value=clinical_approval]")
    page.fill("#id_password", PASSWORD)
    page.click("button:text('Sign')")
    page.wait_for_load_state()
    assert "Recruiting" in page.content()
    page.shot("signed-off")
    page.goto(f"/patients/{patient.pk}/")
    page.click("text=Check eligibility and enrol")
    page.wait_for_load_state()
    page.shot("eligibility")
    page.click("button:text('Enrol')")
    page.wait_for_load_state()
    subject = Subject.objects.get()
    assert subject.code in page.locator("h1").inner_text()
    page.click("button:text('Randomize')")
    page.wait_for_load_state()
    assert page.locator("#assignment").inner_text().endswith("Blinded")
    page.shot("randomized-blinded")
    page.click("text=Emergency code-break")
    page.fill("#id_code_break-reason", "Severe scalp reaction on one side; the dermatology registrar needs to know the product.")
    page.click("button:text('Break the code')")
    page.wait_for_load_state()
    assignment = page.locator("#assignment").inner_text()
    assert "Micrograft suspension on the" in assignment and "side" in assignment
    page.shot("code-broken")
    assert CodeBreak.objects.get().broken_by == clinician
