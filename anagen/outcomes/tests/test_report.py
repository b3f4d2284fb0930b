"""The progress report PDF."""

import re
import shutil
import subprocess

import pytest
from django.urls import reverse

from anagen.outcomes import report

from . import factories as f
from .pdftext import pdf_text

pytestmark = pytest.mark.django_db


def _url(patient):
    return reverse("outcomes:report", kwargs={"pk": patient.pk})


def test_clinician_downloads_a_real_pdf(treated_patient, clinician, login):
    r = login(clinician).get(_url(treated_patient))
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].startswith("attachment;")
    assert treated_patient.patient_number in r["Content-Disposition"]
    assert r.content.startswith(b"%PDF")
    assert len(r.content) > 5000


def test_pdf_holds_the_patients_name_number_and_numbers(treated_patient, clinician):
    pdf = report.progress_report_pdf(user=clinician, patient=treated_patient, uncompressed=True)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", pdf)) >= 1
    text = pdf_text(pdf)
    assert "Birmingham" in text
    assert "Maya Patel" in text
    assert treated_patient.patient_number in text
    assert "123.1" in text and "152.3" in text      # baseline and latest density, hairs/cm²
    assert "+29.2" in text and "23.8" in text       # change from baseline, absolute and %
    assert "Exosome product" in text
    assert "tattooed" in text
    if shutil.which("pdftotext"):  # the real thing where poppler is installed
        out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        assert treated_patient.patient_number in out and "152.3" in out


def test_pdf_shows_baseline_and_latest_target_images_with_overlays(treated_patient, clinician):
    from anagen.assessments.models import AssessmentVisit

    visits = list(AssessmentVisit.objects.filter(patient=treated_patient).order_by("visit_date"))
    f.attach_target_image(visits[0])
    f.attach_target_image(visits[-1])
    html = report.progress_report_html(user=clinician, patient=treated_patient)
    assert html.count('src="data:image/') == 4  # two photographs, two overlays
    assert "Baseline target-area image" in html and "Latest overlay of counted hairs" in html
    pdf = report.progress_report_pdf(user=clinician, patient=treated_patient)
    assert pdf.startswith(b"%PDF")


def test_a_missing_image_file_leaves_a_gap_not_a_failed_report(treated_patient, clinician):
    from django.core.files.storage import default_storage

    from anagen.assessments.models import AssessmentVisit

    visit = AssessmentVisit.objects.filter(patient=treated_patient).order_by("visit_date").first()
    image = f.attach_target_image(visit, with_overlay=False)
    default_storage.delete(image.file.name)
    html = report.progress_report_html(user=clinician, patient=treated_patient)
    assert "Image unavailable" in html
    assert report.progress_report_pdf(user=clinician, patient=treated_patient).startswith(b"%PDF")


def test_report_includes_the_global_assessments(treated_patient, clinician):
    html = report.progress_report_html(user=clinician, patient=treated_patient)
    assert "Global assessments" in html and "Patient's own assessment" in html
    assert "+1 slightly improved" in html and "+2 moderately improved" in html


def test_report_for_a_patient_with_no_measurements_still_renders(coordinator, clinician, login):
    p = f.make_patient(coordinator=coordinator, clinician=clinician, stage=None)
    r = login(clinician).get(_url(p))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


@pytest.mark.parametrize("persona", ["evaluator", "lab_scientist", "statistician", "stranger"])
def test_other_roles_cannot_download_the_report(persona, treated_patient, login, request):
    assert login(request.getfixturevalue(persona)).get(_url(treated_patient)).status_code == 403


def test_another_clinics_coordinator_gets_404(treated_patient, coordinator_b, login):
    assert login(coordinator_b).get(_url(treated_patient)).status_code == 404
