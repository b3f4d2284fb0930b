"""Implausible measurements are flagged where they are shown; excluded ones leave the series."""

import pytest
from django.urls import reverse

from anagen.assessments.models import Measurement
from anagen.assessments.services import measurement_exclude
from anagen.outcomes import selectors

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def odd_series(coordinator, clinician):
    """Baseline 80 hairs, then 92, then 260 (a different spot or scale), all in 0.65 cm²."""
    p = f.make_patient(coordinator=coordinator, clinician=clinician)
    f.measure(clinician=clinician, patient=p, on=f.day(days=-3), hair_count=80, baseline=True)
    f.treat(clinician=clinician, patient=p, on=f.day(0))
    f.measure(clinician=clinician, patient=p, on=f.day(12), hair_count=92, weeks=12)
    odd = f.measure(clinician=clinician, patient=p, on=f.day(23), hair_count=260, weeks=23)
    return p, odd


def test_the_timeline_and_its_chart_flag_the_odd_value(odd_series, clinician, login):
    patient, odd = odd_series
    progress = selectors.patient_progress(user=clinician, patient=patient)
    assert [p.visit_id for p in progress.flagged] == [odd.pk]
    html = login(clinician).get(reverse("outcomes:patient", kwargs={"pk": patient.pk})).content.decode()
    assert "implausible?" in html and "Values to check" in html and "away from the series median" in html
    assert 'class="point flagged"' in html


def test_the_visit_page_and_the_visit_list_flag_it_too(odd_series, clinician, login):
    patient, odd = odd_series
    client = login(clinician)
    html = client.get(reverse("assessments:visit", kwargs={"pk": odd.pk})).content.decode()
    assert "implausible?" in html and "Exclude from the series" in html
    html = client.get(reverse("assessments:patient_visits", kwargs={"patient_id": patient.pk})).content.decode()
    assert html.count("implausible?") == 1


def test_an_excluded_value_leaves_the_chart_changes_and_outcomes_but_stays_visible(odd_series, clinician, login):
    patient, odd = odd_series
    before = {r.code: r for r in selectors.outcome_table(user=clinician).rows}["exosomes"]
    assert next(v for v in before.visits if v.week == 23).density_change.n == 1
    measurement_exclude(actor=clinician, measurement=Measurement.objects.get(visit=odd), reason="Another spot")
    progress = selectors.patient_progress(user=clinician, patient=patient)
    assert odd.pk not in [p.visit_id for p in progress.points]
    assert [p.visit_id for p in progress.excluded] == [odd.pk]
    after = {r.code: r for r in selectors.outcome_table(user=clinician).rows}["exosomes"]
    assert next(v for v in after.visits if v.week == 23).density_change.n == 0
    html = login(clinician).get(reverse("outcomes:patient", kwargs={"pk": patient.pk})).content.decode()
    assert "Excluded from the series" in html and "Another spot" in html and "260" in html


def test_the_outcome_table_says_when_a_change_uses_a_flagged_value(odd_series, clinician):
    table = selectors.outcome_table(user=clinician)
    assert any("flagged as implausible" in note for note in table.counting_notes)


def test_the_pdf_report_flags_the_odd_value_and_lists_exclusions(odd_series, clinician):
    from anagen.outcomes import report

    from .pdftext import pdf_text

    patient, odd = odd_series
    text = pdf_text(report.progress_report_pdf(user=clinician, patient=patient, uncompressed=True))
    assert "Values to check" in text and "implausible" in text
    measurement_exclude(actor=clinician, measurement=Measurement.objects.get(visit=odd), reason="Another spot")
    text = pdf_text(report.progress_report_pdf(user=clinician, patient=patient, uncompressed=True))
    assert "Excluded from the series" in text and "Another spot" in text
