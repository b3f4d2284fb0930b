"""The treatments section of the patient page: plans, procedures, adverse events and samples."""

from __future__ import annotations

from .selectors import adverse_event_list, plan_list, procedure_list, sample_list
from anagen.core.permissions import CLINICAL_ROLES, has_role


def patient_section(request, patient) -> dict | None:
    user = request.user
    from .selectors import TREATMENT_VIEW_ROLES

    if not has_role(user, *TREATMENT_VIEW_ROLES) or not user.can_see_clinic(patient.clinic_id):
        return None
    plans = plan_list(user=user, patient=patient)
    active = [p for p in plans if p.status == "active"]
    samples = sample_list(user=user, patient=patient) if has_role(user, *("admin", "clinician")) else None
    return {
        "template": "treatments/_patient_section.html",
        "title": "Treatment",
        # For the chart's header: the active plan(s), or nothing.
        "facts": [("Active plan", "; ".join(f"{p.modality_names}, {p.sessions} session{'s' if p.sessions != 1 else ''} "
                                            f"from {p.start_on:%d/%m/%Y}" for p in active))],
        "treatment_plans": plans,
        "treatment_procedures": procedure_list(user=user, patient=patient)[:50],
        "treatment_adverse_events": adverse_event_list(user=user, patient=patient),
        "treatment_samples": samples,
        "treatment_can_record": has_role(user, *CLINICAL_ROLES),
        "treatment_patient": patient,
    }
