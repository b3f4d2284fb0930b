"""axe-core on the main pages of each role and the public pages: no serious or critical violation."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tests.browser.a11y import severe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def booked(clinic, clinician, coordinator, record, admin_user):
    """An appointment next Monday, in the clinician's hours."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from anagen.scheduling.services import appointment_book, availability_add

    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday())
    availability_add(actor=admin_user, clinician=clinician, clinic=clinic, weekday=0, start_time=time(9, 0),
                     end_time=time(13, 0), valid_from=today - timedelta(days=1))
    room = clinic.rooms.filter(is_procedure_room=False).first()
    return appointment_book(actor=coordinator, patient=record[0], clinician=clinician, clinic=clinic,
                            kind="free_consultation", starts_at=datetime.combine(monday, time(10, 0), tzinfo=clinic.tz),
                            room=room), monday


@pytest.fixture
def record(clinic, clinician):
    from anagen.assessments.services import visit_create
    from anagen.patients.models import Patient

    patient = Patient.objects.create(clinic=clinic, patient_number="AN-000321", first_name="Ada", last_name="Access",
                                     diagnosis="male_aga", sex="male", date_of_birth=date(1981, 2, 3))
    first = visit_create(actor=clinician, patient=patient, visit_date=date(2025, 1, 10), is_baseline=True)
    visit_create(actor=clinician, patient=patient, visit_date=date(2025, 6, 10), weeks_after_last_session=20)
    return patient, first


def _visit(page, url, problems):
    page.goto(url)
    page.wait_for_load_state()
    problems.extend(f"{url}: {p}" for p in severe_violations(page))


def test_main_pages_of_every_role_have_no_serious_accessibility_violation(
        page, browser_login, record, booked, coordinator, clinician, lab_scientist, statistician, admin_user, evaluator):
    patient, visit = record
    appointment, monday = booked
    grid = f"{reverse('scheduling:grid')}?clinic={appointment.clinic_id}&date={monday:%Y-%m-%d}"
    problems: list[str] = []
    for url in ("/", "/consultation/", "/ask/", "/self-check/", "/privacy/", "/login/"):
        _visit(page, url, problems)
    pages = {
        coordinator: ["/", reverse("intake:inbox"), reverse("patients:list"), reverse("scheduling:calendar"),
                      reverse("patients:detail", kwargs={"pk": patient.pk}),
                      grid, f"{grid}&move={appointment.pk}", f"{grid}&view=week&by=room",
                      f"{reverse('scheduling:book')}?clinic={appointment.clinic_id}",
                      reverse("scheduling:detail", kwargs={"pk": appointment.pk}),
                      f"{reverse('scheduling:availability')}?clinic={appointment.clinic_id}",
                      f"{reverse('patients:list')}?q=access"],
        clinician: ["/", reverse("patients:detail", kwargs={"pk": patient.pk}),
                    reverse("assessments:patient_visits", kwargs={"patient_id": patient.pk}),
                    reverse("assessments:visit", kwargs={"pk": visit.pk}),
                    reverse("assessments:compare", kwargs={"patient_id": patient.pk}),
                    reverse("outcomes:patient", kwargs={"pk": patient.pk}),
                    reverse("screening:new", kwargs={"patient_pk": patient.pk}), grid,
                    reverse("treatments:catalogue")],
        lab_scientist: ["/", reverse("treatments:samples")],
        statistician: ["/", reverse("outcomes:table")],
        evaluator: ["/"],
        admin_user: ["/"],
    }
    for user, urls in pages.items():
        browser_login(user)
        for url in urls:
            _visit(page, url, problems)
        page.click("text=Log out")
        page.wait_for_url("**/login/")
    assert not problems, "\n".join(problems)
