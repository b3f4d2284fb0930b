"""CONSORT "received" per unit (issue items 5 and 9): a scalp half (split-scalp) or a subject
(parallel) received its allocated intervention when a study syringe for it was injected; a
subject without any syringe record falls back to a procedure on or after randomization, and the
reason a unit did not receive says which rule applies."""

from __future__ import annotations

import pytest
from django.utils import timezone

from anagen.studies import delivery, services
from anagen.studies.analysis_services import consort_counts, listing
from anagen.studies.datasets import build
from anagen.studies.randomization import subject_randomize

from . import delivery_fixtures as fx
from .conftest import sign_off

pytestmark = pytest.mark.django_db

SYRINGE_SIDE = "No study product injected on this side"
SYRINGE_WHOLE = "No study product injected"
FALLBACK = "No study treatment recorded"


def _study(team, statistician, clinician, clinic, make_patient, pharmacist, admin_user, *, design, n):
    if design == "split_scalp":
        services.study_update(actor=statistician, study=team, design="split_scalp")
    study = sign_off(team, statistician, clinician)
    subjects = []
    for _ in range(n):
        subject = services.subject_enrol(actor=clinician, study=study, patient=make_patient(clinic))
        subject_randomize(actor=clinician, subject=subject)
        subject.refresh_from_db()
        fx.treatment_consent(subject.patient, clinician)
        subjects.append(subject)
    lots = fx.study_lots(study, pharmacist=pharmacist, receiver=admin_user, clinic=clinic)
    return study, subjects, lots


def _procedure(subject, clinician):
    """A procedure on the day of randomization, recorded outside the study's delivery (the fallback)."""
    from anagen.treatments.models import Modality, Procedure

    modality = Modality.objects.first() or Modality.objects.create(code="exosomes", name="Exosomes")
    return Procedure.objects.create(patient=subject.patient, clinic=subject.site, modality=modality,
                                    clinician=clinician, performed_on=timezone.localdate())


def _arm(counts, name):
    return next(a for a in counts.arms if a.name == name)


def test_split_scalp_counts_each_half_by_its_syringe(team, statistician, clinician, clinic, make_patient,
                                                     pharmacist, admin_user):
    study, (both, one, fallback, none), lots = _study(team, statistician, clinician, clinic, make_patient,
                                                      pharmacist, admin_user, design="split_scalp", n=4)
    fx.prepare(both, pharmacist=pharmacist, lots=lots)
    fx.inject_all(both, injector=clinician)
    fx.prepare(one, pharmacist=pharmacist, lots=lots)
    delivery.injection_record(actor=clinician, subject=one, visit_code="baseline", side="L",
                              zones={"frontal": 2}, needle="30G 4 mm")  # R not given
    _procedure(fallback, clinician)  # no syringes: the procedure rule, both halves

    data = build(study)
    rules = {r.code: r.received_rule for r in data.subjects}
    assert rules == {both.code: "syringe", one.code: "syringe", fallback.code: "procedure", none.code: "procedure"}
    assert next(r for r in data.subjects if r.code == one.code).received == {"left": True, "right": False}

    counts = consort_counts(data)
    active, control = _arm(counts, data.active), _arm(counts, data.control)
    # "one" got its left half: it counts as received in the arm of its left half only.
    one_left_active = one.allocation.arm_code == "L"
    assert active.allocated == control.allocated == 4
    assert active.received == 2 + one_left_active and control.received == 2 + (not one_left_active)
    missing_arm = control if one_left_active else active
    received_arm = active if one_left_active else control
    assert missing_arm.not_received == {SYRINGE_SIDE: 1, FALLBACK: 1}
    assert received_arm.not_received == {FALLBACK: 1}
    rows = [(r["subject"], r["kind"], r["detail"]) for r in listing(data)]
    assert (one.code, SYRINGE_WHOLE, "side R") in rows
    assert (none.code, FALLBACK, "") in rows
    assert not any(code in (both.code, fallback.code) and kind in (SYRINGE_WHOLE, FALLBACK)
                   for code, kind, _ in rows)


def test_parallel_counts_a_subject_by_their_syringe_or_the_fallback(team, statistician, clinician, clinic,
                                                                     make_patient, pharmacist, admin_user):
    study, subjects, lots = _study(team, statistician, clinician, clinic, make_patient, pharmacist, admin_user,
                                   design="parallel", n=4)
    given, prepared, fallback, none = subjects
    for s in (given, prepared):
        fx.prepare(s, pharmacist=pharmacist, lots=lots)
    fx.inject_all(given, injector=clinician)
    _procedure(fallback, clinician)
    _procedure(prepared, clinician)  # a procedure that is not the study product: the syringe rule still holds

    data = build(study)
    received = {r.code: (r.received, r.received_rule) for r in data.subjects}
    assert received[given.code] == ({"": True}, "syringe")
    assert received[prepared.code] == ({"": False}, "syringe")
    assert received[fallback.code] == ({"": True}, "procedure")
    assert received[none.code] == ({"": False}, "procedure")

    counts = consort_counts(data)
    arm_of = {r.code: r.arm for r in data.subjects}
    for arm in counts.arms:
        members = [s for s in subjects if arm_of[s.code] == arm.name]
        assert arm.allocated == len(members)
        assert arm.received == sum(1 for s in members if s in (given, fallback))
        expected = {}
        if prepared in members:
            expected[SYRINGE_WHOLE] = 1
        if none in members:
            expected[FALLBACK] = 1
        assert arm.not_received == expected
    rows = [(r["subject"], r["kind"]) for r in listing(data)]
    assert (prepared.code, SYRINGE_WHOLE) in rows and (none.code, FALLBACK) in rows


def test_without_any_syringe_the_procedures_decide_as_before(team, statistician, clinician, clinic, make_patient,
                                                             pharmacist, admin_user):
    study, (treated, untreated), _ = _study(team, statistician, clinician, clinic, make_patient, pharmacist,
                                            admin_user, design="split_scalp", n=2)
    _procedure(treated, clinician)
    counts = consort_counts(build(study))
    for arm in counts.arms:
        assert (arm.allocated, arm.received, arm.not_received) == (2, 1, {FALLBACK: 1})
