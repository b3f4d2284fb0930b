"""Patients made through the real service, for tests."""

from __future__ import annotations

from datetime import date


def make_patient(actor, clinic, **overrides):
    from anagen.patients.services import patient_register

    data = {"first_name": "Jane", "last_name": "Doe", "date_of_birth": date(1985, 4, 12),
            "email": "jane.doe@example.test", "phone": "07700 900123"}
    data.update(overrides)
    return patient_register(actor=actor, clinic=clinic, **data)
