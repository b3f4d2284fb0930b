"""A treatment outside the study product: in a study whose treatment is given as prepared
syringes, a subject's clinic procedure during the study (not a study syringe's) is a deviation
found from the records, once, on the procedure's date; the study syringes' own procedures never
are, and nothing in the finding names an arm."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from anagen.core.errors import ActionError
from anagen.studies import deviations
from anagen.studies.models import Deviation

from . import delivery_fixtures as fx
from .test_delivery import split  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

OUTSIDE = "outside_treatment"


def _clinic_procedure(subject, clinician, on, code="prp"):
    from anagen.treatments.models import Modality, Procedure

    return Procedure.objects.create(patient=subject.patient, clinic=subject.site, clinician=clinician,
                                    modality=Modality.objects.get(code=code), performed_on=on)


def _found(subject):
    return list(Deviation.objects.filter(subject=subject, category=OUTSIDE).order_by("occurred_on", "pk"))


def test_a_clinic_procedure_during_the_study_is_found_once_and_the_study_syringes_are_not(split, pharmacist,
                                                                                         clinician):
    study, subject, lots = split
    today = timezone.localdate()
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    fx.inject_all(subject, injector=clinician)  # two study procedures: never deviations
    deviations.deviations_refresh(actor=clinician, study=study)
    assert _found(subject) == []
    before = _clinic_procedure(subject, clinician, today - timedelta(days=30))  # before randomization
    during = _clinic_procedure(subject, clinician, today)
    opened, _ = deviations.deviations_refresh(actor=clinician, study=study)
    (d,) = _found(subject)
    assert opened >= 1 and d.procedure == during and d.detected and d.occurred_on == today
    assert "Platelet-rich plasma" in d.description and "not as study product" in d.description
    assert not d.reveals_allocation and before.pk != d.procedure_id
    arms = [a.name for a in study.arms.all()]
    assert not any(name in d.description for name in arms)
    deviations.deviations_refresh(actor=None, study=study)  # idempotent
    assert len(_found(subject)) == 1
    # A report by hand of this category is refused: it is found from the records.
    with pytest.raises(ActionError) as exc:
        deviations.deviation_report(actor=clinician, subject=subject, category=OUTSIDE, description="PRP given")
    assert exc.value.field == "category" and "procedure" in exc.value.message


def test_no_finding_where_the_treatment_is_not_given_as_study_product(split, clinician):
    study, subject, _ = split
    _clinic_procedure(subject, clinician, timezone.localdate())
    deviations.deviations_refresh(actor=clinician, study=study)
    assert _found(subject) == []  # the study's treatment may be these very procedures


def test_after_the_end_of_participation_a_procedure_is_not_a_deviation(split, pharmacist, clinician):
    from anagen.studies.models import Subject

    study, subject, lots = split
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    today = timezone.localdate()
    Subject.objects.filter(pk=subject.pk).update(status="withdrawn", ended_on=today - timedelta(days=1),
                                                 end_reason="Moved away")
    _clinic_procedure(subject, clinician, today)
    deviations.deviations_refresh(actor=clinician, study=study)
    assert _found(subject) == []


def test_the_deviations_page_lists_the_finding(split, pharmacist, clinician, login):
    study, subject, lots = split
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    _clinic_procedure(subject, clinician, timezone.localdate())
    deviations.deviations_refresh(actor=clinician, study=study)
    page = login(clinician).get(f"/studies/{study.pk}/deviations/").content.decode()
    assert "Treatment outside the study product" in page and "Platelet-rich plasma" in page
