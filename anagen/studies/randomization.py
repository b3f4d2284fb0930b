"""Randomizing a subject: the only code that reads a study's seed.

The allocation sequence is computed by the evidence library
(:func:`anagen.evidence.randomization.allocate`) from the recorded seed, the protocol's scheme
and the subjects randomized before, and revealed one assignment at a time, here, inside one
transaction on the locked study row. The unique constraint on (study, sequence_number) is the
last guard: two randomizations can never take the same slot. Nothing here undoes an
allocation; an error is corrected by :func:`allocation_correct`, a recorded decision.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from anagen.core.errors import ActionError, Conflict

from .models import Allocation, AllocationCorrection, Design, RandomizationSecret, Study, Subject, SubjectStatus
from .lock import check_not_locked
from .services import INVESTIGATOR_ROLES, PROTOCOL_EDIT_ROLES, _check_study_role, _text, research_consent


def _spec(study: Study, content: dict):
    from anagen.evidence.randomization import RandomizationSpec

    scheme = content["randomization"]
    if content["design"] == Design.SPLIT_SCALP:
        arms, ratio = ("L", "R"), (1, 1)
    else:
        arms = tuple(a["code"] for a in content["arms"])
        ratio = tuple(a["ratio"] for a in content["arms"])
    seed = RandomizationSecret.objects.values_list("seed", flat=True).get(study=study)
    try:
        return RandomizationSpec(
            algorithm=scheme["algorithm"], arms=arms, ratio=ratio, seed=seed,
            block_multiples=tuple(scheme.get("block_multiples") or (1, 2)),
            strata_factors=tuple(scheme.get("strata_factors") or ()),
            minimization_factors=tuple(scheme.get("minimization_factors") or ()),
            p_best=scheme.get("p_best", 0.8))
    except ValueError as exc:
        raise ActionError(f"The protocol's randomization scheme is not usable: {exc}. Amend the protocol.",
                          code="bad_scheme") from None


@transaction.atomic
def subject_randomize(*, actor, subject: Subject) -> Allocation:
    """Randomize an enrolled subject: the next slot of the sequence, never given twice, never undone."""
    from anagen.evidence.randomization import allocate

    # The study row is the lock: every randomization of this study queues here.
    study = Study.objects.select_for_update().get(pk=subject.study_id)
    subject = Subject.objects.select_for_update().select_related("patient", "protocol_version").get(pk=subject.pk)
    _check_study_role(actor, study, INVESTIGATOR_ROLES, "randomize")
    check_not_locked(study)
    if not actor.can_see_clinic(subject.site_id):
        from django.http import Http404

        raise Http404("No such subject at a clinic you work at.")
    if Allocation.objects.filter(subject=subject).exists():
        raise Conflict(f"{subject.code} is already randomized; a randomization is never repeated or undone.",
                       code="already_randomized")
    if subject.status != SubjectStatus.ENROLLED:
        raise Conflict(f"{subject.code} is {subject.get_status_display().lower()}: only an enrolled subject is "
                       "randomized.", code="not_enrolled")
    if research_consent(study, subject.patient, subject.protocol_version) is None:
        raise ActionError(f"{subject.code} has no active research consent of the study's version: it was withdrawn "
                          "or never given. Randomization is refused.", code="no_consent")
    spec = _spec(study, subject.protocol_version.content)
    # Only the two columns the library needs: loading whole subjects (facts, eligibility) cost ten
    # times more than the allocation itself (benchmarks/studies_randomize.py).
    previous = list(Allocation.objects.filter(study=study).order_by("sequence_number")
                    .values_list("subject__factors", "arm_code"))
    result = allocate(spec, factors=subject.factors, previous=previous)
    allocation = Allocation.objects.create(
        study=study, subject=subject, sequence_number=result.sequence_number, arm_code=result.arm,
        stratum=result.stratum, index_in_stratum=result.index_in_stratum, block_index=result.block_index,
        block_size=result.block_size, algorithm=result.algorithm, algorithm_version=result.version,
        randomized_at=timezone.now(), randomized_by=actor)
    subject.status = SubjectStatus.RANDOMIZED
    subject.save(update_fields=["status"])
    return allocation


@transaction.atomic
def allocation_correct(*, actor, allocation: Allocation, decision: str, reason: str) -> AllocationCorrection:
    """Record the decision that corrects an error in a randomization; the allocation itself stays."""
    _check_study_role(actor, allocation.study, PROTOCOL_EDIT_ROLES + INVESTIGATOR_ROLES, "record a correction")
    check_not_locked(allocation.study_id)
    return AllocationCorrection.objects.create(
        allocation=allocation, decision=_text(decision, "decision", "decision", 2000, required=True),
        reason=_text(reason, "reason", "reason", 2000, required=True), decided_by=actor, decided_at=timezone.now())


def balance(*, actor, study: Study):
    """For the unblinded statistician: the balance report (counts per arm overall, per stratum and
    factor level, imbalance, predictability) and the positions whose stored arm differs from the
    sequence re-derived from the seed (the randomization audit; empty when all agree)."""
    from django.core.exceptions import PermissionDenied

    from anagen.evidence.randomization import balance_report, verify_sequence

    from . import blinding
    from .services import approved_version

    if not blinding.is_unblinded(actor, study):
        raise PermissionDenied("Only an unblinded member of the study team sees the allocation balance.")
    version = approved_version(study)
    if version is None:
        raise Conflict("The protocol is not signed off yet: nothing has been randomized.", code="draft")
    spec = _spec(study, version.content)
    history = list(Allocation.objects.filter(study=study).order_by("sequence_number")
                   .values_list("subject__factors", "arm_code"))
    levels = {"site": list(study.sites.values_list("slug", flat=True)), "sex": ["female", "male"]}
    levels = {k: v for k, v in levels.items() if k in spec.strata_factors or k in spec.minimization_factors}
    return balance_report(spec, history, levels=levels), verify_sequence(spec, history)
