"""The patient chart fits a screen: a sticky compact header and sections one click away.

Prints the chart's page height at desktop width, so the before/after can be compared.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.browser.waiting import until
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


def shot(page, name, size):
    """A full-page screenshot at ``size``; the fixture's shot() puts the window back to 1280 px
    wide afterwards, so the desktop width is set again."""
    page.set_viewport_size(size)
    page.shot(name)
    page.set_viewport_size(DESKTOP)


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
    shot(page, "chart-desktop", DESKTOP)
    page.set_viewport_size(TABLET)
    print(f"chart height at {TABLET['width']}px: {page.evaluate('document.documentElement.scrollHeight')}px")
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    shot(page, "chart-tablet", TABLET)

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
    # The link of the section on screen says so (aria-current), for the eye and for a screen reader.
    assert page.locator("nav.chart-nav a[aria-current=location]").inner_text() == "Summary"
    page.click("nav.chart-nav >> text=Appointments")
    assert page.locator("#appointments-heading").is_visible()
    until(page, "(document.querySelector('nav.chart-nav a[aria-current=location]') || {}).textContent === 'Appointments'")
    page.mouse.wheel(0, 2000)
    assert header.is_visible()
    assert page.evaluate("document.querySelector('.chart-header').getBoundingClientRect().top") <= 1
    page.shot("chart-after-jumping-to-appointments")


def test_coordinator_books_from_a_free_slot_in_the_time_grid(page, browser_login, clinic, coordinator, clinician,
                                                             admin_user):
    from datetime import time

    from anagen.patients.models import Patient
    from anagen.patients.services import patient_register
    from anagen.scheduling.models import Appointment
    from anagen.scheduling.services import availability_add

    today = timezone.localtime(timezone.now(), clinic.tz).date()
    monday = today + timedelta(days=7 - today.weekday())
    availability_add(actor=admin_user, clinician=clinician, clinic=clinic, weekday=0, start_time=time(9, 0),
                     end_time=time(13, 0), valid_from=monday - timedelta(days=7))
    from anagen.accounts.services import staff_create

    other = staff_create(email="doc2@birmingham.test", password=None, roles=["clinician"], clinics=[clinic],
                         first_name="Otto", last_name="Osei")
    availability_add(actor=admin_user, clinician=other, clinic=clinic, weekday=0, start_time=time(11, 0),
                     end_time=time(17, 0), valid_from=monday - timedelta(days=7))
    for first, last in [("Daniel", "Okafor"), ("Danielle", "Oakes"), ("Priya", "Shah"), ("Tom", "Baker")]:
        patient_register(actor=coordinator, clinic=clinic, first_name=first, last_name=last,
                         email=f"{first.lower()}@example.test")
    browser_login(coordinator)
    page.set_viewport_size(DESKTOP)
    page.goto(f"/calendar/grid/?clinic={clinic.pk}&date={monday:%Y-%m-%d}&kind=free_consultation")
    assert page.locator("table.time-grid").is_visible()
    shot(page, "grid-desktop", DESKTOP)
    shot(page, "grid-tablet", TABLET)

    # The 10:00 free slot with the clinician opens the booking form filled in.
    page.click(f"a.free-slot[aria-label='Book {monday:%a %d/%m} 10:00 with {clinician}']")
    page.wait_for_url("**/calendar/book/**")
    assert page.input_value("#id_starts_at") == f"{monday:%Y-%m-%d}T10:00"
    assert page.input_value("#id_clinician") == str(clinician.pk)
    # The patient picker: type, choose from the suggestions.
    picker = page.locator("#id_patient-search")
    assert picker.is_visible() and not page.locator("#id_patient").is_visible()
    picker.press_sequentially("okaf", delay=40)
    until(page, "document.querySelectorAll('#id_patient-options option').length === 1")
    label = page.eval_on_selector("#id_patient-options option", "o => o.value")
    assert label.startswith("Okafor, Daniel")
    picker.fill(label)
    daniel = Patient.objects.get(last_name="Okafor")
    assert page.input_value("#id_patient") == str(daniel.pk)
    shot(page, "book-prefilled-desktop", DESKTOP)
    shot(page, "book-prefilled-tablet", TABLET)
    page.click("#booking-form button[type=submit]")
    page.wait_for_url("**/calendar/appointments/**")
    assert page.locator("text=Appointment booked.").is_visible()
    a = Appointment.objects.get()
    assert a.patient == daniel and timezone.localtime(a.starts_at, clinic.tz).strftime("%H:%M") == "10:00"

    # Back in the grid, the slot now shows the appointment.
    page.goto(f"/calendar/grid/?clinic={clinic.pk}&date={monday:%Y-%m-%d}&kind=free_consultation")
    booked = page.locator("td.slot.appointment a.appt")
    assert booked.count() == 1 and "Daniel Okafor" in booked.inner_text()
    assert page.locator("thead th").all_inner_texts() == ["Time", str(clinician), str(other)]
    assert page.locator(f"a.free-slot[aria-label='Book {monday:%a %d/%m} 10:00 with {clinician}']").count() == 0
    shot(page, "grid-after-booking-desktop", DESKTOP)
    page.goto(f"/calendar/grid/?clinic={clinic.pk}&date={monday:%Y-%m-%d}&kind=free_consultation&by=room")
    assert "Daniel Okafor" in page.locator("table.time-grid").inner_text()
    shot(page, "grid-rooms-desktop", DESKTOP)
    page.goto(f"/calendar/grid/?clinic={clinic.pk}&date={monday:%Y-%m-%d}&kind=free_consultation")
    page.set_viewport_size(TABLET)
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    page.shot("grid-after-booking-tablet")
