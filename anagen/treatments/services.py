"""Writes for treatment delivery: plans, bookings, procedures, lots, adverse events, samples.

Every rule is enforced here once, for the pages, the API, the admin and commands:

- a plan is made by a clinician, only for modalities the patient's latest screening found them
  a candidate for (adjuncts such as minoxidil need no screening); a change keeps the previous
  values and needs a reason;
- a proposed booking is confirmed by a coordinator through the scheduling rules
  (``anagen.scheduling.services.appointment_book``); a clash leaves it unconfirmed;
- a procedure needs the patient's treatment consent on file; a lot used must be in date, not
  recalled and have the stock, which goes down in the same transaction (``F()`` update guarded
  by the quantity, so two procedures cannot both take the last vial);
- an autologous sample moves along its chain of custody (:mod:`anagen.treatments.rules`) and is
  implanted, through the procedure, only into the patient it came from, after QC and release.

Each service checks the actor's role (PermissionDenied, 403) and clinic (NotFound, 404).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from anagen.accounts.models import Clinic, Role, Room, User
from anagen.core.errors import ActionError, NotFound
from anagen.core.permissions import CLINICAL_ROLES, FRONT_DESK_ROLES, check_role
from anagen.patients.models import Patient

from . import rules
from .models import (
    AdverseEvent,
    AutologousSample,
    CustodyEvent,
    Lot,
    Modality,
    PlanStatus,
    Procedure,
    ProcedureZone,
    Product,
    ProductKind,
    ProductUse,
    ProposalStatus,
    ProposedBooking,
    SampleKind,
    TreatmentPlan,
    TreatmentPlanRevision,
)

# Who does what (the selectors use the same groups for reading).
PLAN_ROLES = CLINICAL_ROLES
CONFIRM_ROLES = FRONT_DESK_ROLES
STOCK_ROLES = (Role.ADMIN, Role.CLINICIAN)
HARVEST_ROLES = CLINICAL_ROLES
CUSTODY_ROLES = (Role.LAB_SCIENTIST, Role.CLINICIAN)
CATALOGUE_EDIT_ROLES = (Role.ADMIN,)

TEXT_MAX = 5000
SAMPLE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read off a tube


# --- helpers ------------------------------------------------------------------------------------

def _check_clinic(actor, clinic_id: int | None, what: str = "record") -> None:
    if not actor.can_see_clinic(clinic_id):
        raise NotFound(f"No such {what} at the clinics you work at.")


def _text(value, field: str, label: str, *, required: bool = False, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ActionError(f"Enter the {label}.", field=field, code="required")
    if len(value) > limit:
        raise ActionError(f"The {label} is {len(value)} characters long; keep it under {limit}.", field=field)
    return value


def _decimal(value, field: str, label: str, *, minimum=None, maximum=None, required: bool = True) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise ActionError(f"Enter the {label}.", field=field, code="required")
        return None
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ActionError(f"'{value}' is not a number; enter the {label} as a number, e.g. 2.5.", field=field) from None
    if not d.is_finite() or (minimum is not None and d < minimum) or (maximum is not None and d > maximum):
        raise ActionError(f"The {label} must be between {minimum} and {maximum}; {value} was given.", field=field)
    return d


def _choice(value, choices, field: str, label: str) -> str:
    if value not in choices.values:
        raise ActionError(f"Choose the {label} from: {', '.join(map(str, choices.values))}.", field=field)
    return value


def _not_future(value: date | None, field: str, label: str) -> None:
    if value is not None and value > timezone.localdate():
        raise ActionError(f"The {label} ({value.isoformat()}) is in the future; enter the date it happened.", field=field)


def _int(value, field: str, label: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ActionError(f"Enter the {label} as a whole number.", field=field) from None


def has_treatment_consent(patient: Patient) -> bool:
    from anagen.patients.selectors import has_active_consent

    return has_active_consent(patient, "treatment")


def _require_treatment_consent(patient: Patient) -> None:
    if not has_treatment_consent(patient):
        raise ActionError(f"Patient {patient.patient_number} has no treatment consent on file; record the signed "
                          f"treatment consent on the patient page first.", code="no_consent")


def latest_screening_decisions(patient: Patient) -> dict[str, dict]:
    """Screening code -> {id, decision, performed_at} of the patient's latest screening for it."""
    try:
        from anagen.screening.selectors import latest_screenings
    except ImportError:  # screening selectors not installed: read the model directly
        from anagen.screening.models import Screening

        latest = {}
        for s in Screening.objects.filter(patient=patient).order_by("-performed_at", "-id"):
            latest.setdefault(s.modality, s)
    else:
        latest = latest_screenings(patient)
    return {code: {"id": s.pk, "decision": s.decision, "performed_at": s.performed_at.isoformat()}
            for code, s in latest.items()}


# --- catalogue ----------------------------------------------------------------------------------

MODALITY_FIELDS = ("name", "description", "delivery_methods", "screening_code", "sample_kind", "typical_sessions",
                   "interval_days", "follow_up_weeks", "aftercare", "is_active")


@transaction.atomic
def modality_update(*, actor, modality: Modality, **fields) -> Modality:
    """An admin edits a catalogue entry's defaults."""
    check_role(actor, *CATALOGUE_EDIT_ROLES)
    unknown = set(fields) - set(MODALITY_FIELDS)
    if unknown:
        raise ActionError(f"These cannot be changed: {', '.join(sorted(unknown))}.")
    for name, value in fields.items():
        setattr(modality, name, value)
    _validate_modality(modality)
    modality.save()
    return modality


def _validate_modality(modality: Modality) -> None:
    modality.name = _text(modality.name, "name", "name", required=True, limit=120)
    weeks = modality.follow_up_weeks or []
    if isinstance(weeks, str):
        try:
            weeks = rules.parse_weeks(weeks)
        except ValueError as exc:
            raise ActionError(str(exc), field="follow_up_weeks") from None
    if not isinstance(weeks, list) or not all(isinstance(w, int) and not isinstance(w, bool) for w in weeks):
        raise ActionError("List the follow-up weeks as whole numbers, e.g. 4, 12, 23.", field="follow_up_weeks")
    modality.follow_up_weeks = sorted(weeks)
    if modality.screening_code and modality.screening_code not in ("hfsc_micrograft", "adipose_stem_cells", "exosomes", "prp"):
        raise ActionError("Screening code must be one of hfsc_micrograft, adipose_stem_cells, exosomes, prp, or empty.",
                          field="screening_code")
    if modality.sample_kind and modality.sample_kind not in SampleKind.values:
        raise ActionError(f"Sample kind must be one of {', '.join(SampleKind.values)}, or empty.", field="sample_kind")
    errors = rules.schedule_errors(sessions=_int(modality.typical_sessions, "typical_sessions", "typical sessions"),
                                   interval_days=_int(modality.interval_days, "interval_days", "interval"),
                                   follow_up_weeks=modality.follow_up_weeks)
    if errors:
        raise ActionError(" ".join(errors))


# --- plans --------------------------------------------------------------------------------------

def _screening_check(patient: Patient, modalities: list[Modality]) -> list[dict]:
    required: dict[str, str] = {}
    for m in modalities:
        if m.screening_code:
            required[m.screening_code] = " / ".join(filter(None, [required.get(m.screening_code), m.name]))
    if not required:
        return []
    latest = latest_screening_decisions(patient)
    refusals = rules.screening_refusals(required, {code: s["decision"] for code, s in latest.items()})
    if refusals:
        raise ActionError(" ".join(refusals), field="modalities", code="not_candidate")
    return [{"modality": code, **latest[code]} for code in sorted(required)]


def _clean_schedule(*, sessions, interval_days, follow_up_weeks) -> tuple[int, int, list[int]]:
    sessions = _int(sessions, "sessions", "number of sessions")
    interval_days = _int(interval_days or 0, "interval_days", "interval in days")
    if isinstance(follow_up_weeks, str):
        try:
            follow_up_weeks = rules.parse_weeks(follow_up_weeks)
        except ValueError as exc:
            raise ActionError(str(exc), field="follow_up_weeks") from None
    follow_up_weeks = [_int(w, "follow_up_weeks", "follow-up week") for w in (follow_up_weeks or [])]
    errors = rules.schedule_errors(sessions=sessions, interval_days=interval_days, follow_up_weeks=follow_up_weeks)
    if errors:
        raise ActionError(" ".join(errors), field="sessions")
    return sessions, interval_days, sorted(follow_up_weeks)


def _propose(plan: TreatmentPlan) -> None:
    """(Re)create the proposals for the plan's schedule; confirmed visits are kept as they are."""
    plan.proposals.filter(status=ProposalStatus.PROPOSED).update(status=ProposalStatus.SUPERSEDED)
    if plan.status != PlanStatus.ACTIVE:
        return
    confirmed = set(plan.proposals.filter(status=ProposalStatus.CONFIRMED).values_list("kind", "sequence"))
    visits = rules.plan_schedule(start=plan.start_on, sessions=plan.sessions, interval_days=plan.interval_days,
                                 follow_up_weeks=plan.follow_up_weeks)
    ProposedBooking.objects.bulk_create([
        ProposedBooking(plan=plan, kind=v.kind, sequence=v.sequence, proposed_on=v.on)
        for v in visits if (v.kind, v.sequence) not in confirmed
    ])


def _modalities(modalities) -> list[Modality]:
    out = []
    for m in modalities or []:
        if not isinstance(m, Modality):
            m = Modality.objects.filter(code=m).first() or Modality.objects.filter(pk=m if str(m).isdigit() else 0).first()
            if m is None:
                raise ActionError("One of the treatments chosen is not in the catalogue; choose from the list.",
                                  field="modalities")
        if not m.is_active:
            raise ActionError(f"{m.name} is no longer offered; choose another treatment.", field="modalities")
        out.append(m)
    if not out:
        raise ActionError("Choose at least one treatment for the plan.", field="modalities", code="required")
    return list(dict.fromkeys(out))


def plan_defaults(modalities: list[Modality]) -> rules.CourseDefaults:
    return rules.combined_defaults([
        rules.CourseDefaults(m.typical_sessions, m.interval_days, tuple(m.follow_up_weeks or ()), m.aftercare)
        for m in modalities])


@transaction.atomic
def plan_create(*, actor: User, patient: Patient, modalities: list, start_on: date, sessions: int | None = None,
                interval_days: int | None = None, follow_up_weeks: list[int] | str | None = None,
                aftercare: str | None = None, notes: str = "", clinician: User | None = None) -> TreatmentPlan:
    """A clinician plans treatment for a patient the screening found a candidate.

    Values left as None take the catalogue's defaults for the modalities chosen.
    """
    check_role(actor, *PLAN_ROLES)
    _check_clinic(actor, patient.clinic_id, "patient")
    modalities = _modalities(modalities)
    if start_on is None:
        raise ActionError("Enter the date of the first session.", field="start_on", code="required")
    basis = _screening_check(patient, modalities)
    defaults = plan_defaults(modalities)
    sessions, interval_days, weeks = _clean_schedule(
        sessions=defaults.sessions if sessions in (None, "") else sessions,
        interval_days=defaults.interval_days if interval_days in (None, "") else interval_days,
        follow_up_weeks=list(defaults.follow_up_weeks) if follow_up_weeks is None else follow_up_weeks)
    clinician = clinician or actor
    if not (clinician.has_role(Role.CLINICIAN) and clinician.can_see_clinic(patient.clinic_id)):
        raise ActionError(f"{clinician} is not a clinician of {patient.clinic.name}; choose one who works there.",
                          field="clinician")
    plan = TreatmentPlan.objects.create(
        patient=patient, clinic=patient.clinic, clinician=clinician, sessions=sessions, interval_days=interval_days,
        follow_up_weeks=weeks, start_on=start_on,
        aftercare=_text(defaults.aftercare if aftercare is None else aftercare, "aftercare", "aftercare"),
        notes=_text(notes, "notes", "notes"), screening_basis=basis, created_by=actor)
    plan.modalities.set(modalities)
    _propose(plan)
    return plan


PLAN_REVISABLE = ("modalities", "sessions", "interval_days", "follow_up_weeks", "start_on", "aftercare", "notes",
                  "status", "clinician")


def _plan_snapshot(plan: TreatmentPlan) -> dict:
    return {
        "modalities": sorted(plan.modalities.values_list("code", flat=True)),
        "sessions": plan.sessions,
        "interval_days": plan.interval_days,
        "follow_up_weeks": list(plan.follow_up_weeks),
        "start_on": plan.start_on.isoformat(),
        "aftercare": plan.aftercare,
        "notes": plan.notes,
        "status": plan.status,
        "clinician": plan.clinician_id,
    }


@transaction.atomic
def plan_revise(*, actor: User, plan: TreatmentPlan, reason: str, **changes) -> TreatmentPlanRevision:
    """Change a plan; the values before and after and the reason are kept as a revision.

    Unconfirmed proposals are replaced by the new schedule; confirmed bookings stay (move or
    cancel them in the calendar).
    """
    check_role(actor, *PLAN_ROLES)
    _check_clinic(actor, plan.clinic_id, "plan")
    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    reason = _text(reason, "reason", "reason for the change", required=True)
    unknown = set(changes) - set(PLAN_REVISABLE)
    if unknown:
        raise ActionError(f"These cannot be changed on a plan: {', '.join(sorted(unknown))}.")
    if plan.status != PlanStatus.ACTIVE and changes.get("status", plan.status) != PlanStatus.ACTIVE:
        raise ActionError(f"This plan is {plan.get_status_display().lower()}; reopen it (status active) to change it.",
                          field="status")
    before = _plan_snapshot(plan)

    if "modalities" in changes and changes["modalities"] is not None:
        modalities = _modalities(changes["modalities"])
        new_codes = sorted(m.code for m in modalities)
        if new_codes != before["modalities"]:
            added = [m for m in modalities if m.code not in before["modalities"]]
            basis = _screening_check(plan.patient, added)
            plan.screening_basis = list(plan.screening_basis) + basis
            plan.modalities.set(modalities)
    sessions, interval_days, weeks = _clean_schedule(
        sessions=changes.get("sessions", plan.sessions) if changes.get("sessions") not in (None, "") else plan.sessions,
        interval_days=changes["interval_days"] if changes.get("interval_days") not in (None, "") else plan.interval_days,
        follow_up_weeks=changes["follow_up_weeks"] if changes.get("follow_up_weeks") is not None else plan.follow_up_weeks)
    plan.sessions, plan.interval_days, plan.follow_up_weeks = sessions, interval_days, weeks
    if changes.get("start_on"):
        plan.start_on = changes["start_on"]
    if changes.get("aftercare") is not None:
        plan.aftercare = _text(changes["aftercare"], "aftercare", "aftercare")
    if changes.get("notes") is not None:
        plan.notes = _text(changes["notes"], "notes", "notes")
    if changes.get("status"):
        plan.status = _choice(changes["status"], PlanStatus, "status", "plan status")
    if changes.get("clinician") is not None:
        c = changes["clinician"]
        if not (c.has_role(Role.CLINICIAN) and c.can_see_clinic(plan.clinic_id)):
            raise ActionError(f"{c} is not a clinician of {plan.clinic.name}.", field="clinician")
        plan.clinician = c
    plan.save()
    after = _plan_snapshot(plan)
    if after == before:
        raise ActionError("Nothing was changed; edit a value, or go back to the plan.", code="unchanged")
    changed = {k: before[k] for k in before if before[k] != after[k]}
    number = (plan.revisions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    revision = TreatmentPlanRevision.objects.create(
        plan=plan, number=number, reason=reason, previous=changed, new={k: after[k] for k in changed}, changed_by=actor)
    schedule_keys = {"sessions", "interval_days", "follow_up_weeks", "start_on", "status"}
    if schedule_keys & set(changed):
        _propose(plan)
    return revision


@transaction.atomic
def proposal_confirm(*, actor: User, proposal: ProposedBooking, starts_at: datetime, clinician: User | None = None,
                     room: Room | None = None, notes: str = "") -> ProposedBooking:
    """A coordinator books a proposed visit through the scheduling rules and links it to the plan.

    A clash raises the scheduling Conflict (409); the proposal stays unconfirmed.
    """
    from anagen.scheduling.services import appointment_book

    check_role(actor, *CONFIRM_ROLES)
    _check_clinic(actor, proposal.plan.clinic_id, "proposed booking")
    proposal = ProposedBooking.objects.select_for_update().select_related("plan__patient", "plan__clinic",
                                                                          "plan__clinician").get(pk=proposal.pk)
    if proposal.status == ProposalStatus.CONFIRMED:
        raise ActionError(f"{proposal.label} is already booked; move it in the calendar instead.", code="already_confirmed")
    if proposal.status == ProposalStatus.SUPERSEDED:
        raise ActionError(f"{proposal.label} was replaced when the plan changed; confirm one of the current proposals.",
                          code="superseded")
    if starts_at is None:
        raise ActionError("Enter the date and time of the appointment.", field="starts_at", code="required")
    plan = proposal.plan
    if plan.status != PlanStatus.ACTIVE:
        raise ActionError(f"The plan is {plan.get_status_display().lower()}; nothing more can be booked from it.")
    appointment = appointment_book(
        actor=actor, patient=plan.patient, clinician=clinician or plan.clinician, clinic=plan.clinic,
        kind=proposal.appointment_kind, starts_at=starts_at, room=room,
        notes=_text(notes, "notes", "notes") or f"Treatment plan {plan.pk}: {proposal.label}")
    proposal.appointment = appointment
    proposal.status = ProposalStatus.CONFIRMED
    proposal.confirmed_at = timezone.now()
    proposal.confirmed_by = actor
    proposal.save(update_fields=["appointment", "status", "confirmed_at", "confirmed_by"])
    return proposal


# --- products and lots --------------------------------------------------------------------------

@transaction.atomic
def product_create(*, actor: User, name: str, manufacturer: str, kind: str, unit: str = "ml") -> Product:
    check_role(actor, *STOCK_ROLES)
    name = _text(name, "name", "product name", required=True, limit=120)
    manufacturer = _text(manufacturer, "manufacturer", "manufacturer", required=True, limit=120)
    kind = _choice(kind, ProductKind, "kind", "kind of product")
    unit = _text(unit, "unit", "unit", required=True, limit=20)
    if Product.objects.filter(name__iexact=name, manufacturer__iexact=manufacturer).exists():
        raise ActionError(f"{name} by {manufacturer} is already in the product list; receive a lot of it instead.",
                          field="name", code="duplicate")
    return Product.objects.create(name=name, manufacturer=manufacturer, kind=kind, unit=unit)


@transaction.atomic
def lot_receive(*, actor: User, product: Product, clinic: Clinic, lot_number: str, expires_on: date,
                quantity, received_on: date | None = None) -> Lot:
    """Book a delivered lot into a clinic's stock."""
    check_role(actor, *STOCK_ROLES)
    _check_clinic(actor, clinic.pk, "clinic")
    lot_number = _text(lot_number, "lot_number", "lot number", required=True, limit=60)
    if expires_on is None:
        raise ActionError("Enter the expiry date printed on the lot.", field="expires_on", code="required")
    quantity = _decimal(quantity, "quantity", "quantity received", minimum=Decimal("0.01"), maximum=Decimal("99999999"))
    if Lot.objects.filter(product=product, clinic=clinic, lot_number=lot_number).exists():
        raise ActionError(f"Lot {lot_number} of {product.name} is already in stock at {clinic.name}; adjust that lot.",
                          field="lot_number", code="duplicate")
    return Lot.objects.create(product=product, clinic=clinic, lot_number=lot_number, expires_on=expires_on,
                              quantity_on_hand=quantity, received_on=received_on or timezone.localdate())


@transaction.atomic
def lot_recall(*, actor: User, lot: Lot, reason: str) -> Lot:
    """Mark a lot recalled: it can no longer be used; the recall search lists who received it."""
    check_role(actor, *STOCK_ROLES)
    _check_clinic(actor, lot.clinic_id, "lot")
    reason = _text(reason, "reason", "reason for the recall", required=True)
    lot = Lot.objects.select_for_update().get(pk=lot.pk)
    if lot.recalled:
        raise ActionError(f"{lot} is already recalled.", code="already_recalled")
    lot.recalled, lot.recall_reason, lot.recalled_at = True, reason, timezone.now()
    lot.save(update_fields=["recalled", "recall_reason", "recalled_at"])
    return lot


def _use_lot(*, lot: Lot, quantity: Decimal, on: date, clinic_id: int) -> None:
    """Check the lot and take ``quantity`` from its stock, atomically."""
    if lot.clinic_id != clinic_id:
        raise ActionError(f"{lot} is stock of {lot.clinic.name}; use a lot held at this clinic.", field="lots")
    current = Lot.objects.select_for_update().select_related("product").get(pk=lot.pk)
    refusal = rules.lot_refusal(lot_number=current.lot_number, product=current.product.name,
                                expires_on=current.expires_on, recalled=current.recalled,
                                recall_reason=current.recall_reason, quantity_on_hand=current.quantity_on_hand,
                                quantity=quantity, unit=current.product.unit, on=on)
    if refusal:
        raise ActionError(refusal, field="lots", code="lot_refused")
    # The guard in the filter makes the decrement safe even where row locks are not taken.
    taken = Lot.objects.filter(pk=lot.pk, recalled=False, quantity_on_hand__gte=quantity).update(
        quantity_on_hand=F("quantity_on_hand") - quantity)
    if taken != 1:
        raise ActionError(f"{current} no longer has {quantity} {current.product.unit} in stock; check the stock.",
                          field="lots", code="lot_refused")


# --- procedures ---------------------------------------------------------------------------------

ZONE_DELIVERIES = {Procedure.Delivery.INJECTION, Procedure.Delivery.MICRONEEDLING, Procedure.Delivery.SURGICAL}


def sample_implant_refusal(sample: AutologousSample, *, patient_id: int, modality: Modality) -> str | None:
    """Why ``sample`` may not go into patient ``patient_id`` with ``modality`` (which implants a
    sample), or None when it may: the patient's own, released by the lab, of the kind needed.
    The one check for a clinic procedure and for a study syringe filled from the sample."""
    refusal = rules.implant_refusal(sample_code=sample.code, sample_patient_id=sample.patient_id,
                                    patient_id=patient_id, status=sample.status)
    if refusal is None and sample.kind != modality.sample_kind:
        refusal = (f"Sample {sample.code} is {sample.get_kind_display().lower()}; {modality.name} needs "
                   f"{modality.get_sample_kind_display().lower()}.")
    return refusal


@transaction.atomic
def procedure_record(*, actor: User, patient: Patient, modality: Modality, performed_on: date,
                     zones: dict[str, object] | None = None, clinician: User | None = None,
                     plan: TreatmentPlan | None = None, session_number: int | None = None,
                     delivery: str = Procedure.Delivery.INJECTION, anaesthesia: str = Procedure.Anaesthesia.NONE,
                     anaesthesia_detail: str = "", device: str = "", needle: str = "",
                     microneedling_depth_mm=None, lots: list[tuple[Lot, object]] | None = None,
                     sample: AutologousSample | None = None, notes: str = "",
                     study_product: bool = False) -> Procedure:
    """Record one treatment session as performed.

    ``study_product``: a blinded study syringe, prepared by the study's unblinded pharmacist (who
    filled it from a lot or from the subject's own released sample and keeps the sample's chain
    of custody); the procedure then names no sample, so that nothing on it tells the active side
    from the placebo side.

    Refused without treatment consent, with an expired or recalled lot or not enough stock, and
    for a sample that is not this patient's or not yet released. Stock goes down and the sample
    is marked implanted in the same transaction, so a refusal leaves nothing half-written.
    """
    check_role(actor, *CLINICAL_ROLES)
    _check_clinic(actor, patient.clinic_id, "patient")
    _require_treatment_consent(patient)
    if performed_on is None:
        raise ActionError("Enter the date of the procedure.", field="performed_on", code="required")
    _not_future(performed_on, "performed_on", "procedure date")
    if not isinstance(modality, Modality):
        raise ActionError("Choose the treatment given.", field="modality", code="required")
    delivery = _choice(delivery, Procedure.Delivery, "delivery", "delivery")
    anaesthesia = _choice(anaesthesia, Procedure.Anaesthesia, "anaesthesia", "anaesthesia")
    if plan is not None:
        if plan.patient_id != patient.pk:
            raise ActionError("That plan is another patient's; choose this patient's plan.", field="plan")
        if plan.status != PlanStatus.ACTIVE:
            raise ActionError(f"The plan is {plan.get_status_display().lower()}; reopen it or record without a plan.",
                              field="plan")
        if not plan.modalities.filter(pk=modality.pk).exists():
            raise ActionError(f"{modality.name} is not part of the plan; revise the plan first or choose its treatment.",
                              field="modality")
    zones = {k: v for k, v in (zones or {}).items()}
    if zones or delivery in ZONE_DELIVERIES:
        errors = rules.zone_volume_errors(zones)
        if errors:
            raise ActionError(" ".join(errors), field="zones")
    depth = _decimal(microneedling_depth_mm, "microneedling_depth_mm", "micro-needling depth in mm",
                     minimum=Decimal("0.1"), maximum=Decimal("5"), required=delivery == Procedure.Delivery.MICRONEEDLING)
    clinician = clinician or actor
    if not (clinician.has_role(Role.CLINICIAN) and clinician.can_see_clinic(patient.clinic_id)):
        raise ActionError(f"{clinician} is not a clinician of {patient.clinic.name}.", field="clinician")

    if study_product and sample is not None:
        raise ActionError("A study syringe's sample is recorded by the study's preparation, not on the procedure.",
                          field="sample")
    if modality.sample_kind and sample is None and not study_product:
        raise ActionError(f"{modality.name} implants the patient's own {modality.get_sample_kind_display().lower()}; "
                          f"choose the released sample (scan or type its code).", field="sample", code="required")
    if sample is not None:
        sample = AutologousSample.objects.select_for_update().get(pk=sample.pk)
        if not modality.sample_kind:
            raise ActionError(f"{modality.name} does not implant an autologous sample; leave the sample empty.",
                              field="sample")
        refusal = sample_implant_refusal(sample, patient_id=patient.pk, modality=modality)
        if refusal:
            raise ActionError(refusal, field="sample", code="sample_refused")
        if getattr(sample, "study_syringe", None) is not None:
            raise ActionError(f"Sample {sample.code} fills a study syringe; it is given through the study's injection "
                              "record, not as a clinic procedure.", field="sample", code="sample_refused")

    merged: dict[int, tuple[Lot, Decimal]] = {}
    for lot, qty in lots or []:
        q = _decimal(qty, "lots", f"quantity of {lot}", minimum=Decimal("0.01"), maximum=Decimal("99999999"))
        prev = merged.get(lot.pk)
        merged[lot.pk] = (lot, q + (prev[1] if prev else 0))
    for lot, qty in merged.values():
        _use_lot(lot=lot, quantity=qty, on=performed_on, clinic_id=patient.clinic_id)

    if plan is not None and session_number in (None, ""):
        session_number = plan.procedures.count() + 1
    procedure = Procedure.objects.create(
        patient=patient, clinic=patient.clinic, plan=plan, modality=modality, clinician=clinician,
        performed_on=performed_on, session_number=session_number or None, delivery=delivery, anaesthesia=anaesthesia,
        anaesthesia_detail=_text(anaesthesia_detail, "anaesthesia_detail", "anaesthesia detail", limit=200),
        device=_text(device, "device", "device", limit=120), needle=_text(needle, "needle", "needle", limit=60),
        microneedling_depth_mm=depth, sample=sample, notes=_text(notes, "notes", "notes"), created_by=actor)
    ProcedureZone.objects.bulk_create([ProcedureZone(procedure=procedure, zone=z, volume_ml=Decimal(str(v).strip()))
                                       for z, v in zones.items()])
    ProductUse.objects.bulk_create([ProductUse(procedure=procedure, lot=lot, quantity=q) for lot, q in merged.values()])
    if sample is not None:
        CustodyEvent.objects.create(sample=sample, step=rules.IMPLANTED, at=timezone.now(), by=actor,
                                    details={"procedure": procedure.pk})
        sample.status = rules.IMPLANTED
        sample.save(update_fields=["status"])
    return procedure


# --- adverse events -----------------------------------------------------------------------------

def _clean_adverse_event(event: AdverseEvent) -> None:
    event.description = _text(event.description, "description", "description of the event", required=True)
    if event.onset_on is None:
        raise ActionError("Enter the date the event began.", field="onset_on", code="required")
    _not_future(event.onset_on, "onset_on", "onset date")
    try:
        event.severity = int(event.severity)
    except (TypeError, ValueError):
        event.severity = 0
    if event.severity not in AdverseEvent.Severity.values:
        raise ActionError("Choose the severity grade, 1 (mild) to 5 (death).", field="severity")
    _choice(event.relation, AdverseEvent.Relation, "relation", "relation to the treatment")
    _choice(event.action, AdverseEvent.Action, "action", "action taken")
    _choice(event.outcome, AdverseEvent.Outcome, "outcome", "outcome")
    if event.procedure is not None and event.onset_on < event.procedure.performed_on:
        raise ActionError(f"The onset ({event.onset_on}) is before the procedure ({event.procedure.performed_on}); "
                          f"check the dates or record it without the procedure.", field="onset_on")
    if event.resolved_on is not None and event.resolved_on < event.onset_on:
        raise ActionError("The event cannot resolve before it began; check the dates.", field="resolved_on")
    must_be_serious = (event.severity >= 4 or event.action == AdverseEvent.Action.HOSPITALISED
                       or event.outcome == AdverseEvent.Outcome.FATAL)
    if must_be_serious and not event.serious:
        raise ActionError("A grade 4 or 5 event, a hospitalisation or a death is serious; mark it serious.",
                          field="serious")
    event.action_detail = _text(event.action_detail, "action_detail", "action detail")


@transaction.atomic
def adverse_event_record(*, actor: User, patient: Patient, description: str, onset_on: date, severity: int,
                         relation: str, serious: bool = False, action: str = AdverseEvent.Action.NONE,
                         action_detail: str = "", outcome: str = AdverseEvent.Outcome.UNKNOWN,
                         resolved_on: date | None = None, procedure: Procedure | None = None) -> AdverseEvent:
    check_role(actor, *CLINICAL_ROLES)
    _check_clinic(actor, patient.clinic_id, "patient")
    if procedure is not None and procedure.patient_id != patient.pk:
        raise ActionError("That procedure is another patient's; choose this patient's procedure.", field="procedure")
    event = AdverseEvent(patient=patient, clinic=patient.clinic, procedure=procedure, description=description,
                         onset_on=onset_on, severity=severity, serious=bool(serious), relation=relation, action=action,
                         action_detail=action_detail, outcome=outcome, resolved_on=resolved_on, reported_by=actor)
    _clean_adverse_event(event)
    event.save()
    return event


AE_UPDATABLE = ("description", "onset_on", "severity", "serious", "relation", "action", "action_detail", "outcome",
                "resolved_on")


@transaction.atomic
def adverse_event_update(*, actor: User, event: AdverseEvent, **fields) -> AdverseEvent:
    """Follow an event up: outcome, action, resolution (every change is in the audit trail)."""
    check_role(actor, *CLINICAL_ROLES)
    _check_clinic(actor, event.clinic_id, "adverse event")
    unknown = set(fields) - set(AE_UPDATABLE)
    if unknown:
        raise ActionError(f"These cannot be changed: {', '.join(sorted(unknown))}.")
    event = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    for name, value in fields.items():
        setattr(event, name, bool(value) if name == "serious" else value)
    _clean_adverse_event(event)
    event.save()
    return event


# --- autologous samples -------------------------------------------------------------------------

def _new_sample_code() -> str:
    for _ in range(20):
        code = "S-" + "".join(secrets.choice(SAMPLE_CODE_ALPHABET) for _ in range(8))
        if not AutologousSample.objects.filter(code=code).exists():
            return code
    raise RuntimeError("could not find a free sample code")


@transaction.atomic
def sample_harvest(*, actor: User, patient: Patient, kind: str, harvested_at: datetime | None = None,
                   biopsy_count: int | None = None, biopsy_diameter_mm=None, lipoaspirate_ml=None,
                   donor_site: str = "", notes: str = "") -> AutologousSample:
    """Record a harvest (punch biopsies or lipoaspirate) and give the sample its printed code."""
    check_role(actor, *HARVEST_ROLES)
    _check_clinic(actor, patient.clinic_id, "patient")
    _require_treatment_consent(patient)
    kind = _choice(kind, SampleKind, "kind", "kind of sample")
    harvested_at = harvested_at or timezone.now()
    if harvested_at > timezone.now():
        raise ActionError("The harvest time is in the future; enter when the sample was taken.", field="harvested_at")
    fields = {}
    if kind == SampleKind.BIOPSY:
        count = _decimal(biopsy_count, "biopsy_count", "number of biopsies", minimum=1, maximum=20)
        if count != count.to_integral_value():
            raise ActionError("The number of biopsies is a whole number.", field="biopsy_count")
        fields["biopsy_count"] = int(count)
        fields["biopsy_diameter_mm"] = _decimal(biopsy_diameter_mm, "biopsy_diameter_mm", "punch diameter in mm",
                                                minimum=Decimal("0.5"), maximum=Decimal("6"))
    else:
        fields["lipoaspirate_ml"] = _decimal(lipoaspirate_ml, "lipoaspirate_ml", "lipoaspirate volume in ml",
                                             minimum=Decimal("1"), maximum=Decimal("1000"))
    sample = AutologousSample.objects.create(
        patient=patient, clinic=patient.clinic, kind=kind, code=_new_sample_code(), harvested_at=harvested_at,
        harvested_by=actor, donor_site=_text(donor_site, "donor_site", "donor site", limit=80),
        notes=_text(notes, "notes", "notes"), **fields)
    CustodyEvent.objects.create(sample=sample, step=rules.HARVESTED, at=harvested_at, by=actor,
                                details={k: str(v) for k, v in fields.items()})
    return sample


@transaction.atomic
def custody_record(*, actor: User, sample: AutologousSample, step: str, at: datetime | None = None,
                   details: dict | None = None, notes: str = "") -> CustodyEvent:
    """Record the next step in a sample's chain of custody (received, processed, cultured, QC,
    released or discarded). Implantation is recorded on the procedure."""
    check_role(actor, *CUSTODY_ROLES)
    _check_clinic(actor, sample.clinic_id, "sample")
    sample = AutologousSample.objects.select_for_update().get(pk=sample.pk)
    if step == rules.IMPLANTED:
        raise ActionError("Implantation is recorded on the procedure: record the procedure and choose this sample.",
                          field="step")
    refusal = rules.custody_refusal(sample.status, step)
    if refusal:
        raise ActionError(refusal, field="step", code="invalid_step")
    details = {k: v for k, v in (details or {}).items() if v not in (None, "")}
    errors = rules.custody_detail_errors(step, details)
    if errors:
        raise ActionError(" ".join(errors), field="details")
    notes = _text(notes, "notes", "notes")
    if step == rules.DISCARDED and not (notes or details.get("reason")):
        raise ActionError("Give the reason the sample is discarded.", field="notes", code="required")
    at = at or timezone.now()
    if at > timezone.now() + timedelta(minutes=5):
        raise ActionError("The time is in the future; enter when the step happened.", field="at")
    last = sample.custody.order_by("-at", "-id").first()
    if last and at < last.at:
        raise ActionError(f"The time is before the previous step ({last.get_step_display().lower()} at "
                          f"{timezone.localtime(last.at):%d/%m/%Y %H:%M}); check the time.", field="at")
    event = CustodyEvent.objects.create(sample=sample, step=step, at=at, by=actor, details=details, notes=notes)
    sample.status = step
    sample.save(update_fields=["status"])
    return event
