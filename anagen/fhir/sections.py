"""The FHIR section of the patient page: the patient's record as a FHIR R4 file to send on."""

from __future__ import annotations

from . import selectors


def patient_section(request, patient) -> dict | None:
    user = request.user
    if not selectors.can_export_patients(user) or not user.can_see_clinic(patient.clinic_id):
        return None
    return {"template": "fhir/_patient_section.html",
            "fhir_url": f"/api/v1/fhir/Patient/{patient.pk}/$everything?download=true"}
