"""A clinician downloads a patient's FHIR R4 record from the patient page."""

from __future__ import annotations

import json

import pytest

from anagen.fhir import validation
from anagen.fhir.models import FhirExport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_downloads_the_fhir_record_from_the_patient_page(page, browser_login, clinician, patient, tmp_path):
    browser_login(clinician)
    page.goto(f"/patients/{patient.pk}/")
    section = page.locator("section", has=page.locator("#fhir-heading"))
    section.scroll_into_view_if_needed()
    page.shot("patient-page-fhir-section")
    with page.expect_download() as info:
        section.locator("text=Download FHIR R4 record").click()
    download = info.value
    assert download.suggested_filename == f"{patient.patient_number}-fhir.json"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    bundle = json.loads(path.read_text())
    validation.validate(bundle)
    (p,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert p["name"][0]["family"] == patient.last_name
    assert FhirExport.objects.get().actor == clinician
