"""Least privilege, attack by attack: another clinic's patient in the inbox, one patient's result
read from the outcomes table, clinical photographs for the front desk."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from anagen.outcomes.tests import factories as f

pytestmark = pytest.mark.django_db


# --- the inbox ---------------------------------------------------------------------------------
@pytest.fixture
def converted_video_inquiry(clinic_b, coordinator_b):
    """A video inquiry (no clinic chosen) that Solihull converted into its own patient."""
    from anagen.intake.models import Inquiry, InquiryStatus
    from anagen.intake.services import inquiry_submit
    from anagen.patients.services import patient_register

    inquiry = inquiry_submit(kind="consultation", name="Priya Shah", email="priya@example.com", prefers_video=True,
                             concern="Thinning at the crown", consent_to_contact=True, client="c1")
    assert inquiry.preferred_clinic_id is None
    patient = patient_register(actor=coordinator_b, clinic=clinic_b, first_name="Priya", last_name="Shah",
                               date_of_birth=date(1990, 2, 3), sex="female")
    Inquiry.objects.filter(pk=inquiry.pk).update(converted_patient=patient, status=InquiryStatus.CONVERTED)
    return inquiry


def test_a_converted_video_inquiry_is_not_in_another_clinics_inbox(login, api_client, coordinator, coordinator_b,
                                                                   converted_video_inquiry):
    birmingham = login(coordinator)
    for status in ("", "?status=converted", "?status=all"):
        page = birmingham.get(reverse("intake:inbox") + status)
        assert page.status_code == 200
        assert "Priya" not in page.content.decode()
    assert birmingham.get(reverse("intake:detail", args=[converted_video_inquiry.pk])).status_code == 404
    api = api_client(coordinator)
    assert "Priya" not in api.get("/api/v1/inquiries?status=converted").content.decode()
    assert api.get(f"/api/v1/inquiries/{converted_video_inquiry.pk}").status_code == 404
    # Solihull, whose patient it is, still sees it.
    assert "Priya" in api_client(coordinator_b).get("/api/v1/inquiries?status=converted").content.decode()


def test_an_unconverted_video_inquiry_stays_in_every_inbox(api_client, coordinator, coordinator_b):
    from anagen.intake.services import inquiry_submit

    inquiry_submit(kind="question", name="Lee Chan", email="lee@example.com", prefers_video=True,
                   concern="Is PRP painful?", consent_to_contact=True, client="c2")
    for user in (coordinator, coordinator_b):
        assert "Lee Chan" in api_client(user).get("/api/v1/inquiries").content.decode()


# --- small cells -------------------------------------------------------------------------------
@pytest.fixture
def one_treated_patient(coordinator, clinician):
    patient = f.make_patient(coordinator=coordinator, clinician=clinician)
    f.measure(clinician=clinician, patient=patient, on=f.day(days=-3), hair_count=80, baseline=True)
    first = f.treat(clinician=clinician, patient=patient, on=f.day(0))
    f.adverse_event(clinician=clinician, patient=patient, procedure=first, on=f.day(days=1))
    f.measure(clinician=clinician, patient=patient, on=f.day(12), hair_count=92, weeks=12)
    return patient


def _exosomes(rows):
    return next(r for r in rows if r["modality"] == "exosomes")


def test_the_outcomes_api_does_not_give_one_patients_result(api_client, statistician, one_treated_patient):
    body = api_client(statistician).get("/api/v1/outcomes/table").json()
    row = _exosomes(body["rows"])
    assert row["treated"] == "<5" and row["suppressed"] is True
    assert all(v["density_change"] is None and v["followed_up"] == "<5" for v in row["visits"])
    assert row["adverse_event_patients"] is None and row["adverse_event_count"] == "<5"
    assert any('"<5"' in note for note in body["notes"])
    assert "18.46" not in str(body)  # (92 - 80) / 0.65 hairs/cm², the patient's own change


def test_the_outcomes_page_and_csv_show_the_marker(login, statistician, one_treated_patient):
    client = login(statistician)
    page = client.get(reverse("outcomes:table")).content.decode()
    assert "&lt;5" in page and "18.5" not in page
    text = client.get(reverse("outcomes:table_csv")).content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    exo = [r for r in rows if r["modality_code"] == "exosomes"]
    assert exo and all(r["patients_treated"] == "<5" and r["density_change_mean"] == "" for r in exo)
    assert "18.46" not in text


def test_five_patients_are_shown(api_client, statistician, coordinator, clinician, settings):
    settings.ANAGEN_OUTCOMES_MIN_CELL = 5
    for i in range(5):
        p = f.make_patient(coordinator=coordinator, clinician=clinician, first=f"P{i}", last="Five")
        f.measure(clinician=clinician, patient=p, on=f.day(days=-3), hair_count=80, baseline=True)
        f.treat(clinician=clinician, patient=p, on=f.day(0))
        f.measure(clinician=clinician, patient=p, on=f.day(12), hair_count=90 + i, weeks=12)
    row = _exosomes(api_client(statistician).get("/api/v1/outcomes/table").json()["rows"])
    assert row["treated"] == 5
    week12 = next(v for v in row["visits"] if v["week"] == 12)
    assert week12["followed_up"] == 5 and week12["density_change"]["n"] == 5


# --- clinical photographs ----------------------------------------------------------------------
def test_a_coordinators_progress_report_has_no_photographs(coordinator, clinician, one_treated_patient):
    from anagen.outcomes.report import progress_report_context

    assert progress_report_context(user=coordinator, patient=one_treated_patient)["images"] == []
