"""Opening assessment visits."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from anagen.assessments.services import visit_create
from anagen.core.errors import ActionError, Conflict


def test_a_follow_up_counts_weeks_from_the_latest_procedure(patient, clinician):
    from anagen.treatments.models import Modality, Procedure

    modality = Modality.objects.first()
    assert modality is not None, "the treatments catalogue is seeded by its migration"
    Procedure.objects.create(patient=patient, clinic=patient.clinic, modality=modality, clinician=clinician,
                             performed_on=date(2025, 1, 6))
    visit = visit_create(actor=clinician, patient=patient, visit_date=date(2025, 4, 1))
    assert visit.weeks_after_last_session == 12
    typed = visit_create(actor=clinician, patient=patient, visit_date=date(2025, 4, 2), weeks_after_last_session=11)
    assert typed.weeks_after_last_session == 11


def test_a_patient_has_one_baseline(visit, clinician, patient):
    with pytest.raises(Conflict, match="already has a baseline"):
        visit_create(actor=clinician, patient=patient, visit_date=date(2025, 2, 1), is_baseline=True)


def test_a_visit_in_the_future_is_refused(clinician, patient):
    with pytest.raises(ActionError, match="in the future"):
        visit_create(actor=clinician, patient=patient, visit_date=date(2999, 1, 1))


def test_a_global_assessment_off_the_scale_is_refused(clinician, patient):
    with pytest.raises(ActionError, match="greatly worse"):
        visit_create(actor=clinician, patient=patient, visit_date=date(2025, 2, 1), patient_global=-4)


@pytest.mark.parametrize("persona", ["coordinator", "clinician_b", "lab_scientist", "evaluator"])
def test_only_the_patients_clinicians_open_visits(request, persona, patient):
    with pytest.raises(PermissionDenied):
        visit_create(actor=request.getfixturevalue(persona), patient=patient, visit_date=date(2025, 2, 1))


def test_visits_are_in_the_audit_trail(visit, clinician):
    from anagen.audit.selectors import record_history

    history = record_history(visit)
    assert history and history[0].action == "created"
