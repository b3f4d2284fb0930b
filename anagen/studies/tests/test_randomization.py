"""Randomization through the evidence library: the recorded seed's sequence, one slot at a time,
never twice, never undone."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from anagen.core.errors import ActionError, Conflict
from anagen.evidence.randomization import RandomizationSpec, allocate_all, verify_sequence
from anagen.studies import services
from anagen.studies.models import Allocation, AllocationCorrection, RandomizationSecret
from anagen.studies.randomization import allocation_correct, subject_randomize

pytestmark = pytest.mark.django_db


def _enrol(study, clinician, make_patient, clinic, n, **kw):
    return [services.subject_enrol(actor=clinician, study=study, patient=make_patient(clinic, **kw)) for _ in range(n)]


def test_the_allocations_are_the_evidence_librarys_sequence_for_the_recorded_seed(recruiting_study, clinician, clinic,
                                                                                   make_patient):
    subjects = _enrol(recruiting_study, clinician, make_patient, clinic, 4) + _enrol(
        recruiting_study, clinician, make_patient, clinic, 4, sex="female", diagnosis="female_aga")
    made = [subject_randomize(actor=clinician, subject=s) for s in subjects]
    assert [a.sequence_number for a in made] == list(range(8))
    seed = RandomizationSecret.objects.get(study=recruiting_study).seed
    spec = RandomizationSpec(algorithm="permuted_blocks", arms=("MG", "PL"), ratio=(1, 1), seed=seed,
                             block_multiples=(1, 2), strata_factors=("sex", "site"))
    expected = allocate_all(spec, [s.factors for s in subjects])
    assert [a.arm_code for a in made] == [e.arm for e in expected]
    assert [a.stratum for a in made] == [e.stratum for e in expected]
    assert verify_sequence(spec, [(s.factors, a.arm_code) for s, a in zip(subjects, made)]) == []
    for s in subjects:
        s.refresh_from_db()
        assert s.status == "randomized"


def test_a_split_scalp_study_randomizes_the_side_that_gets_the_active_product(draft_study, team, statistician,
                                                                               clinician, clinic, make_patient):
    from .conftest import sign_off

    services.study_update(actor=statistician, study=team, design="split_scalp")
    study = sign_off(team, statistician, clinician)
    subject = _enrol(study, clinician, make_patient, clinic, 1)[0]
    assert subject_randomize(actor=clinician, subject=subject).arm_code in ("L", "R")


def test_minimization_is_used_when_the_protocol_says_so(team, statistician, clinician, clinic, make_patient):
    from .conftest import sign_off

    services.study_update(actor=statistician, study=team, algorithm="minimization", strata_factors=[],
                          minimization_factors=["sex", "stage_group"], p_best=0.9)
    study = sign_off(team, statistician, clinician)
    made = [subject_randomize(actor=clinician, subject=s) for s in _enrol(study, clinician, make_patient, clinic, 6)]
    assert {a.algorithm for a in made} == {"minimization"}
    assert {a.block_size for a in made} == {None}


def test_a_randomization_is_never_repeated_edited_or_deleted(subject, clinician):
    allocation = subject_randomize(actor=clinician, subject=subject)
    with pytest.raises(Conflict, match="already randomized"):
        subject_randomize(actor=clinician, subject=subject)
    allocation.arm_code = "PL" if allocation.arm_code == "MG" else "MG"
    with pytest.raises(ValueError, match="cannot be changed"):
        allocation.save()
    with pytest.raises(ValueError, match="cannot be undone"):
        allocation.delete()
    assert Allocation.objects.count() == 1


def test_the_same_slot_cannot_be_stored_twice(subject, clinician, recruiting_study, clinic, make_patient):
    first = subject_randomize(actor=clinician, subject=subject)
    other = services.subject_enrol(actor=clinician, study=recruiting_study, patient=make_patient(clinic))
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.create(study=recruiting_study, subject=other, sequence_number=first.sequence_number,
                                  arm_code="MG", index_in_stratum=0, algorithm="permuted_blocks",
                                  algorithm_version="1", randomized_at=first.randomized_at, randomized_by=clinician)


def test_an_error_is_corrected_by_a_recorded_decision_not_an_edit(subject, clinician, statistician):
    allocation = subject_randomize(actor=clinician, subject=subject)
    arm = allocation.arm_code
    correction = allocation_correct(actor=statistician, allocation=allocation,
                                    decision="Analyse as randomized; treated with the other product in error.",
                                    reason="Syringes swapped at the first session")
    assert AllocationCorrection.objects.get() == correction
    assert Allocation.objects.get().arm_code == arm
    with pytest.raises(ActionError, match="reason"):
        allocation_correct(actor=statistician, allocation=allocation, decision="x", reason="")


def test_randomizing_without_an_active_consent_is_refused(subject, clinician):
    from anagen.patients.services import consent_withdraw

    consent_withdraw(actor=clinician, consent=subject.consent, reason="Changed their mind.")
    with pytest.raises(ActionError, match="no active research consent") as exc:
        subject_randomize(actor=clinician, subject=subject)
    assert exc.value.code == "no_consent"
    assert not Allocation.objects.exists()
    subject.refresh_from_db()
    assert subject.status == "enrolled"


def test_only_investigators_randomize(subject, evaluator, pharmacist, statistician):
    for person in (evaluator, pharmacist, statistician):
        with pytest.raises(PermissionDenied):
            subject_randomize(actor=person, subject=subject)
    assert not Allocation.objects.exists()


def test_the_seed_is_in_no_audit_entry_and_the_arm_not_in_the_allocations(subject, clinician):
    from auditlog.models import LogEntry

    allocation = subject_randomize(actor=clinician, subject=subject)
    seed = str(RandomizationSecret.objects.get().seed)
    assert not any(seed in str(e.changes) for e in LogEntry.objects.all())
    entry = LogEntry.objects.get_for_object(allocation).get()
    assert set(entry.changes_dict) <= {"study", "subject", "sequence_number", "randomized_at", "randomized_by"}
    assert "arm_code" not in entry.changes_dict


def test_the_unblinded_statistician_sees_the_balance_and_the_audit_blinded_members_get_403(
        recruiting_study, statistician, clinician, clinic, make_patient, login):
    from anagen.studies.randomization import balance

    subjects = _enrol(recruiting_study, clinician, make_patient, clinic, 6)
    for s in subjects:
        subject_randomize(actor=clinician, subject=s)
    from anagen.accounts.services import staff_create

    independent = staff_create(email="indep@birmingham.test", password="an-independent-statistician", roles=["statistician"],
                               clinics=[clinic])
    services.member_add(actor=statistician, study=recruiting_study, user=independent, role="unblinded_statistician")
    report, mismatches = balance(actor=independent, study=recruiting_study)
    assert report.n == 6 and sum(report.counts.values()) == 6 and mismatches == []
    assert set(report.by_factor["site"]) == {"birmingham"}
    page = login(independent).get(f"/studies/{recruiting_study.pk}/balance")
    assert page.status_code == 200 and b"exactly the sequence re-derived" in page.content
    # A stored arm that is not the sequence's shows in the audit.
    first = Allocation.objects.get(sequence_number=0)
    Allocation.objects.filter(pk=first.pk).update(arm_code="PL" if first.arm_code == "MG" else "MG")
    assert balance(actor=independent, study=recruiting_study)[1] == [0]
    for person in (statistician, clinician):
        with pytest.raises(PermissionDenied):
            balance(actor=person, study=recruiting_study)
        assert login(person).get(f"/studies/{recruiting_study.pk}/balance").status_code == 403
