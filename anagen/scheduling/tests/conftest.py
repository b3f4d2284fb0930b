"""Scheduling fixtures: patients, clinicians' hours and future dates, set up through the services."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

_numbers = itertools.count(1)


def next_monday(weeks_ahead: int = 2) -> date:
    """A Monday at least ``weeks_ahead`` weeks from today, so bookings are never in the past."""
    d = timezone.localdate() + timedelta(weeks=weeks_ahead)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def at(clinic, day: date, hhmm: str) -> datetime:
    """``hhmm`` on ``day`` in ``clinic``'s local time, as an aware datetime."""
    h, m = map(int, hhmm.split(":"))
    return datetime.combine(day, time(h, m), tzinfo=clinic.tz)


@pytest.fixture
def make_patient(db):
    from anagen.patients.models import Patient

    def _make(clinic, first_name="Pat", last_name="Patient", email="pat@example.test", **extra):
        return Patient.objects.create(clinic=clinic, patient_number=f"AN-{next(_numbers):06d}", first_name=first_name,
                                      last_name=last_name, email=email, diagnosis="male_aga", **extra)

    return _make


@pytest.fixture
def patient(clinic, make_patient):
    return make_patient(clinic)


@pytest.fixture
def patient_b(clinic_b, make_patient):
    return make_patient(clinic_b, first_name="Bea", last_name="Solihull", email="bea@example.test")


@pytest.fixture
def hours():
    """``hours(clinician, clinic, start="08:00", end="18:00", room=None, weekdays=range(7))``."""
    from anagen.scheduling.models import ClinicianAvailability

    def _hours(clinician, clinic, start="08:00", end="18:00", room=None, weekdays=range(7), valid_from=None,
               valid_until=None):
        rows = []
        for wd in weekdays:
            rows.append(ClinicianAvailability.objects.create(
                clinician=clinician, clinic=clinic, room=room, weekday=wd, start_time=time.fromisoformat(start),
                end_time=time.fromisoformat(end), valid_from=valid_from or timezone.localdate() - timedelta(days=1),
                valid_until=valid_until))
        return rows

    return _hours


@pytest.fixture
def day():
    return next_monday()


@pytest.fixture
def rooms(clinic):
    return {r.name: r for r in clinic.rooms.all()}


@pytest.fixture
def open_clinic(clinic, clinician, hours):
    """The Birmingham clinician works there every day, 08:00 to 18:00, in any room."""
    hours(clinician, clinic)
    return clinic


@pytest.fixture
def book(coordinator, open_clinic, clinician, patient, rooms):
    """``book(at="10:00", **overrides)`` books through the service as the coordinator."""
    from anagen.scheduling.services import appointment_book

    def _book(hhmm="10:00", day=None, **kw):
        kw.setdefault("actor", coordinator)
        kw.setdefault("patient", patient)
        kw.setdefault("clinician", clinician)
        kw.setdefault("clinic", open_clinic)
        kw.setdefault("kind", "free_consultation")
        if "room" not in kw and kw["kind"] != "video_consultation":
            kw["room"] = rooms["Procedure 1"] if kw["kind"] == "procedure" else rooms["Consulting 1"]
        kw.setdefault("starts_at", at(kw["clinic"] or open_clinic, day or next_monday(), hhmm))
        return appointment_book(**kw)

    return _book
