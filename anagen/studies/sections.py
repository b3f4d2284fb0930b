"""The studies section of the patient page: the studies this investigator screens for at the
patient's clinic, with an enrol link or the subject code (never the assignment)."""

from __future__ import annotations


def patient_studies_section(request, patient) -> dict | None:
    from .selectors import studies_for_patient

    user = request.user
    if not (user.is_authenticated and user.can_see_clinic(patient.clinic_id)):
        return None
    rows = studies_for_patient(user=user, patient=patient)
    if not rows:
        return None
    return {"template": "studies/_patient_section.html", "study_rows": rows, "patient_id": patient.pk}


def register_patient_section() -> None:
    try:
        from anagen.patients.sections import register
    except ImportError:
        return
    register(80, patient_studies_section)
