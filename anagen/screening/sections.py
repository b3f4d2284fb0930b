"""The screening section of the patient page: latest decision per modality and a "Run screening" button."""

from __future__ import annotations

from .selectors import RESULT_ROLES, can_run, latest_screenings
from .models import Modality


def patient_screening_section(request, patient) -> dict | None:
    user = request.user
    if not (user.is_authenticated and user.has_role(*RESULT_ROLES) and user.can_see_clinic(patient.clinic_id)):
        return None
    latest = latest_screenings(patient)
    rows = [{"modality": label, "screening": latest.get(code)} for code, label in Modality.choices]
    return {"template": "screening/_patient_section.html", "screening_rows": rows,
            "patient_id": patient.pk, "can_run_screening": can_run(user),
            "has_screenings": bool(latest)}


def register_patient_section() -> None:
    """Add the section to the patient page (a no-op until the patients app offers sections)."""
    try:
        from anagen.patients.sections import register
    except ImportError:
        return
    register(30, patient_screening_section)
