"""A query on an assessment visit in Chromium: the study statistician raises it from the
data-quality page, choosing the subject's visit; the subject page then lists it with the
verification flags. Screenshots land in test-artifacts/browser/."""

from __future__ import annotations

from datetime import date

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_query_raised_on_a_visit_shows_on_the_subject_page(page, browser_login, randomized_subject, statistician,
                                                              clinician):
    from anagen.assessments.services import visit_create
    from anagen.core.dates import date_text
    from anagen.studies import quality_services as q

    subject = randomized_subject
    visit = visit_create(actor=clinician, patient=subject.patient, visit_date=date.today())
    q.sdv_flag(actor=statistician, subject=subject, data_point="baseline density_per_cm2", note="Matches the chart.")
    browser_login(statistician)
    page.goto(f"/studies/{subject.study_id}/quality")
    page.select_option("#id_subject", str(subject.pk))
    page.select_option("#id_visit", str(visit.pk))
    page.fill("#id_data_point", "density_per_cm2")
    page.fill("#id_question", "Twice the baseline: please check the image.")
    page.shot("quality-raise-form")
    page.click("button:text('Raise')")
    page.wait_for_load_state()
    assert f"Query raised on {subject.code}, visit of {date_text(visit.visit_date)}." in page.content()
    page.shot("quality-query-with-visit")
    page.goto(f"/studies/{subject.study_id}/subjects/{subject.pk}/")
    section = page.locator("section[aria-labelledby=quality-heading]")
    text = section.inner_text()
    assert "density_per_cm2" in text and date_text(visit.visit_date) in text and "Open (raised)" in text
    assert "baseline density_per_cm2" in text and "Matches the chart." in text
    section.scroll_into_view_if_needed()
    page.shot("subject-page-queries")
    section.locator("a:text('Data quality and lock of the study')").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/studies/{subject.study_id}/quality")
