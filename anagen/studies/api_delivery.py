"""Treatment and placebo delivery API (issue item 5), under /api/v1/studies: the same services as
the pages (:mod:`anagen.studies.delivery`) and the same blinding rule for every syringe returned
(:func:`anagen.studies.blinding.syringe_view`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Field, Router, Schema, Status

from anagen.api.params import Id

from . import blinding, delivery, selectors

router = Router(tags=["studies"])


class SyringeOut(Schema):
    id: int
    label: str
    side: str | None
    quantity_ml: Decimal
    visit_code: str
    prepared_at: datetime
    prepared_by: str
    injected_at: datetime | None
    injected_by: str | None
    procedure_id: int | None
    blinded: bool
    arm: str | None = Field(None, description="Unblinded members only.")
    lot: str | None = Field(None, description="Unblinded members only.")
    discarded_at: datetime | None = Field(None, description="Set when the syringe was discarded before use.")
    discarded_by: str | None = None
    discard_reason: str | None = Field(None, description="Unblinded members only.")


class SyringeIn(Schema):
    side: str = Field("", max_length=2, description="L or R for a split-scalp study; empty for a parallel one.")
    lot_id: Id | None = Field(None, description="A lot set aside for the arm this side gets.")
    sample_code: str | None = Field(None, max_length=20,
                                    description="Instead of a lot, for a treatment that implants the patient's own "
                                                "material: the code of the subject's released sample.")
    quantity_ml: Decimal = Field(..., gt=0, le=50)


class PreparationIn(Schema):
    visit_code: str = Field(..., max_length=20)
    modality: str = Field(..., max_length=40, description="Catalogue code of the treatment recorded.")
    syringes: list[SyringeIn] = Field(..., max_length=2)


class InjectionIn(Schema):
    visit_code: str = Field(..., max_length=20)
    side: str = Field("", max_length=2)
    performed_on: date | None = None
    zones: dict[str, Decimal] = Field(default_factory=dict, description="Zone code -> volume in ml.")
    anaesthesia: str = Field("none", max_length=16)
    anaesthesia_detail: str = Field("", max_length=200)
    needle: str = Field("", max_length=60)
    notes: str = Field("", max_length=5000)


class DiscardIn(Schema):
    visit_code: str = Field(..., max_length=20)
    side: str = Field("", max_length=2)
    reason: str = Field(..., max_length=500)


class RefillIn(Schema):
    visit_code: str = Field(..., max_length=20)
    side: str = Field("", max_length=2)
    lot_id: Id = Field(..., description="A lot set aside for the arm this side gets.")
    quantity_ml: Decimal = Field(..., gt=0, le=50)


class StudyLotOut(Schema):
    id: int
    arm: str
    lot_id: int
    lot: str
    clinic: str
    expires_on: date
    quantity_on_hand: Decimal


class StudyLotIn(Schema):
    lot_id: Id
    arm_code: str = Field(..., max_length=8)


def _study(request, study_id):
    from .views_delivery import DELIVERY_PAGE_ROLES, check_delivery_access

    if not request.user.has_role(*DELIVERY_PAGE_ROLES):
        raise PermissionDenied("Your role does not allow studies.")
    study = selectors.study_get(user=request.user, pk=study_id)
    check_delivery_access(request.user, study)
    return study


def _subject(request, study_id, subject_id):
    study = _study(request, study_id)
    return study, selectors.subject_get(user=request.user, study=study, pk=subject_id)


def _syringes(user, subject) -> list[dict]:
    return [blinding.syringe_view(user, s).as_dict()
            for prep in delivery.preparations_for(subject=subject) for s in prep.syringes.all()]


@router.get("/{study_id}/subjects/{subject_id}/treatment", response=list[SyringeOut], exclude_unset=True,
            summary="A subject's labelled syringes (arm and lot for unblinded members only)")
def treatment(request, study_id: Id, subject_id: Id):
    _, subject = _subject(request, study_id, subject_id)
    return _syringes(request.user, subject)


@router.post("/{study_id}/subjects/{subject_id}/treatment/preparations", response={201: list[SyringeOut]}, exclude_unset=True,
             summary="Prepare and label a subject's syringes for a visit (unblinded pharmacist)")
def preparation_create(request, study_id: Id, subject_id: Id, payload: PreparationIn):
    from anagen.core.errors import ActionError
    from anagen.treatments.models import Lot

    study, subject = _subject(request, study_id, subject_id)
    if blinding.study_role(request.user, study) not in delivery.PREPARER_ROLES:
        raise PermissionDenied("Only the study's unblinded pharmacist prepares study product.")
    syringes = {}
    for row in payload.syringes:
        if (row.lot_id is None) == (not row.sample_code):
            raise ActionError("Give each syringe either a lot_id or the sample_code of the subject's own sample.",
                              field="syringes")
        if row.sample_code:
            source = delivery.released_samples(user=request.user, subject=subject).filter(
                code=row.sample_code.strip().upper()).first()
            if source is None:
                raise ActionError(f"{subject.code} has no released sample {row.sample_code} that is not yet in a "
                                  "syringe.", field="syringes", code="sample_refused")
        else:
            source = Lot.objects.filter(pk=row.lot_id, clinic_id__in=list(request.user.clinic_ids)).first()
            if source is None:
                raise Http404(f"No lot {row.lot_id} at your clinics.")
        syringes[row.side] = (source, row.quantity_ml)
    delivery.preparation_record(actor=request.user, subject=subject, visit_code=payload.visit_code,
                                modality=payload.modality, syringes=syringes)
    return Status(201, _syringes(request.user, subject))


@router.post("/{study_id}/subjects/{subject_id}/treatment/injections", response={201: SyringeOut}, exclude_unset=True,
             summary="Record the injection of one labelled syringe as a procedure (blinded injector)")
def injection_create(request, study_id: Id, subject_id: Id, payload: InjectionIn):
    _, subject = _subject(request, study_id, subject_id)
    procedure = delivery.injection_record(actor=request.user, subject=subject, **payload.dict())
    return Status(201, blinding.syringe_view(request.user, procedure.study_syringe).as_dict())


def _preparer(request, study_id, subject_id):
    study, subject = _subject(request, study_id, subject_id)
    if blinding.study_role(request.user, study) not in delivery.PREPARER_ROLES:
        raise PermissionDenied("Only the study's unblinded pharmacist discards and refills study syringes.")
    return study, subject


@router.post("/{study_id}/subjects/{subject_id}/treatment/discards", response={201: SyringeOut}, exclude_unset=True,
             summary="Discard a spoiled syringe before it is given, with the reason (unblinded pharmacist)")
def discard_create(request, study_id: Id, subject_id: Id, payload: DiscardIn):
    _, subject = _preparer(request, study_id, subject_id)
    syringe = delivery.syringe_discard(actor=request.user, subject=subject, **payload.dict())
    return Status(201, blinding.syringe_view(request.user, syringe).as_dict())


@router.post("/{study_id}/subjects/{subject_id}/treatment/refills", response={201: SyringeOut}, exclude_unset=True,
             summary="Fill a new syringe for a side whose syringe was discarded (unblinded pharmacist)")
def refill_create(request, study_id: Id, subject_id: Id, payload: RefillIn):
    from anagen.treatments.models import Lot

    _, subject = _preparer(request, study_id, subject_id)
    lot = Lot.objects.filter(pk=payload.lot_id, clinic_id__in=list(request.user.clinic_ids)).first()
    if lot is None:
        raise Http404(f"No lot {payload.lot_id} at your clinics.")
    syringe = delivery.syringe_refill(actor=request.user, subject=subject, visit_code=payload.visit_code,
                                      side=payload.side, source=lot, quantity=payload.quantity_ml)
    return Status(201, blinding.syringe_view(request.user, syringe).as_dict())


@router.get("/{study_id}/lots", response=list[StudyLotOut], summary="The study's lots and their arms (unblinded pharmacist)")
def study_lots(request, study_id: Id):
    study = _study(request, study_id)
    return [_lot_out(sl) for sl in delivery.lots_for_preparer(user=request.user, study=study)]


@router.post("/{study_id}/lots", response={201: StudyLotOut}, summary="Set a lot aside for an arm (unblinded pharmacist)")
def study_lot_add(request, study_id: Id, payload: StudyLotIn):
    from anagen.treatments.models import Lot

    study = _study(request, study_id)
    lot = Lot.objects.filter(pk=payload.lot_id, clinic_id__in=list(request.user.clinic_ids)).first()
    if lot is None:
        raise Http404(f"No lot {payload.lot_id} at your clinics.")
    return Status(201, _lot_out(delivery.study_lot_add(actor=request.user, study=study, lot=lot,
                                                       arm_code=payload.arm_code)))


def _lot_out(sl) -> dict:
    return {"id": sl.pk, "arm": str(sl.arm), "lot_id": sl.lot_id, "lot": f"{sl.lot.product.name} lot {sl.lot.lot_number}",
            "clinic": sl.lot.clinic.name, "expires_on": sl.lot.expires_on, "quantity_on_hand": sl.lot.quantity_on_hand}
