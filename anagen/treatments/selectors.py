"""Reads for treatment delivery, always through the user: role first (403), then clinic (404).

The lab sees samples by code and patient number only: :func:`sample_list` and
:func:`sample_get` never join the patient's name, and the lab pages show nothing else.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from anagen.accounts.models import Role
from anagen.core.permissions import PATIENT_RECORD_ROLES, check_role, has_role

from . import blinded
from .models import AdverseEvent, AutologousSample, Lot, Modality, Procedure, Product, ProductUse, TreatmentPlan

CATALOGUE_VIEW_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN, Role.LAB_SCIENTIST)
TREATMENT_VIEW_ROLES = PATIENT_RECORD_ROLES
STOCK_VIEW_ROLES = (Role.ADMIN, Role.CLINICIAN)
SAMPLE_VIEW_ROLES = (Role.ADMIN, Role.CLINICIAN, Role.LAB_SCIENTIST)


def _get(qs: QuerySet, pk):
    try:
        return qs.get(pk=int(pk))
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found, or not at a clinic you work at.") from None


def _clinics(user) -> list[int]:
    return list(user.clinic_ids)


# --- catalogue ----------------------------------------------------------------------------------

def modality_list(*, user, include_inactive: bool = False) -> QuerySet[Modality]:
    check_role(user, *CATALOGUE_VIEW_ROLES)
    qs = Modality.objects.all()
    return qs if include_inactive else qs.filter(is_active=True)


def modality_get(*, user, code: str) -> Modality:
    check_role(user, *CATALOGUE_VIEW_ROLES)
    try:
        return Modality.objects.get(code=code)
    except Modality.DoesNotExist:
        raise Http404("No such treatment in the catalogue.") from None


# --- plans --------------------------------------------------------------------------------------

def plan_list(*, user, patient=None) -> QuerySet[TreatmentPlan]:
    check_role(user, *TREATMENT_VIEW_ROLES)
    qs = (TreatmentPlan.objects.filter(clinic_id__in=_clinics(user))
          .select_related("patient", "clinic", "clinician").prefetch_related("modalities"))
    if patient is not None:
        qs = qs.filter(patient=patient)
    return qs


def plan_get(*, user, pk) -> TreatmentPlan:
    return _get(plan_list(user=user), pk)


def proposal_get(*, user, pk):
    from .models import ProposedBooking

    check_role(user, *TREATMENT_VIEW_ROLES)
    return _get(ProposedBooking.objects.filter(plan__clinic_id__in=_clinics(user)).select_related("plan"), pk)


# --- procedures and adverse events --------------------------------------------------------------

def procedure_list(*, user, patient=None) -> QuerySet[Procedure]:
    """Procedures at the user's clinics; ``product_uses`` holds only the uses whose lot the user
    may see (a blinded study's lots are hidden: :mod:`anagen.treatments.blinded`)."""
    check_role(user, *TREATMENT_VIEW_ROLES)
    uses = blinded.exclude_hidden(ProductUse.objects.select_related("lot__product"), user)
    qs = (Procedure.objects.filter(clinic_id__in=_clinics(user))
          .select_related("patient", "clinic", "modality", "clinician", "sample", "plan")
          .prefetch_related("zones", Prefetch("product_uses", queryset=uses)))
    if patient is not None:
        qs = qs.filter(patient=patient)
    return qs


def procedure_get(*, user, pk) -> Procedure:
    return _get(procedure_list(user=user), pk)


def adverse_event_list(*, user, patient=None) -> QuerySet[AdverseEvent]:
    check_role(user, *TREATMENT_VIEW_ROLES)
    qs = AdverseEvent.objects.filter(clinic_id__in=_clinics(user)).select_related("patient", "procedure__modality",
                                                                                 "reported_by")
    if patient is not None:
        qs = qs.filter(patient=patient)
    return qs


def adverse_event_get(*, user, pk) -> AdverseEvent:
    return _get(adverse_event_list(user=user), pk)


# --- products, lots and recalls -----------------------------------------------------------------

def product_list(*, user) -> QuerySet[Product]:
    check_role(user, *STOCK_VIEW_ROLES)
    return Product.objects.filter(is_active=True)


def lot_list(*, user, usable_only: bool = False, clinic_id: int | None = None) -> QuerySet[Lot]:
    check_role(user, *STOCK_VIEW_ROLES)
    qs = blinded.exclude_hidden(Lot.objects.filter(clinic_id__in=_clinics(user)).select_related("product", "clinic"),
                                user, "pk")
    if clinic_id is not None:
        qs = qs.filter(clinic_id=clinic_id)
    if usable_only:
        from django.utils import timezone

        qs = qs.filter(recalled=False, quantity_on_hand__gt=0, expires_on__gte=timezone.localdate())
    return qs


def lot_get(*, user, pk) -> Lot:
    return _get(lot_list(user=user), pk)


def lot_recipients(*, user, lot_number: str) -> QuerySet[ProductUse]:
    """Every use of a lot number at the user's clinics, with the patient and procedure: the
    answer to "which patients received lot X" for a recall, in one query. The uses of a blinded
    study's lots are left out unless the user is unblinded on that study."""
    check_role(user, *TREATMENT_VIEW_ROLES)
    lot_number = (lot_number or "").strip()
    if not lot_number:
        return ProductUse.objects.none()
    return (blinded.exclude_hidden(ProductUse.objects, user)
            .filter(lot__lot_number__iexact=lot_number, procedure__clinic_id__in=_clinics(user))
            .select_related("lot__product", "lot__clinic", "procedure__patient", "procedure__modality",
                            "procedure__clinician")
            .order_by("procedure__patient__last_name", "procedure__performed_on"))


# --- samples ------------------------------------------------------------------------------------

def sample_list(*, user, patient=None, status: str | None = None) -> QuerySet[AutologousSample]:
    check_role(user, *SAMPLE_VIEW_ROLES)
    # Only the patient number is joined: the lab never sees a name.
    qs = (AutologousSample.objects.filter(clinic_id__in=_clinics(user))
          .select_related("clinic").only("id", "code", "kind", "status", "clinic__name", "clinic__id", "patient_id",
                                          "patient__patient_number", "harvested_at", "biopsy_count",
                                          "biopsy_diameter_mm", "lipoaspirate_ml", "donor_site", "notes",
                                          "harvested_by_id", "created_at", "clinic_id")
          .select_related("patient"))
    if patient is not None:
        qs = qs.filter(patient=patient)
    if status:
        qs = qs.filter(status=status)
    return qs


def sample_get(*, user, pk) -> AutologousSample:
    return _get(sample_list(user=user), pk)


def sample_by_code(*, user, code: str) -> AutologousSample:
    try:
        return sample_list(user=user).get(code=(code or "").strip().upper())
    except AutologousSample.DoesNotExist:
        raise Http404("No sample with that code at the clinics you work at.") from None


def released_samples(*, user, patient) -> QuerySet[AutologousSample]:
    from . import rules

    return sample_list(user=user, patient=patient, status=rules.RELEASED)


def can_see_identity(user) -> bool:
    """Whether the user may see who a patient is (the lab and evaluators may not)."""
    return has_role(user, *PATIENT_RECORD_ROLES)
