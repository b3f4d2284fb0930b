"""The per-side value form in Chromium: once a visit is chosen, the photograph select offers only
that visit's target images, and a photograph chosen for another visit is cleared."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from .test_analysis import split_study  # noqa: F401 (fixture)
from .test_analysis_pages import _target_image, split_subject  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VISIBLE = ("Array.from(document.querySelectorAll('#side_image option'))"
           ".filter(o => !o.hidden).map(o => o.value)")


def test_the_photograph_select_follows_the_chosen_visit(page, browser_login, split_study, split_subject,  # noqa: F811
                                                        clinician):
    from anagen.assessments.services import visit_create

    subject, visit, image = split_subject
    earlier = visit_create(actor=clinician, patient=subject.patient, visit_date=date.today() - timedelta(days=30))
    first = _target_image(earlier, f"early{earlier.pk}")
    browser_login(clinician)
    page.goto(f"/studies/{split_study.pk}/quality")
    # The query form and the side-value form both have a visit select: every id on the page is its own.
    ids = page.evaluate("Array.from(document.querySelectorAll('[id]')).map(e => e.id)")
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    page.select_option("#side_visit", f"{subject.pk}:{earlier.pk}")
    assert page.evaluate(VISIBLE) == ["", str(first.pk)]
    page.select_option("#side_image", str(first.pk))
    page.shot("earlier-visit")
    page.select_option("#side_visit", f"{subject.pk}:{visit.pk}")
    assert page.evaluate(VISIBLE) == ["", str(image.pk)]
    assert page.input_value("#side_image") == ""  # the other visit's photograph is cleared
    page.select_option("#side_image", str(image.pk))
    page.fill("#side_density_per_cm2", "120")
    page.click("button:text(\"Record the side's value\")")
    page.wait_for_load_state()
    from anagen.studies.models import SideMeasurement

    assert SideMeasurement.objects.get().source_image == image
