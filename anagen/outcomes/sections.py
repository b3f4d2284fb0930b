"""The "Timeline and progress" section on the patient page."""

from __future__ import annotations

from . import selectors


def patient_section(request, patient) -> dict | None:
    if not selectors.can_see_timeline(request.user, patient):
        return None
    progress = selectors.patient_progress(user=request.user, patient=patient)
    latest = next((r for r in reversed(progress.rows) if r.density_change is not None), None)
    return {"template": "outcomes/_patient_section.html", "patient_id": patient.pk, "progress": progress,
            "latest_change": latest.density_change if latest else None}
