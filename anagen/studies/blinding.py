"""The blinding rule, in one place: what a user may see of a subject's assignment.

Every studies page, API response and export asks :func:`assignment_view`; nothing else reads
:class:`~anagen.studies.models.Allocation` for display. A user sees the assignment when their study
role is unblinded (the pharmacist who prepares the products, the independent statistician), or
when they broke the code of that subject themselves in an emergency. Everyone else, blinded
evaluators, investigators, coordinators and the study statistician, sees that the subject *was*
randomized and when, never the arm, the side that gets the active product, the sequence number
or the stratum's position (which, with the block sizes, could let them infer the next arm), and
no counts per arm.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import UNBLINDED_ROLES, Design, StudyMember

BLINDED = "Blinded"
SIDES = {"L": "left", "R": "right"}


def study_role(user, study) -> str | None:
    """The user's role on the study team, or None when they are not on it."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    cache = user.__dict__.setdefault("_study_roles", {})
    if study.pk not in cache:
        cache[study.pk] = StudyMember.objects.filter(study_id=study.pk, user=user).values_list("role", flat=True).first()
    return cache[study.pk]


def is_unblinded(user, study) -> bool:
    return study_role(user, study) in UNBLINDED_ROLES


def broke_code(user, subject) -> bool:
    return bool(user and user.is_authenticated and subject.code_breaks.filter(broken_by=user).exists())


def can_see_assignment(user, subject) -> bool:
    return is_unblinded(user, subject.study) or broke_code(user, subject)


@dataclass(frozen=True)
class AssignmentView:
    """What one user may see of one subject's randomization."""

    randomized: bool
    randomized_at: object | None
    visible: bool  # False: blinded
    label: str  # "Blinded", "Not randomized", or the assignment in words
    arm_code: str | None = None
    sequence_number: int | None = None
    stratum: str | None = None

    def as_dict(self) -> dict:
        out = {"randomized": self.randomized, "randomized_at": self.randomized_at, "blinded": not self.visible,
               "assignment": self.label}
        if self.visible and self.randomized:  # a subject not randomized has no allocation fields at all
            out.update(arm_code=self.arm_code, sequence_number=self.sequence_number, stratum=self.stratum)
        return out


def describe(study, arm_code: str) -> str:
    """The assignment in words: the arm, or for split-scalp the side that gets the active product."""
    arms = list(study.arms.all())
    if study.design == Design.SPLIT_SCALP:
        active = next(a for a in arms if not a.is_placebo)
        placebo = next(a for a in arms if a.is_placebo)
        other = "R" if arm_code == "L" else "L"
        return f"{active.name} on the {SIDES[arm_code]} side, {placebo.name} on the {SIDES[other]} side"
    arm = next((a for a in arms if a.code == arm_code), None)
    return f"Arm {arm_code}: {arm.name}" if arm else f"Arm {arm_code}"


def assignment_view(user, subject) -> AssignmentView:
    try:
        allocation = subject.allocation
    except Exception:  # RelatedObjectDoesNotExist
        allocation = None
    if allocation is None:
        return AssignmentView(randomized=False, randomized_at=None, visible=True, label="Not randomized")
    if not can_see_assignment(user, subject):
        return AssignmentView(randomized=True, randomized_at=allocation.randomized_at, visible=False, label=BLINDED)
    return AssignmentView(randomized=True, randomized_at=allocation.randomized_at, visible=True,
                          label=describe(subject.study, allocation.arm_code), arm_code=allocation.arm_code,
                          sequence_number=allocation.sequence_number, stratum=allocation.stratum)


# --- study products (issue item 5) ----------------------------------------------------------------
#
# A lot set aside for an arm, or the lot in a subject's syringe, tells the arm as surely as the
# allocation does. The same rule decides: a study lot is seen by the study's unblinded members
# only; a syringe's arm and lot by whoever may see that subject's assignment.


def hidden_lot_ids(user):
    """The ids of the study lots ``user`` may not see: every study lot except those of the
    studies on which the user is unblinded. ``user`` None (an export, a timeline): all of them."""
    from .models_delivery import StudyLot

    qs = StudyLot.objects.all()
    if user is not None and getattr(user, "is_authenticated", False) and user.is_active:
        qs = qs.exclude(study_id__in=StudyMember.objects.filter(user=user, role__in=UNBLINDED_ROLES)
                        .values("study_id"))
    return qs.values_list("lot_id", flat=True)


@dataclass(frozen=True)
class SyringeView:
    """What one user may see of one syringe."""

    id: int
    label: str
    side: str
    quantity: object
    visit_code: str
    prepared_at: object
    prepared_by: str
    injected_at: object | None
    injected_by: str | None
    procedure_id: int | None
    visible: bool
    arm: str | None = None  # "MG: Micrograft suspension"
    lot: str | None = None  # "Micrograft suspension lot A-1"
    discarded_at: object | None = None
    discarded_by: str | None = None
    discard_reason: str | None = None  # the unblinded preparer's words: for the unblinded only

    def as_dict(self) -> dict:
        out = {"id": self.id, "label": self.label, "side": self.side or None, "quantity_ml": self.quantity,
               "visit_code": self.visit_code, "prepared_at": self.prepared_at, "prepared_by": self.prepared_by,
               "injected_at": self.injected_at, "injected_by": self.injected_by, "procedure_id": self.procedure_id,
               "blinded": not self.visible, "discarded_at": self.discarded_at, "discarded_by": self.discarded_by}
        if self.visible:
            out.update(arm=self.arm, lot=self.lot, discard_reason=self.discard_reason)
        return out


def syringe_view(user, syringe) -> SyringeView:
    prep = syringe.preparation
    visible = can_see_assignment(user, prep.subject)
    return SyringeView(
        id=syringe.pk, label=syringe.label, side=syringe.side, quantity=syringe.quantity, visit_code=prep.visit_code,
        prepared_at=syringe.filled_at or prep.prepared_at,
        prepared_by=str(syringe.filled_by if syringe.filled_by_id else prep.prepared_by), injected_at=syringe.injected_at,
        injected_by=str(syringe.injected_by) if syringe.injected_by_id else None, procedure_id=syringe.procedure_id,
        visible=visible, arm=str(syringe.arm) if visible else None,
        lot=syringe.contents if visible else None, discarded_at=syringe.discarded_at,
        discarded_by=str(syringe.discarded_by) if syringe.discarded_by_id else None,
        discard_reason=syringe.discard_reason if visible else None)


def procedure_notes(user, procedure_ids) -> dict[int, str]:
    """For study procedures among ``procedure_ids``: the note shown in place of the product, with
    the arm and lot only for a user who may see the subject's assignment."""
    from .models_delivery import Syringe

    out = {}
    for s in (Syringe.objects.filter(procedure_id__in=list(procedure_ids))
              .select_related("preparation__subject__study", "arm", "lot__product", "sample")):
        subject = s.preparation.subject
        note = f"{subject.study.title}, subject {subject.code}, visit {s.preparation.visit_code}: {s.label}"
        if user is not None and can_see_assignment(user, subject):
            note += f" ({s.arm}; {s.contents})"
        else:
            note += " (blinded: the product and its lot are shown to the study's unblinded members only)"
        out[s.procedure_id] = note
    return out
