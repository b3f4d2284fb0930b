"""Jobs the tests queue: each leaves a line in a file, so a test counts how often it ran."""

from __future__ import annotations

import time


def _append(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def record(path: str, label: str) -> str:
    _append(path, label)
    return f"recorded {label}"


def slow(path: str, label: str, seconds: float) -> str:
    _append(path, f"start {label}")
    time.sleep(seconds)
    _append(path, f"done {label}")
    return f"slept {seconds}"


def explode(message: str) -> None:
    raise RuntimeError(message)


def touch_patient(patient_id: int, new_name: str) -> str:
    """Writes an audited row, so a test sees whom the audit trail names."""
    from anagen.patients.models import Patient

    patient = Patient.objects.get(pk=patient_id)
    patient.first_name = new_name
    patient.save()
    return "renamed"
