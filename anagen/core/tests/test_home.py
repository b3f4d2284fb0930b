"""Every role lands on its own worklist, holding only its clinics' work."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from anagen.patients.models import Patient

pytestmark = pytest.mark.django_db

_numbers = iter(range(1, 1000))


def _patient(clinic, first_name, last_name="Home"):
    return Patient.objects.create(clinic=clinic, patient_number=f"AN-9{next(_numbers):05d}", first_name=first_name,
                                  last_name=last_name, diagnosis="male_aga")


def _appointment_today(clinic, patient, clinician):
    from anagen.scheduling.models import Appointment

    starts = timezone.localtime(timezone=clinic.tz).replace(hour=23, minute=0, second=0, microsecond=0)
    return Appointment.objects.create(clinic=clinic, patient=patient, clinician=clinician, kind="follow_up",
                                      starts_at=starts, ends_at=starts + timedelta(minutes=30))


def _home(login, user):
    r = login(user).get("/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "Use the menu above" not in body
    return body


def test_a_coordinator_sees_arrivals_inquiries_proposals_and_reminders_of_their_clinics(
        login, coordinator, clinician, clinician_b, clinic, clinic_b):
    from anagen.intake.models import Inquiry
    from anagen.scheduling.models import ScheduledEmail

    here = _appointment_today(clinic, _patient(clinic, "Arriving"), clinician)
    _appointment_today(clinic_b, _patient(clinic_b, "Elsewhere"), clinician_b)
    Inquiry.objects.create(kind="consultation", name="Nora Newcomer", email="n@example.test", concern="thinning",
                           preferred_clinic=clinic, consent_to_contact=True)
    Inquiry.objects.create(kind="consultation", name="Solly Other", email="s@example.test", concern="thinning",
                           preferred_clinic=clinic_b, consent_to_contact=True)
    ScheduledEmail.objects.create(appointment=here, kind="reminder", to="a@example.test", subject="Reminder",
                                  body="See you", send_after=timezone.now() - timedelta(hours=1))
    body = _home(login, coordinator)
    assert "Today&#x27;s arrivals" in body and "Arriving Home" in body
    assert "Nora Newcomer" in body and "Reminders due" in body and "a@example.test" in body
    assert "Proposed bookings to confirm" in body
    assert "Elsewhere Home" not in body and "Solly Other" not in body


def test_a_clinician_sees_their_patients_and_open_adverse_events_only_at_their_clinics(
        login, clinician, clinician_b, clinic, clinic_b):
    from anagen.treatments.models import AdverseEvent

    _appointment_today(clinic, _patient(clinic, "Mine"), clinician)
    for c, name in ((clinic, "Swelling"), (clinic_b, "Faraway")):
        AdverseEvent.objects.create(patient=_patient(c, name), clinic=c, description=f"{name} at the site",
                                    onset_on=date.today(), severity=2, relation="possible")
    AdverseEvent.objects.create(patient=_patient(clinic, "Healed"), clinic=clinic, description="Redness",
                                onset_on=date.today(), severity=1, relation="possible", outcome="recovered",
                                resolved_on=date.today())
    body = _home(login, clinician)
    assert "Your patients today" in body and "Mine Home" in body
    assert "Adverse events to follow up" in body and "Swelling Home" in body
    assert "Healed Home" not in body and "Faraway Home" not in body
    assert "Images to review" in body and "Analyses to re-run or correct" in body


def test_a_lab_scientist_sees_samples_by_step_without_patient_names(login, lab_scientist, clinician, clinic, clinic_b):
    from anagen.treatments.models import AutologousSample

    for c, code, when in ((clinic, "S-OLD", 3), (clinic, "S-NEW", 0), (clinic_b, "S-FAR", 0)):
        AutologousSample.objects.create(patient=_patient(c, "Secret", "Name"), clinic=c, kind="biopsy", code=code,
                                        harvested_at=timezone.now() - timedelta(days=when), harvested_by=clinician)
    body = _home(login, lab_scientist)
    assert "Samples by custody step" in body and "Harvested: <strong>2</strong>" in body
    assert "S-OLD" in body and "S-NEW" in body and "S-FAR" not in body
    assert "not received after" in body  # the three-day-old one is overdue
    assert body.index("S-OLD") < body.index("S-NEW")
    assert "Secret" not in body


def test_a_statistician_lands_on_outcomes_and_exports(login, statistician):
    body = _home(login, statistician)
    assert "Outcomes and exports" in body and "/outcomes/outcomes.csv" in body


def test_an_admin_sees_set_up_health_for_their_clinics(login, admin_user, clinic, clinic_b):
    from anagen.assessments.models import DeviceProfile

    DeviceProfile.objects.create(clinic=clinic, name="Loupe without scale", px_per_mm=None)
    DeviceProfile.objects.create(clinic=clinic_b, name="Other clinic loupe", px_per_mm=None)
    body = _home(login, admin_user)
    assert "Set-up health" in body and "Loupe without scale" in body and "has no px_per_mm" in body
    assert "Other clinic loupe" not in body
    assert clinic.name in body and "Screening rules" in body


def test_a_person_with_two_roles_sees_both_parts(login, clinician, clinic):
    from anagen.accounts.models import StaffRole

    StaffRole.objects.create(user=clinician, role="lab_scientist")
    body = _home(login, clinician)
    assert "Your patients today" in body and "Samples by custody step" in body


def test_the_evaluator_home_is_the_studies_reading_page(login, evaluator):
    r = login(evaluator).get("/")
    assert r.status_code == 302 and r.url == "/studies/reading/"


def test_a_visitor_gets_the_public_home(client):
    r = client.get("/")
    assert r.status_code == 200 and "Request a free consultation" in r.content.decode()


def test_someone_without_a_role_is_told_what_to_do_not_pointed_at_a_missing_menu(login, stranger):
    body = _home(login, stranger)
    assert "Ask an administrator" in body and "has no role yet" in body
