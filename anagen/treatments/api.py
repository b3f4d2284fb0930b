"""API routes for treatment delivery, under /api/v1/treatments.

The same selectors and services as the pages: role (403) and clinic (404) on every route, every
rule refused with ``{"detail", "code"}``. Samples carry the code and patient number, never a name.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.http import Http404
from ninja import Field, Router, Schema, Status

from anagen.api.params import Id
from anagen.accounts.models import Clinic, Room, User

from . import blinded, selectors, services
from .models import (
    AdverseEvent,
    AutologousSample,
    Lot,
    Modality,
    Procedure,
    Product,
    ProposedBooking,
    TreatmentPlan,
)

router = Router(tags=["treatments"])


def _patient(request, pk: int):
    from anagen.patients.selectors import patient_get

    return patient_get(user=request.auth, pk=pk)


def _staff(request, pk: int | None) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk, is_active=True, clinics__in=request.auth.clinic_ids).distinct().first()
    if user is None:
        raise Http404("No such staff member at your clinics.")
    return user


# --- catalogue ----------------------------------------------------------------------------------

class ModalityOut(Schema):
    code: str
    name: str
    category: str
    description: str
    delivery_methods: str
    screening_code: str
    sample_kind: str
    typical_sessions: int
    interval_days: int
    follow_up_weeks: list[int]
    aftercare: str
    is_active: bool


class ModalityPatch(Schema):
    name: str | None = None
    description: str | None = None
    delivery_methods: str | None = None
    screening_code: str | None = None
    sample_kind: str | None = None
    typical_sessions: int | None = None
    interval_days: int | None = None
    follow_up_weeks: list[int] | None = None
    aftercare: str | None = None
    is_active: bool | None = None


@router.get("/catalogue", response=list[ModalityOut], summary="Treatment catalogue with defaults")
def catalogue_list(request):
    return list(selectors.modality_list(user=request.auth))


@router.get("/catalogue/{code}", response=ModalityOut, summary="One catalogue entry")
def catalogue_get(request, code: str):
    return selectors.modality_get(user=request.auth, code=code)


@router.patch("/catalogue/{code}", response=ModalityOut, summary="Edit a catalogue entry's defaults (admin)")
def catalogue_update(request, code: str, payload: ModalityPatch):
    modality = selectors.modality_get(user=request.auth, code=code)
    return services.modality_update(actor=request.auth, modality=modality, **payload.dict(exclude_none=True))


# --- plans --------------------------------------------------------------------------------------

class ProposalOut(Schema):
    id: int
    plan_id: int
    kind: str
    sequence: int
    label: str
    proposed_on: date
    status: str
    appointment_id: int | None
    appointment_starts_at: datetime | None = None
    confirmed_at: datetime | None

    @staticmethod
    def resolve_appointment_starts_at(obj: ProposedBooking):
        return obj.appointment.starts_at if obj.appointment_id else None


class PlanOut(Schema):
    id: int
    patient_id: int
    clinic_id: int
    clinician_id: int
    modalities: list[str]
    sessions: int
    interval_days: int
    follow_up_weeks: list[int]
    start_on: date
    aftercare: str
    notes: str
    status: str
    screening_basis: list[dict]
    created_at: datetime

    @staticmethod
    def resolve_modalities(obj: TreatmentPlan):
        return [m.code for m in obj.modalities.all()]


class PlanIn(Schema):
    patient_id: int
    modalities: list[str] = Field(..., description="Catalogue codes, e.g. [\"prp\", \"minoxidil\"].")
    start_on: date
    sessions: int | None = None
    interval_days: int | None = None
    follow_up_weeks: list[int] | None = None
    aftercare: str | None = None
    notes: str = ""
    clinician_id: int | None = None


class PlanChangeIn(Schema):
    reason: str
    modalities: list[str] | None = None
    sessions: int | None = None
    interval_days: int | None = None
    follow_up_weeks: list[int] | None = None
    start_on: date | None = None
    aftercare: str | None = None
    notes: str | None = None
    status: str | None = None


class RevisionOut(Schema):
    id: int
    number: int
    reason: str
    previous: dict
    new: dict
    changed_at: datetime
    changed_by_id: int | None


@router.get("/plans", response=list[PlanOut], summary="Treatment plans at the caller's clinics")
def plan_list(request, patient_id: Id | None = None):
    patient = _patient(request, patient_id) if patient_id is not None else None
    return list(selectors.plan_list(user=request.auth, patient=patient))


@router.post("/plans", response={201: PlanOut}, summary="Plan treatment from a candidate screening (clinician)")
def plan_create(request, payload: PlanIn):
    data = payload.dict()
    patient = _patient(request, data.pop("patient_id"))
    clinician = _staff(request, data.pop("clinician_id"))
    return Status(201, services.plan_create(actor=request.auth, patient=patient, clinician=clinician, **data))


@router.get("/plans/{plan_id}", response=PlanOut, summary="One treatment plan")
def plan_get(request, plan_id: Id):
    return selectors.plan_get(user=request.auth, pk=plan_id)


@router.get("/plans/{plan_id}/changes", response=list[RevisionOut], summary="A plan's changes, newest first")
def plan_changes(request, plan_id: Id):
    return list(selectors.plan_get(user=request.auth, pk=plan_id).revisions.all())


@router.post("/plans/{plan_id}/changes", response={201: RevisionOut}, summary="Change a plan, with a reason")
def plan_change(request, plan_id: Id, payload: PlanChangeIn):
    plan = selectors.plan_get(user=request.auth, pk=plan_id)
    data = payload.dict(exclude_none=True)
    return Status(201, services.plan_revise(actor=request.auth, plan=plan, reason=data.pop("reason"), **data))


@router.get("/plans/{plan_id}/proposals", response=list[ProposalOut], summary="Visits the plan proposes")
def plan_proposals(request, plan_id: Id, include_superseded: bool = False):
    plan = selectors.plan_get(user=request.auth, pk=plan_id)
    qs = plan.proposals.select_related("appointment")
    return list(qs if include_superseded else qs.exclude(status="superseded"))


class ConfirmIn(Schema):
    starts_at: datetime = Field(..., description="Without a timezone: the clinic's local time.")
    clinician_id: int | None = None
    room_id: int | None = None
    notes: str = ""


@router.post("/proposals/{proposal_id}/confirm", response=ProposalOut,
             summary="Book a proposed visit through the scheduling rules (coordinator); 409 on a clash")
def proposal_confirm(request, proposal_id: Id, payload: ConfirmIn):
    proposal = selectors.proposal_get(user=request.auth, pk=proposal_id)
    room = None
    if payload.room_id is not None:
        room = Room.objects.filter(pk=payload.room_id, clinic_id__in=request.auth.clinic_ids).first()
        if room is None:
            raise Http404("No such room at your clinics.")
    return services.proposal_confirm(actor=request.auth, proposal=proposal, starts_at=payload.starts_at,
                                     clinician=_staff(request, payload.clinician_id), room=room, notes=payload.notes)


# --- products and lots --------------------------------------------------------------------------

class ProductOut(Schema):
    id: int
    name: str
    manufacturer: str
    kind: str
    unit: str


class ProductIn(Schema):
    name: str
    manufacturer: str
    kind: str
    unit: str = "ml"


class LotOut(Schema):
    id: int
    product: ProductOut
    clinic_id: int
    lot_number: str
    expires_on: date
    quantity_on_hand: Decimal
    recalled: bool
    recall_reason: str
    recalled_at: datetime | None


class LotIn(Schema):
    product_id: int
    clinic_id: int
    lot_number: str
    expires_on: date
    quantity: Decimal


class RecallIn(Schema):
    reason: str


@router.get("/products", response=list[ProductOut], summary="Products")
def product_list(request):
    return list(selectors.product_list(user=request.auth))


@router.post("/products", response={201: ProductOut}, summary="Add a product")
def product_create(request, payload: ProductIn):
    return Status(201, services.product_create(actor=request.auth, **payload.dict()))


@router.get("/lots", response=list[LotOut], summary="Lots at the caller's clinics")
def lot_list(request, usable_only: bool = False):
    return list(selectors.lot_list(user=request.auth, usable_only=usable_only))


@router.post("/lots", response={201: LotOut}, summary="Receive a lot into a clinic's stock")
def lot_receive(request, payload: LotIn):
    selectors.product_list(user=request.auth)  # role check before the lookups
    product = Product.objects.filter(pk=payload.product_id).first()
    clinic = Clinic.objects.filter(pk=payload.clinic_id, pk__in=request.auth.clinic_ids).first()
    if product is None or clinic is None:
        raise Http404("No such product, or the clinic is not one you work at.")
    return Status(201, services.lot_receive(actor=request.auth, product=product, clinic=clinic, lot_number=payload.lot_number,
                                     expires_on=payload.expires_on, quantity=payload.quantity))


@router.get("/lots/{lot_id}", response=LotOut, summary="One lot")
def lot_get(request, lot_id: Id):
    return selectors.lot_get(user=request.auth, pk=lot_id)


@router.post("/lots/{lot_id}/recall", response=LotOut, summary="Recall a lot: it can no longer be used")
def lot_recall(request, lot_id: Id, payload: RecallIn):
    return services.lot_recall(actor=request.auth, lot=selectors.lot_get(user=request.auth, pk=lot_id),
                               reason=payload.reason)


class RecipientOut(Schema):
    patient_id: int
    patient_number: str
    patient_name: str
    procedure_id: int
    performed_on: date
    modality: str
    lot_id: int
    lot_number: str
    product: str
    clinic: str
    quantity: Decimal


@router.get("/recall", response=list[RecipientOut], summary="Which patients received lot X (for a recall)")
def recall_search(request, lot_number: str):
    return [RecipientOut(patient_id=u.procedure.patient_id, patient_number=u.procedure.patient.patient_number,
                         patient_name=u.procedure.patient.full_name, procedure_id=u.procedure_id,
                         performed_on=u.procedure.performed_on, modality=u.procedure.modality.code, lot_id=u.lot_id,
                         lot_number=u.lot.lot_number, product=u.lot.product.name, clinic=u.lot.clinic.name,
                         quantity=u.quantity)
            for u in selectors.lot_recipients(user=request.auth, lot_number=lot_number)]


# --- procedures ---------------------------------------------------------------------------------

class ZoneOut(Schema):
    zone: str
    volume_ml: Decimal


class UseOut(Schema):
    lot_id: int
    lot_number: str
    product: str
    quantity: Decimal

    @staticmethod
    def resolve_lot_number(obj):
        return obj.lot.lot_number

    @staticmethod
    def resolve_product(obj):
        return obj.lot.product.name


class ProcedureOut(Schema):
    id: int
    patient_id: int
    clinic_id: int
    plan_id: int | None
    session_number: int | None
    modality: str
    clinician_id: int
    performed_on: date
    delivery: str
    anaesthesia: str
    anaesthesia_detail: str
    device: str
    needle: str
    microneedling_depth_mm: Decimal | None
    sample_code: str | None
    zones: list[ZoneOut]
    products: list[UseOut]
    study_product: str | None = Field(None, description="For a study procedure: the syringe's label; the product "
                                                        "and lot only for the study's unblinded members.")
    notes: str

    @staticmethod
    def resolve_modality(obj: Procedure):
        return obj.modality.code

    @staticmethod
    def resolve_sample_code(obj: Procedure):
        return obj.sample.code if obj.sample_id else None

    @staticmethod
    def resolve_zones(obj: Procedure):
        return list(obj.zones.all())

    @staticmethod
    def resolve_products(obj: Procedure):
        return list(obj.product_uses.all())


class LotUseIn(Schema):
    lot_id: int
    quantity: Decimal


class ProcedureIn(Schema):
    patient_id: int
    modality: str
    performed_on: date
    zones: dict[str, Decimal] = Field(default_factory=dict, description="Zone code -> volume in ml, e.g. "
                                                                         "{\"vertex\": 2.5}.")
    plan_id: int | None = None
    session_number: int | None = None
    delivery: str = "injection"
    anaesthesia: str = "none"
    anaesthesia_detail: str = ""
    device: str = ""
    needle: str = ""
    microneedling_depth_mm: Decimal | None = None
    lots: list[LotUseIn] = Field(default_factory=list)
    sample_code: str | None = None
    notes: str = ""


@router.get("/procedures", response=list[ProcedureOut], summary="Procedures at the caller's clinics")
def procedure_list(request, patient_id: Id | None = None):
    patient = _patient(request, patient_id) if patient_id is not None else None
    return _with_study_notes(request.auth, list(selectors.procedure_list(user=request.auth, patient=patient)[:500]))


def _with_study_notes(user, procedures: list[Procedure]) -> list[Procedure]:
    notes = blinded.procedure_notes(user, [p.pk for p in procedures])
    for p in procedures:
        p.study_product = notes.get(p.pk)
    return procedures


@router.post("/procedures", response={201: ProcedureOut}, summary="Record a procedure (clinician)")
def procedure_create(request, payload: ProcedureIn):
    user = request.auth
    patient = _patient(request, payload.patient_id)
    try:
        modality = Modality.objects.get(code=payload.modality)
    except Modality.DoesNotExist:
        raise Http404(f"No treatment {payload.modality!r} in the catalogue.") from None
    plan = selectors.plan_get(user=user, pk=payload.plan_id) if payload.plan_id is not None else None
    lots = []
    for row in payload.lots:
        lot = blinded.exclude_hidden(Lot.objects.filter(pk=row.lot_id, clinic_id__in=user.clinic_ids), user, "pk") \
            .select_related("product", "clinic").first()
        if lot is None:
            raise Http404(f"No lot {row.lot_id} at your clinics.")
        lots.append((lot, row.quantity))
    sample = None
    if payload.sample_code:
        sample = AutologousSample.objects.filter(code=payload.sample_code.strip().upper(),
                                                 clinic_id__in=user.clinic_ids).first()
        if sample is None:
            raise Http404(f"No sample {payload.sample_code} at your clinics.")
    data = payload.dict(exclude={"patient_id", "modality", "plan_id", "lots", "sample_code"})
    return Status(201, services.procedure_record(actor=user, patient=patient, modality=modality, plan=plan, lots=lots,
                                          sample=sample, **data))


@router.get("/procedures/{procedure_id}", response=ProcedureOut, summary="One procedure")
def procedure_get(request, procedure_id: Id):
    return _with_study_notes(request.auth, [selectors.procedure_get(user=request.auth, pk=procedure_id)])[0]


# --- adverse events -----------------------------------------------------------------------------

class AdverseEventOut(Schema):
    id: int
    patient_id: int
    procedure_id: int | None
    description: str
    onset_on: date
    severity: int
    serious: bool
    relation: str
    action: str
    action_detail: str
    outcome: str
    resolved_on: date | None
    reported_by_id: int | None
    reported_at: datetime


class AdverseEventIn(Schema):
    patient_id: int
    procedure_id: int | None = None
    description: str
    onset_on: date
    severity: int = Field(..., description="CTCAE grade 1 (mild) to 5 (death).")
    serious: bool = False
    relation: str = Field(..., description="unrelated, unlikely, possible, probable, definite")
    action: str = "none"
    action_detail: str = ""
    outcome: str = "unknown"
    resolved_on: date | None = None


class AdverseEventPatch(Schema):
    description: str | None = None
    onset_on: date | None = None
    severity: int | None = None
    serious: bool | None = None
    relation: str | None = None
    action: str | None = None
    action_detail: str | None = None
    outcome: str | None = None
    resolved_on: date | None = None


@router.get("/adverse-events", response=list[AdverseEventOut], summary="Adverse events at the caller's clinics")
def adverse_event_list(request, patient_id: Id | None = None):
    patient = _patient(request, patient_id) if patient_id is not None else None
    return list(selectors.adverse_event_list(user=request.auth, patient=patient)[:500])


@router.post("/adverse-events", response={201: AdverseEventOut}, summary="Report an adverse event (clinician)")
def adverse_event_create(request, payload: AdverseEventIn):
    data = payload.dict()
    patient = _patient(request, data.pop("patient_id"))
    procedure_id = data.pop("procedure_id")
    procedure = selectors.procedure_get(user=request.auth, pk=procedure_id) if procedure_id is not None else None
    return Status(201, services.adverse_event_record(actor=request.auth, patient=patient, procedure=procedure, **data))


@router.get("/adverse-events/{event_id}", response=AdverseEventOut, summary="One adverse event")
def adverse_event_get(request, event_id: Id):
    return selectors.adverse_event_get(user=request.auth, pk=event_id)


@router.patch("/adverse-events/{event_id}", response=AdverseEventOut, summary="Follow up an adverse event")
def adverse_event_update(request, event_id: Id, payload: AdverseEventPatch):
    event = selectors.adverse_event_get(user=request.auth, pk=event_id)
    return services.adverse_event_update(actor=request.auth, event=event, **payload.dict(exclude_none=True))


# --- samples ------------------------------------------------------------------------------------

class CustodyOut(Schema):
    id: int
    step: str
    at: datetime
    by_id: int
    details: dict
    notes: str


class SampleOut(Schema):
    """No name, no date of birth: the code and the patient number are all the lab sees."""

    id: int
    code: str
    patient_number: str
    clinic_id: int
    kind: str
    status: str
    harvested_at: datetime
    biopsy_count: int | None
    biopsy_diameter_mm: Decimal | None
    lipoaspirate_ml: Decimal | None
    donor_site: str

    @staticmethod
    def resolve_patient_number(obj: AutologousSample):
        return obj.patient.patient_number


class SampleIn(Schema):
    patient_id: int
    kind: str = Field(..., description="biopsy or lipoaspirate")
    harvested_at: datetime | None = None
    biopsy_count: int | None = None
    biopsy_diameter_mm: Decimal | None = None
    lipoaspirate_ml: Decimal | None = None
    donor_site: str = ""
    notes: str = ""


class CustodyIn(Schema):
    step: str = Field(..., description="received, processed, cultured, qc_passed, qc_failed, released, discarded")
    at: datetime | None = None
    details: dict = Field(default_factory=dict,
                          description="processing_method, passage, cell_count, viability_pct, reason")
    notes: str = ""


@router.get("/samples", response=list[SampleOut], summary="Autologous samples at the caller's clinics")
def sample_list(request, status: str | None = None, code: str | None = None):
    qs = selectors.sample_list(user=request.auth, status=status)
    if code:
        qs = qs.filter(code=code.strip().upper())
    return list(qs[:500])


@router.post("/samples", response={201: SampleOut}, summary="Record a harvest (clinician)")
def sample_create(request, payload: SampleIn):
    data = payload.dict()
    patient = _patient(request, data.pop("patient_id"))
    return Status(201, services.sample_harvest(actor=request.auth, patient=patient, **data))


@router.get("/samples/{sample_id}", response=SampleOut, summary="One sample")
def sample_get(request, sample_id: Id):
    return selectors.sample_get(user=request.auth, pk=sample_id)


@router.get("/samples/{sample_id}/custody", response=list[CustodyOut], summary="A sample's chain of custody")
def custody_list(request, sample_id: Id):
    return list(selectors.sample_get(user=request.auth, pk=sample_id).custody.all())


@router.post("/samples/{sample_id}/custody", response={201: CustodyOut}, summary="Record the next custody step")
def custody_create(request, sample_id: Id, payload: CustodyIn):
    sample = selectors.sample_get(user=request.auth, pk=sample_id)
    return Status(201, services.custody_record(actor=request.auth, sample=sample, step=payload.step, at=payload.at,
                                        details=payload.details, notes=payload.notes))

