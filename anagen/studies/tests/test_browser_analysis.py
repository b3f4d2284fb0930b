"""In Chromium: the statistician raises a query, the clinician answers it, the statistician closes
it, locks the database (signed), the results page then shows the final analysis. Screenshots land
in test-artifacts/browser/."""

from __future__ import annotations

import pytest

from conftest import PASSWORD

from .test_analysis import write_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _logout(page):
    page.click("text=Log out")
    page.wait_for_load_state()


def test_query_answer_close_lock_and_results(page, browser_login, quality_team, clinician, statistician,
                                            unblinded_statistician, make_patient, clinic):
    write_study(quality_team, clinician, make_patient, clinic, n=12, ended=("S-005",), no_values=("S-005",))
    study = quality_team

    browser_login(unblinded_statistician)
    page.goto(f"/studies/{study.pk}/results/")
    assert "INTERIM" in page.content() and "ANCOVA" in page.content()
    page.shot("interim-results")
    _logout(page)

    browser_login(statistician)
    page.goto(f"/studies/{study.pk}/")
    page.click("text=Exports")
    page.wait_for_load_state()
    assert "Blinded exports" in page.content() and "CDISC ODM 1.3.2" in page.content()
    from tests.browser.a11y import assert_accessible

    assert_accessible(page)
    page.shot("blinded-exports")
    page.goto(f"/studies/{study.pk}/")
    page.click("text=Data quality and lock")
    page.wait_for_load_state()
    page.select_option("#id_subject", label="S-002")
    page.fill("#id_data_point", "density_per_cm2 at week 12")
    page.fill("#id_question", "The week-12 density is far above baseline: please check the image.")
    page.click("button:text('Raise')")
    page.wait_for_load_state()
    page.shot("query-raised")
    _logout(page)

    browser_login(clinician)
    page.goto(f"/studies/{study.pk}/quality")
    page.fill("textarea[name=answer]", "Checked against the image: the count is right.")
    page.click("button:text('Answer')")
    page.wait_for_load_state()
    assert "Answered" in page.content()
    _logout(page)

    browser_login(statistician)
    page.goto(f"/studies/{study.pk}/quality")
    page.click("button:text('Close')")
    page.wait_for_load_state()
    page.fill("#id_password", PASSWORD)
    page.click("button:text('Lock the database')")
    page.wait_for_load_state()
    assert "Locked" in page.content() and "Analysis still blinded" in page.content()
    page.shot("locked")
    page.goto(f"/studies/{study.pk}/results/")
    assert "signs the unblinding of the analysis" in page.content()  # locked, not yet released
    page.goto(f"/studies/{study.pk}/quality")
    page.fill("#unblind_password", PASSWORD)
    page.click("button:text('Sign the unblinding of the analysis')")
    page.wait_for_load_state()
    assert "Analysis unblinded" in page.content()
    page.shot("analysis-unblinded")
    page.goto(f"/studies/{study.pk}/results/")
    content = page.content()
    assert "INTERIM" not in content and "Final analysis of the locked database" in content
    page.shot("final-results")
