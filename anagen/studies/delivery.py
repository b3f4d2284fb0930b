"""Treatment and placebo delivery (issue item 5): study lots, preparation and injection.

Three steps, each one transaction, each audited with its actor:

1. :func:`study_lot_add`: the unblinded pharmacist sets a lot of the clinic's stock aside for an
   arm (the active product or the placebo). From then on the lot is seen only by the study's
   unblinded members (``blinding.hidden_lot_ids``).
2. :func:`preparation_record`: the unblinded preparer fills the syringes of a randomized subject
   for a protocol visit. Split-scalp: one syringe per side, the active product on the side the
   allocation chose, the placebo on the other; parallel: one syringe of the subject's arm. Each
   lot must be a lot set aside for the arm its syringe is for, usable on the day, with the stock.
   The syringes are labelled ``study product, side L`` / ``side R`` (``study product``).
   For a treatment that implants the patient's own material (a micrograft suspension from the
   subject's punch biopsies), the active syringe is filled from the subject's released autologous
   sample (same checks as implanting it: this patient's, released, the right kind, used once)
   and the placebo syringe from a placebo lot.
3. :func:`injection_record`: the blinded injector (an investigator who is a clinician) records
   the injection of one syringe through the clinic's procedure record
   (:func:`anagen.treatments.services.procedure_record`, with the syringe's lot and quantity, so
   the stock goes down and the recall search finds the patient). Nothing the injector is told,
   a refusal included, names the arm or the lot. The procedure names no sample either; once every
   syringe of the visit is given, the samples they held are marked implanted in their chain of
   custody (one time for all, so its time cannot tell the sides apart).

A spoiled syringe is discarded by the preparer before it is given (:func:`syringe_discard`: who,
when, why; a lot's volume leaves the stock) and its side filled again (:func:`syringe_refill`, the
same checks); the injector is told only that the syringe was discarded and is being replaced.

Refused: a subject who is not randomized or no longer taking part, a visit not in the protocol,
a side a parallel study does not have, a second preparation of the same visit, a second
injection of the same syringe, and anything after the database lock (``check_not_locked``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import models, transaction
from django.utils import timezone

from anagen.accounts.models import Role
from anagen.audit.context import acting_as
from anagen.core.errors import ActionError, Conflict, NotFound
from anagen.core.permissions import check_role

from .lock import check_not_locked
from .models import Design, Study, StudyRole, Subject, SubjectStatus
from .models_delivery import SIDE_CODES, WHOLE, Preparation, StudyLot, Syringe, syringe_label
from .services import _check_study_role

PREPARER_ROLES = (StudyRole.UNBLINDED_PHARMACIST,)
INJECTOR_ROLES = (StudyRole.INVESTIGATOR,)
MAX_SYRINGE_ML = Decimal("50")


def _quantity(value, side: str) -> Decimal:
    where = f"side {side}" if side else "the syringe"
    try:
        q = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ActionError(f"Enter the volume of {where} in ml, e.g. 4.", field="quantity") from None
    if not q.is_finite() or q <= 0 or q > MAX_SYRINGE_ML:
        raise ActionError(f"The volume of {where} must be more than 0 and at most {MAX_SYRINGE_ML} ml.",
                          field="quantity")
    return q


def sides(study: Study) -> tuple[str, ...]:
    """The syringes of one preparation: L and R for a split-scalp study, one (no side) otherwise."""
    return SIDE_CODES if study.design == Design.SPLIT_SCALP else (WHOLE,)


def visit_codes(subject: Subject) -> list[tuple[str, str]]:
    return [(v["code"], v.get("label") or v["code"]) for v in subject.protocol_version.content.get("visits") or []]


def _check_side(study: Study, side: str) -> str:
    side = (side or "").strip().upper()
    if study.design != Design.SPLIT_SCALP:
        if side:
            raise ActionError(f"This is a parallel-group study: there is no side {side}. Record the subject's one "
                              "syringe without a side.", field="side", code="no_such_side")
        return WHOLE
    if side not in SIDE_CODES:
        raise ActionError("Choose the side of the scalp, L or R.", field="side", code="no_such_side")
    return side


def _check_taking_part(subject: Subject) -> None:
    if not hasattr(subject, "allocation"):
        raise Conflict(f"{subject.code} has not been randomized: randomize the subject before any study product is "
                       "prepared or given.", code="not_randomized")
    if subject.status != SubjectStatus.RANDOMIZED:
        raise Conflict(f"{subject.code} is {subject.get_status_display().lower()}: no more study product is given.",
                       code="not_active")


def _subject(subject: Subject) -> Subject:
    return Subject.objects.select_for_update().select_related("study", "patient", "protocol_version").get(pk=subject.pk)


def _acting_on(actor, subject: Subject, roles, what: str, *, clinician: bool = False) -> Subject:
    """The subject, locked for the write, once ``actor`` may do ``what`` to them: a study role of
    ``roles`` (and the clinician role when ``clinician``), at the subject's clinic, the study not
    locked, the subject randomized and taking part."""
    subject = _subject(subject)
    _check_study_role(actor, subject.study, roles, what)
    if clinician:
        check_role(actor, Role.CLINICIAN)
    if not actor.can_see_clinic(subject.site_id):
        raise NotFound("No such subject at a clinic you work at.")
    check_not_locked(subject.study)
    _check_taking_part(subject)
    return subject


def _arm_for(study: Study, allocation, side: str):
    arms = list(study.arms.all())
    if study.design == Design.SPLIT_SCALP:
        active = allocation.arm_code == side
        return next(a for a in arms if a.is_placebo != active)
    return next(a for a in arms if a.code == allocation.arm_code)


# --- 1. study lots -------------------------------------------------------------------------------

@transaction.atomic
def study_lot_add(*, actor, study: Study, lot, arm_code: str) -> StudyLot:
    """Set a lot of a study site's stock aside for one arm (the unblinded pharmacist)."""
    from anagen.treatments.models import Lot

    study = Study.objects.select_for_update().get(pk=study.pk)
    _check_study_role(actor, study, PREPARER_ROLES, "set lots aside for the study's arms")
    check_not_locked(study)
    if lot is None:
        raise ActionError("Choose the lot to set aside.", field="lot", code="required")
    lot = Lot.objects.select_for_update().select_related("product", "clinic").get(pk=lot.pk)
    if not (actor.can_see_clinic(lot.clinic_id) and study.sites.filter(pk=lot.clinic_id).exists()):
        raise NotFound("No such lot at the study's sites where you work.")
    arm = study.arms.filter(code=(arm_code or "").strip()).first()
    if arm is None:
        raise ActionError(f"Choose the arm: {', '.join(a.code for a in study.arms.all())}.", field="arm")
    if StudyLot.objects.filter(lot=lot).exists():
        raise Conflict(f"{lot} is already set aside for a study.", code="already_set_aside")
    if lot.recalled:
        raise ActionError(f"{lot} is recalled; set aside a usable lot.", field="lot")
    with acting_as(actor):
        return StudyLot.objects.create(study=study, arm=arm, lot=lot, added_by=actor, added_at=timezone.now())


def lots_for_preparer(*, user, study: Study):
    """The study's lots at the user's clinics, with their arms: for the unblinded preparer only."""
    _check_study_role(user, study, PREPARER_ROLES, "see the study's lots")
    return (StudyLot.objects.filter(study=study, lot__clinic_id__in=list(user.clinic_ids))
            .select_related("arm", "lot__product", "lot__clinic").order_by("arm__id", "lot__expires_on"))


def lots_to_set_aside(*, user, study: Study):
    """Lots of the study's sites (where the user works) not yet set aside for any study."""
    from anagen.treatments.models import Lot

    _check_study_role(user, study, PREPARER_ROLES, "set lots aside")
    return (Lot.objects.filter(clinic_id__in=list(user.clinic_ids), clinic__in=study.sites.all(), recalled=False,
                               study_lot__isnull=True).select_related("product", "clinic"))


# --- 2. preparation ------------------------------------------------------------------------------

@transaction.atomic
def preparation_record(*, actor, subject: Subject, visit_code: str, modality, syringes: dict) -> Preparation:
    """The unblinded preparer fills and labels the syringes of ``subject`` for ``visit_code``.

    ``syringes`` maps a side ("L", "R"; "" for a parallel study) to ``(lot, quantity_ml)``.
    """
    from anagen.treatments.models import Modality

    subject = _acting_on(actor, subject, PREPARER_ROLES, "prepare study product")
    study = subject.study
    codes = dict(visit_codes(subject))
    visit_code = (visit_code or "").strip()
    if visit_code not in codes:
        raise ActionError(f"Choose a visit of the protocol: {', '.join(codes)}.", field="visit_code")
    if not isinstance(modality, Modality):
        modality = Modality.objects.filter(code=str(modality or "")).first()
    if modality is None or not modality.is_active:
        raise ActionError("Choose the treatment from the catalogue.", field="modality", code="required")
    wanted = sides(study)
    given = {_check_side(study, s) if s else WHOLE: v for s, v in (syringes or {}).items()}
    missing = [s for s in wanted if s not in given or given[s][0] is None]
    if missing:
        what = " and ".join(f"side {s}" for s in missing) if missing != [WHOLE] else "the syringe"
        source = "the lot (or, on the active side, the subject's own sample)" if modality.sample_kind else "the lot"
        raise ActionError(f"Choose {source} and the volume for {what}.", field="syringes", code="required")
    if Preparation.objects.filter(subject=subject, visit_code=visit_code).exists():
        raise Conflict(f"The study product of {subject.code} for {codes[visit_code]} is already prepared.",
                       code="already_prepared")
    today = timezone.localdate()
    rows = [_filled(study=study, subject=subject, modality=modality, side=side, source=given[side][0],
                    quantity=given[side][1], today=today) for side in wanted]
    with acting_as(actor):
        prep = Preparation.objects.create(subject=subject, visit_code=visit_code, modality=modality,
                                          prepared_by=actor, prepared_at=timezone.now())
        for side, arm, lot, sample, qty in rows:
            Syringe.objects.create(preparation=prep, side=side, label=syringe_label(side), arm=arm, lot=lot,
                                   sample=sample, quantity=qty)
    return prep


def _filled(*, study: Study, subject: Subject, modality, side: str, source, quantity, today: date) -> tuple:
    """One syringe's contents checked: ``(side, arm, lot, sample, quantity)``. ``source`` is a lot set
    aside for the side's arm, usable today with the stock, or, on the active side of a treatment
    that implants the patient's own material, the subject's released sample."""
    from anagen.treatments import rules
    from anagen.treatments.models import AutologousSample, Lot

    qty = _quantity(quantity, side)
    arm = _arm_for(study, subject.allocation, side)
    where = f"side {side}" if side else "the syringe"
    if isinstance(source, AutologousSample):
        return side, arm, None, _sample_for(source, subject=subject, modality=modality, arm=arm, where=where), qty
    if modality.sample_kind and not arm.is_placebo:
        raise ActionError(f"{where[0].upper()}{where[1:]} gets {arm.name}: {modality.name} implants the subject's "
                          f"own {modality.get_sample_kind_display().lower()}; choose the subject's released "
                          "sample for it, not a lot.", field="syringes", code="sample_required")
    study_lot = StudyLot.objects.filter(study=study, lot_id=getattr(source, "pk", None)).select_related("arm").first()
    if study_lot is None:
        raise ActionError(f"The lot for {where} is not set aside for this study; set it aside for its arm "
                          "first.", field="syringes")
    if study_lot.arm_id != arm.pk:
        raise ActionError(f"{where[0].upper()}{where[1:]} gets {arm} but the lot chosen is set aside for "
                          f"{study_lot.arm}; choose a lot of {arm.name}.", field="syringes",
                          code="wrong_arm")
    current = Lot.objects.select_related("product", "clinic").get(pk=source.pk)
    if current.clinic_id != subject.site_id:
        raise ActionError(f"{current} is stock of {current.clinic.name}; use a lot held at {subject.site.name}.",
                          field="syringes")
    refusal = rules.lot_refusal(lot_number=current.lot_number, product=current.product.name,
                                expires_on=current.expires_on, recalled=current.recalled,
                                recall_reason=current.recall_reason, quantity_on_hand=current.quantity_on_hand,
                                quantity=qty, unit=current.product.unit, on=today)
    if refusal:
        raise ActionError(refusal, field="syringes", code="lot_refused")
    return side, arm, current, None, qty


def _sample_for(sample, *, subject: Subject, modality, arm, where: str):
    """The subject's released autologous sample, checked for filling the active syringe."""
    from anagen.treatments.models import AutologousSample
    from anagen.treatments.services import sample_implant_refusal

    if not modality.sample_kind:
        raise ActionError(f"{modality.name} uses no autologous sample; choose a lot set aside for {arm.name}.",
                          field="syringes")
    if arm.is_placebo:
        raise ActionError(f"{where[0].upper()}{where[1:]} gets the placebo ({arm.name}): fill it from a placebo lot, "
                          "never from the subject's sample.", field="syringes", code="wrong_arm")
    sample = AutologousSample.objects.select_for_update().get(pk=sample.pk)
    refusal = sample_implant_refusal(sample, patient_id=subject.patient_id, modality=modality)
    if refusal:
        raise ActionError(refusal, field="syringes", code="sample_refused")
    if Syringe.objects.filter(sample=sample).exists():
        raise Conflict(f"Sample {sample.code} already fills a study syringe.", code="sample_used")
    return sample


def released_samples(*, user, subject: Subject):
    """The subject's released samples not yet in a syringe: for the unblinded preparer only."""
    from anagen.treatments import rules
    from anagen.treatments.models import AutologousSample

    _check_study_role(user, subject.study, PREPARER_ROLES, "see the subject's samples for study product")
    return (AutologousSample.objects.filter(patient_id=subject.patient_id, status=rules.RELEASED,
                                            study_syringe__isnull=True).order_by("harvested_at", "pk"))


def _record_implant_if_all_given(*, actor, prep: Preparation, subject: Subject) -> None:
    """Once every syringe of a visit is given, the samples they held are marked implanted.

    Recorded then, not at each injection, so that the time of the custody step (which blinded
    clinicians can read on the sample's page) cannot tell which side held the sample."""
    from anagen.treatments import rules
    from anagen.treatments.models import AutologousSample, CustodyEvent

    syringes = list(prep.syringes.all())
    in_use = [s for s in syringes if not s.discarded]
    if any(s.procedure_id is None for s in in_use) or {s.side for s in in_use} != set(sides(subject.study)):
        return
    now = timezone.now()
    for s in in_use:
        if s.sample_id is None:
            continue
        sample = AutologousSample.objects.select_for_update().get(pk=s.sample_id)
        CustodyEvent.objects.create(
            sample=sample, step=rules.IMPLANTED, at=now, by=actor,
            details={"study": subject.study_id, "subject": subject.code, "visit": prep.visit_code},
            notes=f"Given blind as study product: {subject.study.title}, subject {subject.code}, visit "
                  f"{prep.visit_code}; recorded once every syringe of the visit was given.")
        sample.status = rules.IMPLANTED
        sample.save(update_fields=["status"])


# --- 3. injection --------------------------------------------------------------------------------

@transaction.atomic
def injection_record(*, actor, subject: Subject, visit_code: str, side: str = "", performed_on: date | None = None,
                     zones: dict | None = None, anaesthesia: str = "none", anaesthesia_detail: str = "",
                     device: str = "", needle: str = "", notes: str = ""):
    """The blinded injector records the injection of one labelled syringe as a procedure."""
    from anagen.treatments.services import procedure_record

    subject = _acting_on(actor, subject, INJECTOR_ROLES, "record the injection of study product", clinician=True)
    study = subject.study
    side = _check_side(study, side)
    label = syringe_label(side)
    prep = Preparation.objects.filter(subject=subject, visit_code=(visit_code or "").strip()).first()
    if prep is None:
        raise Conflict(f"No study product is prepared for {subject.code} at this visit: the unblinded preparer "
                       "prepares and labels the syringes first.", code="not_prepared")
    syringe = Syringe.objects.select_for_update().filter(preparation=prep, side=side, discarded_at__isnull=True).first()
    if syringe is None:
        if prep.syringes.filter(side=side).exists():
            raise Conflict(f"The syringe '{label}' of {subject.code} was discarded: the unblinded preparer fills a new "
                           "one first.", code="not_prepared")
        raise Conflict(f"There is no syringe '{label}' for this visit.", code="not_prepared")
    if syringe.procedure_id is not None:
        raise Conflict(f"The syringe '{label}' of {subject.code} was already given, on "
                       f"{syringe.procedure.performed_on:%d/%m/%Y}.", code="already_injected")
    performed_on = performed_on or timezone.localdate()
    randomized_on = timezone.localtime(subject.allocation.randomized_at).date()
    if performed_on < randomized_on:
        raise ActionError(f"The injection date is before {subject.code} was randomized ({randomized_on:%d/%m/%Y}); "
                          "check the date.", field="performed_on")
    text = f"{study.title}, subject {subject.code}, visit {prep.visit_code}: {label}."
    if (notes or "").strip():
        text += " " + notes.strip()
    with acting_as(actor):
        try:
            procedure = procedure_record(
                actor=actor, patient=subject.patient, modality=prep.modality, performed_on=performed_on,
                zones=zones or {}, delivery="injection", anaesthesia=anaesthesia or "none",
                anaesthesia_detail=anaesthesia_detail, device=device, needle=needle,
                lots=[(syringe.lot, syringe.quantity)] if syringe.lot_id else [], notes=text, study_product=True)
        except ActionError as exc:
            if exc.field == "lots":  # the lot's own message names the product: say it without it
                raise ActionError(f"The syringe '{label}' cannot be given: its product is no longer usable (expired, "
                                  "recalled or out of stock). Report a deviation; the unblinded pharmacist sees "
                                  "which product it is.", field="syringe", code="syringe_unusable") from None
            raise
        syringe.procedure = procedure
        syringe.injected_by = actor
        syringe.injected_at = timezone.now()
        syringe.save(update_fields=["procedure", "injected_by", "injected_at"])
        _record_implant_if_all_given(actor=actor, prep=prep, subject=subject)
    return procedure


# --- a spoiled syringe ----------------------------------------------------------------------------

def _preparation_for_change(actor, subject: Subject, visit_code: str, what: str) -> tuple[Subject, Preparation]:
    subject = _acting_on(actor, subject, PREPARER_ROLES, what)
    prep = (Preparation.objects.select_for_update().select_related("modality")
            .filter(subject=subject, visit_code=(visit_code or "").strip()).first())
    if prep is None:
        raise Conflict(f"No study product is prepared for {subject.code} at this visit.", code="not_prepared")
    return subject, prep


@transaction.atomic
def syringe_discard(*, actor, subject: Subject, visit_code: str, side: str = "", reason: str) -> Syringe:
    """The unblinded preparer discards a spoiled syringe (dropped, contaminated, drawn wrong) before
    it is given. The record stays, with who, when and why; a lot's volume is taken from its stock
    (the product is used up); the side is then filled again (:func:`syringe_refill`)."""
    from django.db.models import F, Value
    from django.db.models.functions import Greatest

    from anagen.treatments.models import Lot

    subject, prep = _preparation_for_change(actor, subject, visit_code, "discard a study syringe")
    side = _check_side(subject.study, side)
    label = syringe_label(side)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ActionError("Say why the syringe is discarded (for example 'dropped on the floor').", field="reason",
                          code="required")
    if len(reason) > 500:
        raise ActionError("Keep the reason under 500 characters.", field="reason")
    syringe = (Syringe.objects.select_for_update()
               .filter(preparation=prep, side=side, discarded_at__isnull=True).first())
    if syringe is None:
        raise Conflict(f"There is no syringe '{label}' in use for this visit.", code="not_prepared")
    if syringe.procedure_id is not None:
        raise Conflict(f"The syringe '{label}' was already given: it cannot be discarded.", code="already_injected")
    if syringe.sample_id is not None:
        # The sample's chain of custody is open to blinded clinicians: a sample discarded beside a
        # replaced syringe would tell them which side is active.
        raise Conflict(f"The syringe '{label}' holds the subject's own sample: it is not discarded and replaced "
                       "here, since the sample's fate would show blinded staff which side is active. Keep it "
                       "aside and report a protocol deviation ('Procedure not per protocol').",
                       code="sample_syringe")
    with acting_as(actor):
        syringe.discarded_at, syringe.discarded_by, syringe.discard_reason = timezone.now(), actor, reason
        syringe.save(update_fields=["discarded_at", "discarded_by", "discard_reason"])
        if syringe.lot_id:  # never below nothing: a stock count made since may have taken it already
            Lot.objects.filter(pk=syringe.lot_id).update(quantity_on_hand=Greatest(
                F("quantity_on_hand") - syringe.quantity, Value(Decimal("0")), output_field=models.DecimalField()))
    return syringe


@transaction.atomic
def syringe_refill(*, actor, subject: Subject, visit_code: str, side: str = "", source, quantity) -> Syringe:
    """The unblinded preparer fills a new syringe for a side whose syringe was discarded: same
    label, same arm (from the allocation), the same checks as the first preparation."""
    subject, prep = _preparation_for_change(actor, subject, visit_code, "fill a study syringe")
    study = subject.study
    side = _check_side(study, side)
    label = syringe_label(side)
    if prep.syringes.filter(side=side, discarded_at__isnull=True).exists():
        raise Conflict(f"The syringe '{label}' of this visit is still in use: discard it first if it is spoiled.",
                       code="already_prepared")
    if source is None:
        what = "the lot (or, on the active side, the subject's own sample)" if prep.modality.sample_kind else "the lot"
        raise ActionError(f"Choose {what} for the new syringe.", field="syringes", code="required")
    side, arm, lot, sample, qty = _filled(study=study, subject=subject, modality=prep.modality, side=side,
                                          source=source, quantity=quantity, today=timezone.localdate())
    with acting_as(actor):
        return Syringe.objects.create(preparation=prep, side=side, label=label, arm=arm, lot=lot, sample=sample,
                                      quantity=qty, filled_at=timezone.now(), filled_by=actor)


def to_prepare(*, user) -> list[dict]:
    """For the unblinded preparer's home page: per study (not locked) where ``user`` prepares the
    product, the subjects taking part at the user's clinics, with how many of their protocol
    visits are prepared. Nothing here names an arm."""
    from .lock import is_locked

    rows = []
    studies = (Study.objects.filter(members__user=user, members__role__in=PREPARER_ROLES)
               .order_by("title").distinct())
    for study in studies:
        if is_locked(study):
            continue
        subjects = (study.subjects.filter(status=SubjectStatus.RANDOMIZED, site_id__in=list(user.clinic_ids))
                    .select_related("protocol_version").order_by("code"))
        prepared = dict(Preparation.objects.filter(subject__in=subjects).order_by().values("subject_id")
                        .annotate(n=models.Count("id")).values_list("subject_id", "n"))
        for subject in subjects:
            n_visits = len(visit_codes(subject))
            done = prepared.get(subject.pk, 0)
            rows.append({"study": study, "subject": subject, "prepared": done, "visits": n_visits})
    return rows


def preparations_for(*, subject: Subject):
    return (Preparation.objects.filter(subject=subject)
            .prefetch_related("syringes__arm", "syringes__lot__product", "syringes__injected_by",
                              "syringes__filled_by", "syringes__discarded_by",
                              "syringes__procedure")
            .select_related("prepared_by", "modality", "subject__study").order_by("prepared_at", "pk"))
