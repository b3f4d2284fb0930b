"""Each role logs in and lands on its worklist; screenshots at desktop and tablet widths."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1280, "tablet": 820}


def _some_work(clinic, clinician):
    from anagen.assessments.models import DeviceProfile
    from anagen.intake.models import Inquiry
    from anagen.patients.models import Patient
    from anagen.scheduling.models import Appointment
    from anagen.treatments.models import AdverseEvent, AutologousSample

    p = Patient.objects.create(clinic=clinic, patient_number="AN-000777", first_name="Amelia",
                               last_name="Worthington-Smythe", diagnosis="female_aga")
    starts = timezone.localtime(timezone=clinic.tz).replace(hour=23, minute=0, second=0, microsecond=0)
    Appointment.objects.create(clinic=clinic, patient=p, clinician=clinician, kind="follow_up", starts_at=starts,
                               ends_at=starts + timedelta(minutes=30))
    Inquiry.objects.create(kind="consultation", name="Nora Newcomer", email="nora@example.test", concern="thinning",
                           preferred_clinic=clinic, consent_to_contact=True)
    AdverseEvent.objects.create(patient=p, clinic=clinic, description="Swelling", onset_on=date.today(), severity=2,
                                relation="possible")
    AutologousSample.objects.create(patient=p, clinic=clinic, kind="biopsy", code="HF-24-0007",
                                    harvested_at=timezone.now() - timedelta(days=2), harvested_by=clinician)
    DeviceProfile.objects.create(clinic=clinic, name="Room 3 loupe", px_per_mm=None)


def test_every_role_lands_on_its_worklist(page, browser_login, clinic, coordinator, clinician, lab_scientist,
                                          statistician, admin_user):
    _some_work(clinic, clinician)
    expected = {coordinator: "Today's arrivals", clinician: "Your patients today",
                lab_scientist: "Samples by custody step", statistician: "Outcomes and exports",
                admin_user: "Set-up health"}
    for user, heading in expected.items():
        browser_login(user)
        assert page.url.endswith("/")  # the home page, not another app's list
        assert page.locator(f"text={heading}").first.is_visible()
        assert page.locator("text=Use the menu above").count() == 0
        role = sorted(user.roles)[0]
        for name, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            # Nothing runs off the right edge at this width.
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.shot(f"{role}-{name}")  # (puts the window back to desktop width afterwards)
        page.click("text=Log out")
        page.wait_for_url("**/login/")
