"""The patient chart fits a screen: a sticky compact header and sections one click away.

Prints the chart's page height at desktop width, so the before/after can be compared.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


def rich_patient(clinic, clinician, coordinator):
    """A patient with something in every section of the chart."""
    from anagen.patients.models import (Consent, HairLossHistory, MedicalHistory, Patient, PriorTreatment,
                                        StagingAssessment)
    from anagen.scheduling.models import Appointment
    from anagen.treatments.models import AdverseEvent, Modality, TreatmentPlan

    p = Patient.objects.create(clinic=clinic, patient_number="AN-000901", first_name="Amelia",
                               last_name="Worthington-Smythe", diagnosis="female_aga", date_of_birth=date(1979, 3, 14),
                               email="amelia@example.test", phone="+447700900123", address="1 High Street\nBirmingham",
                               notes="Prefers morning appointments.")
    now = timezone.now()
    for i, kind in enumerate(["treatment", "photography", "contact"]):
        Consent.objects.create(patient=p, kind=kind, document_version=f"v{i + 1} 2025-01", given_at=now - timedelta(days=90),
                               recorded_by=coordinator,
                               **({"withdrawn_at": now - timedelta(days=3), "withdrawn_by": coordinator,
                                   "withdrawal_reason": "No longer wishes photographs"} if kind == "photography" else {}))
    for i, stage in enumerate(["II", "III", "III"]):
        StagingAssessment.objects.create(patient=p, scale="ludwig", stage=stage, assessed_on=date(2025, 1 + i, 10),
                                         assessed_by=clinician, notes="Crown and part line")
    MedicalHistory.objects.create(patient=p, anticoagulants=True, medications="Warfarin 3 mg",
                                  allergies="Lidocaine", notes="INR checked monthly.")
    HairLossHistory.objects.create(patient=p, onset_year=2015, family_history=True, progression="Slow widening",
                                   pattern_notes="Christmas-tree pattern")
    for t in ["minoxidil", "finasteride", "prp"]:
        PriorTreatment.objects.create(patient=p, treatment=t, started_on=date(2020, 1, 1), stopped_on=date(2021, 1, 1),
                                      response="partial", notes="Some regrowth")
    modality = Modality.objects.filter(is_active=True).first()
    if modality is None:
        modality = Modality.objects.create(code="prp", name="PRP", category="prp", typical_sessions=3)
    plan = TreatmentPlan.objects.create(patient=p, clinic=clinic, clinician=clinician, sessions=3, interval_days=28,
                                        start_on=date.today() + timedelta(days=7), created_by=clinician)
    plan.modalities.add(modality)
    AdverseEvent.objects.create(patient=p, clinic=clinic, description="Swelling", onset_on=date.today(), severity=2,
                                relation="possible")
    for days in (-60, -30, 3, 10):
        starts = (now + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
        Appointment.objects.create(clinic=clinic, patient=p, clinician=clinician, kind="follow_up", starts_at=starts,
                                   ends_at=starts + timedelta(minutes=30),
                                   status="completed" if days < 0 else "booked")
    return p


def test_chart_fits_a_screen_with_a_sticky_header(page, browser_login, clinic, coordinator, clinician):
    p = rich_patient(clinic, clinician, coordinator)
    browser_login(clinician)
    page.set_viewport_size(DESKTOP)
    page.goto(f"/patients/{p.pk}/")
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"\nchart height at {DESKTOP['width']}px: {height}px")
    page.shot("chart-desktop")
    page.set_viewport_size(TABLET)
    print(f"chart height at {TABLET['width']}px: {page.evaluate('document.documentElement.scrollHeight')}px")
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    page.shot("chart-tablet")
    page.set_viewport_size(DESKTOP)

    header = page.locator(".chart-header")
    assert header.is_visible()
    text = header.inner_text()
    for expected in ("Worthington-Smythe", "AN-000901", "Female pattern", "III", "Lidocaine", "photography", "Next appointment"):
        assert expected.lower() in text.lower(), expected
    # Every section is reachable from the section links; the header stays on screen while scrolling.
    links = page.locator("nav.chart-nav a")
    names = [links.nth(i).inner_text() for i in range(links.count())]
    for expected in ("Summary", "Consents", "Appointments", "Treatment", "Record history"):
        assert any(expected in n for n in names), names
    page.click("nav.chart-nav >> text=Appointments")
    assert page.locator("#appointments-heading").is_visible()
    page.mouse.wheel(0, 2000)
    assert header.is_visible()
    assert page.evaluate("document.querySelector('.chart-header').getBoundingClientRect().top") <= 1
    page.shot("chart-appointments-tab")
