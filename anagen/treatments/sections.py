"""The treatments section of the patient page: plans, procedures, adverse events and samples."""

from __future__ import annotations

from .selectors import adverse_event_list, plan_list, procedure_list, sample_list
from anagen.core.permissions import CLINICAL_ROLES, has_role


def patient_section(request, patient) -> dict | None:
    user = request.user
    from .selectors import TREATMENT_VIEW_ROLES

    if not has_role(user, *TREATMENT_VIEW_ROLES) or not user.can_see_clinic(patient.clinic_id):
        return None
    samples = sample_list(user=user, patient=patient) if has_role(user, *("admin", "clinician")) else None
    return {
        "template": "treatments/_patient_section.html",
        "treatment_plans": plan_list(user=user, patient=patient),
        "treatment_procedures": procedure_list(user=user, patient=patient)[:50],
        "treatment_adverse_events": adverse_event_list(user=user, patient=patient),
        "treatment_samples": samples,
        "treatment_can_record": has_role(user, *CLINICAL_ROLES),
        "treatment_patient": patient,
    }
