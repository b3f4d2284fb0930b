"""The assessment visits section of the patient page."""

from __future__ import annotations

from .selectors import can_read, can_see_photographs, can_write, visit_list, with_adjusted


def visits_section(request, patient) -> dict | None:
    user = request.user
    if not (can_read(user) and user.can_see_clinic(patient.clinic_id)):
        return None
    return {
        "template": "assessments/_patient_section.html",
        "assessment_visits": with_adjusted(visit_list(user=user, patient=patient)),
        "assessment_patient": patient,
        "assessment_can_write": can_write(user),
        "assessment_photographs": can_see_photographs(user),
    }
