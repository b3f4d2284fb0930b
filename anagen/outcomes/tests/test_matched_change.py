"""The change from baseline comes from the hairs matched to the baseline image when there is a
match; the timeline, the progress table and the PDF report say which change was used."""

import pytest
from django.utils import timezone

from anagen.outcomes import report
from anagen.outcomes.selectors import patient_progress, patient_timeline

from . import factories as f
from .pdftext import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def matched_patient(treated_patient):
    """The latest follow-up (99 hairs against 80) matched to the baseline: +7 on the same hairs."""
    from anagen.assessments.models import AssessmentVisit, VisitMatch

    visits = list(AssessmentVisit.objects.filter(patient=treated_patient).order_by("visit_date"))
    base = f.attach_target_image(visits[0]).analysis
    latest = f.attach_target_image(visits[-1]).analysis
    VisitMatch.objects.create(followup_analysis=latest, baseline_analysis=base, engine_version="test", result={},
                              kept=70, lost=5, new=12, baseline_count=75, followup_count=94, matched_change=7,
                              count_change=19, overlap_area_cm2=0.6)
    return treated_patient


def test_progress_uses_the_matched_change_and_keeps_the_independent_one(matched_patient, clinician):
    progress = patient_progress(user=clinician, patient=matched_patient)
    week12, latest = progress.rows[1], progress.rows[2]
    assert week12.change_source == "independent counts" and week12.count_change.absolute == 12
    assert latest.change_source == "matched"
    assert latest.count_change.absolute == 7 and latest.count_change.percent == pytest.approx(100 * 7 / 75)
    assert latest.independent_count_change.absolute == 19
    assert latest.density_change.absolute == pytest.approx(7 / 0.6)
    assert latest.density_change.baseline == pytest.approx(80 / 0.65)
    data = progress.to_dict()["measurements"][2]
    assert data["change_source"] == "matched" and data["hair_count_change"]["absolute"] == 7
    assert data["independent_hair_count_change"]["absolute"] == 19


def test_a_confirmed_review_is_what_counts(matched_patient, clinician):
    from anagen.assessments.models import VisitMatch

    VisitMatch.objects.update(confirmed_change=5, confirmed_by=clinician, confirmed_at=timezone.now())
    latest = patient_progress(user=clinician, patient=matched_patient).rows[2]
    assert latest.change_source == "matched (confirmed)" and latest.count_change.absolute == 5


def test_the_timeline_says_which_change_was_used(matched_patient, clinician):
    details = [e.detail for e in patient_timeline(user=clinician, patient=matched_patient) if e.kind == "assessment"]
    assert any("change from baseline +7 hairs, matched (70 kept, 5 lost, 12 new; independent counts +19)" in d
               for d in details)


def test_the_timeline_page_shows_the_change_source(matched_patient, clinician, login):
    html = login(clinician).get(f"/outcomes/patients/{matched_patient.pk}/").content.decode()
    assert "Change measured by" in html and "independent counts" in html and "matched" in html


def test_the_report_says_which_change_was_used(matched_patient, clinician):
    text = pdf_text(report.progress_report_pdf(user=clinician, patient=matched_patient, uncompressed=True))
    assert "matched to the baseline image" in text
    assert "independent counts give +19" in text


def test_without_a_match_the_report_says_independent_counts(treated_patient, clinician):
    text = pdf_text(report.progress_report_pdf(user=clinician, patient=treated_patient, uncompressed=True))
    assert "from the independent counts" in text


def test_a_match_of_different_areas_leaves_the_independent_counts(matched_patient, clinician):
    from anagen.assessments.models import VisitMatch

    VisitMatch.objects.update(result={"same_area": False})
    latest = patient_progress(user=clinician, patient=matched_patient).rows[2]
    assert latest.change_source == "independent counts" and latest.count_change.absolute == 19
    details = [e.detail for e in patient_timeline(user=clinician, patient=matched_patient) if e.kind == "assessment"]
    assert not any("matched" in d for d in details)
