"""Browser journey: the clinician opens the patient, sees the updated chart and downloads the PDF."""

import pytest

from . import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_sees_the_updated_chart_and_downloads_the_progress_report(page, browser_login, treated_patient,
                                                                            clinician):
    browser_login(clinician)
    page.goto(f"/patients/{treated_patient.pk}/")
    section = page.locator("#outcomes-section")
    assert section.locator("svg").count() == 1
    page.shot("patient-page-section")

    section.locator("text=Timeline and progress").last.click()
    page.wait_for_url(f"**/outcomes/patients/{treated_patient.pk}/")
    density = page.locator('figure[data-chart="density"] svg')
    assert density.locator("circle.point").count() == 3

    # A new follow-up is measured (week 44): the chart gains the point on the next visit.
    f.measure(clinician=clinician, patient=treated_patient, on=f.day(4 + 44), hair_count=104, weeks=44)
    page.reload()
    assert density.locator("circle.point").count() == 4
    assert "160.0" in density.inner_html()  # 104 hairs / 0.65 cm²
    assert page.locator("table.numbers").inner_text().count("+36.9 (+30.0 %)") == 1
    page.shot("progress-updated")

    # The report is made in the background; its page hands it over when it is ready.
    page.click("text=Progress report (PDF)")
    page.wait_for_url("**/jobs/documents/**")
    assert "Your document is ready" in page.inner_text("main")
    page.shot("progress-report-ready")
    with page.expect_download() as info:
        page.click("text=Download the document")
    download = info.value
    assert download.suggested_filename.startswith(f"progress-report-{treated_patient.patient_number}")
    with open(download.path(), "rb") as fh:
        assert fh.read(4) == b"%PDF"
