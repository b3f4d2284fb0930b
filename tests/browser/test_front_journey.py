"""Front-of-clinic journey in the browser, as the platform issue walks it.

A member of the public requests a free consultation; a coordinator converts the request into a
patient and a booked consultation, which shows on the calendar; the clinician records the stage on
the patient page, runs the screening and reads the result with its reasons.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONTRAINDICATIONS = ("target_area_bald", "active_scalp_infection", "scalp_inflammation", "cancer_under_treatment",
                     "pregnant_or_breastfeeding", "bleeding_disorder", "anticoagulants", "autoimmune_disease",
                     "keloid_tendency")


@pytest.fixture
def rules_v1(db):
    # Transactional tests empty the tables between tests, seeded rules included: put version 1 back.
    from anagen.screening.models import RuleSet
    from anagen.screening.rules import seed_rules

    return RuleSet.objects.get_or_create(version=1, defaults={"rules": seed_rules(), "is_active": True})[0]


@pytest.fixture
def next_monday(clinic):
    today = timezone.localtime(timezone.now(), clinic.tz).date()
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture
def clinician_hours(clinic, clinician, admin_user, next_monday):
    from anagen.scheduling.services import availability_add

    return availability_add(actor=admin_user, clinician=clinician, clinic=clinic, weekday=0,
                            start_time=time(9, 0), end_time=time(17, 0), valid_from=next_monday - timedelta(days=7))


def test_public_request_to_booked_consultation_to_screening_result(page, browser_login, clinic, coordinator,
                                                                   clinician, clinician_hours, rules_v1, next_monday):
    from anagen.intake.models import Inquiry
    from anagen.patients.models import Patient
    from anagen.scheduling.models import Appointment

    # 1. The public page: a free consultation request, phone number typed with spaces.
    page.goto("/")
    page.click("text=Request a free consultation")
    page.fill("#id_name", "Daniel Okafor")
    page.fill("#id_email", "daniel.okafor@example.org")
    page.fill("#id_phone", "07700 900 123")
    page.fill("#id_concern", "Thinning at the crown for three years; minoxidil helped a little. Interested in PRP.")
    page.select_option("#id_preferred_clinic", label=clinic.name)
    page.fill("#id_preferred_times", "Monday mornings")
    page.check("#id_consent_to_contact")
    page.shot("public-request")
    page.click("main button[type=submit]")
    page.wait_for_url("**/thanks/**")
    page.shot("thanks")
    inquiry = Inquiry.objects.get()
    assert inquiry.preferred_clinic == clinic

    # 2. The coordinator finds it in the inbox and converts it: patient and booking in one step.
    browser_login(coordinator)
    page.goto("/inbox/")
    page.shot("inbox")
    page.click("text=Daniel Okafor")
    page.wait_for_url(f"**/inbox/{inquiry.pk}/")
    page.shot("inquiry")
    page.click("text=Convert to patient and booking")
    page.wait_for_url(f"**/inbox/{inquiry.pk}/convert/")
    assert page.input_value("#id_first_name") == "Daniel"
    assert page.input_value("#id_last_name") == "Okafor"
    page.fill("#id_date_of_birth", "1984-03-12")
    page.select_option("#id_clinician", value=str(clinician.pk))
    page.fill("#id_starts_at", f"{next_monday.isoformat()}T10:00")
    page.check("input[name=mode][value=in_person]")
    # The clinician's hours name no room, so the coordinator picks one.
    page.select_option("#id_room", label="Birmingham: Consulting 1")
    page.shot("convert-form")
    page.click("button:has-text('Register and book')")
    page.wait_for_url(re.compile(r"/patients/\d+/$"))
    patient = Patient.objects.get(last_name="Okafor")
    assert page.locator("text=Registered a new patient").first.is_visible()
    appointments = page.locator("section[aria-labelledby=appointments-heading]")
    assert appointments.locator("a[href*='/calendar/appointments/']").count() == 1
    page.shot("patient-registered")
    appointment = Appointment.objects.get(patient=patient)
    assert timezone.localtime(appointment.starts_at, clinic.tz).date() == next_monday

    # 3. The consultation is on the calendar for that day.
    page.goto(f"/calendar/?date={next_monday.isoformat()}")
    assert page.locator(f"a:has-text('{patient.last_name}')").first.is_visible()
    page.shot("calendar")

    # 4. The clinician records the stage on the patient page and runs the screening.
    page.context.clear_cookies()
    browser_login(clinician)
    page.goto(f"/patients/{patient.pk}/")
    page.click("text=Record a stage")
    page.select_option("#id_scale", "norwood")
    page.select_option("#id_stage", "III vertex")
    page.fill("#id_assessed_on", timezone.localdate().isoformat())
    page.shot("staging-form")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/patients/{patient.pk}/")
    assert page.locator("text=Current Norwood").first.is_visible()
    page.shot("staged")

    page.click("text=Run screening")
    page.wait_for_url(f"**/screening/patients/{patient.pk}/new")
    page.select_option("select[name=pattern]", "thinning")
    for flag in CONTRAINDICATIONS:
        page.check(f"input[name={flag}][value=no]")
    page.fill("input[name=bmi]", "26")
    page.shot("questionnaire")
    page.click("button:has-text('Screen')")
    page.wait_for_url("**/screening/runs/**")
    page.shot("result")
    assert page.locator("[data-modality=prp]").inner_text() == "Candidate"
    assert page.locator("text=version 1").first.is_visible()
    assert page.locator("text=Receding or thinning hair with follicles still present.").first.is_visible()

    # 5. Back on the patient page the result and its reasons show in the screening section.
    page.goto(f"/patients/{patient.pk}/")
    section = page.locator("section[aria-labelledby=screening-heading]")
    assert section.locator("a.badge.candidate").count() >= 1
    assert re.search(r"Candidate", section.inner_text())
    page.shot("patient-with-screening")
