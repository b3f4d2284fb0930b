"""The patient chart's compact header: identity, diagnosis and stage, plan, next appointment, alerts,
and a link to every section on the page."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from anagen.patients.models import Consent, MedicalHistory, StagingAssessment

from .factories import make_patient


@pytest.fixture
def patient(coordinator, clinic):
    p = make_patient(coordinator, clinic)
    p.diagnosis = "male_aga"
    p.save(update_fields=["diagnosis"])
    return p


def _header(html: str) -> str:
    return html.split('<header class="chart-header"', 1)[1].split("</header>", 1)[0]


def test_header_shows_stage_alerts_and_next_appointment(login, patient, clinic, clinician, coordinator):
    from anagen.scheduling.models import Appointment

    StagingAssessment.objects.create(patient=patient, scale="norwood", stage="IV", assessed_on=date(2026, 1, 5),
                                     assessed_by=clinician)
    MedicalHistory.objects.create(patient=patient, allergies="Lidocaine", anticoagulants=True)
    now = timezone.now()
    Consent.objects.create(patient=patient, kind="photography", document_version="v1", given_at=now - timedelta(days=9),
                           recorded_by=coordinator, withdrawn_at=now, withdrawn_by=coordinator, withdrawal_reason="x")
    Consent.objects.create(patient=patient, kind="treatment", document_version="v1", given_at=now, recorded_by=coordinator)
    starts = now + timedelta(days=2)
    Appointment.objects.create(clinic=clinic, patient=patient, clinician=clinician, kind="follow_up", starts_at=starts,
                               ends_at=starts + timedelta(minutes=30))
    html = login(coordinator).get(f"/patients/{patient.pk}/").content.decode()
    header = _header(html)
    assert "Norwood-Hamilton <b>IV</b>" in header
    assert "Allergies: Lidocaine" in header and "Anticoagulants" in header
    assert "Photography consent withdrawn" in header
    assert "Treatment consent withdrawn" not in header
    local = timezone.localtime(starts, clinic.tz)
    assert f"Next appointment:" not in header  # the label is a <dt>, the colon comes from CSS
    assert f"{local:%d/%m/%Y %H:%M}" in header and "with Clara Clinician" in header
    # One date format: the clinic's locale (en-GB), day first.
    chart = html.split('id="chart-record-history"', 1)[0]
    assert "05/01/2026" in chart and "2026-01-05" not in chart


def test_every_section_has_a_link_in_the_header(login, patient, clinician):
    html = login(clinician).get(f"/patients/{patient.pk}/").content.decode()
    header = _header(html)
    anchors = [part.split('"', 1)[0] for part in header.split('href="#')[1:]]
    assert len(anchors) >= 8
    for anchor in anchors:
        assert f'id="{anchor}"' in html, anchor
    assert ">Appointments<" in header and ">Treatment<" in header and ">Record history<" in header


def test_a_patient_with_nothing_recorded_gets_a_plain_header(login, patient, coordinator):
    html = login(coordinator).get(f"/patients/{patient.pk}/").content.decode()
    header = _header(html)
    assert "chart-alerts" not in header
    assert "none booked" in header
