"""API routes for patients and their consents and staging, mounted at /api/v1/patients.

The same services and selectors as the pages: coordinators and admins register and edit
contact details, clinicians record diagnosis and staging; other roles get 403 and another
clinic's patient 404.
"""

from __future__ import annotations

from datetime import date, datetime

from django.http import Http404
from ninja import Field, Router, Schema

from anagen.api.params import Id, Limit, Offset
from anagen.accounts.models import Clinic
from anagen.core.errors import ActionError
from anagen.core.permissions import FRONT_DESK_ROLES, check_role

from . import selectors, services
from .models import Consent, StagingAssessment

router = Router(tags=["patients"])


class PatientOut(Schema):
    id: int
    patient_number: str
    clinic_id: int
    first_name: str
    last_name: str
    date_of_birth: date | None
    sex: str
    email: str
    phone: str
    address: str
    diagnosis: str
    diagnosis_detail: str
    created_at: datetime


class PatientIn(Schema):
    clinic_id: int
    first_name: str = Field(..., max_length=80)
    last_name: str = Field(..., max_length=80)
    date_of_birth: date | None = None
    sex: str = "unknown"
    email: str = ""
    phone: str = ""
    address: str = ""
    notes: str = ""
    allow_duplicate: bool = False


class PatientPatch(Schema):
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: date | None = None
    sex: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    notes: str | None = None
    diagnosis: str | None = None
    diagnosis_detail: str | None = None
    allow_duplicate: bool = False


class PatientPage(Schema):
    count: int
    results: list[PatientOut]


class ConsentOut(Schema):
    id: int
    kind: str
    document_version: str
    given_at: datetime
    recorded_by_id: int
    withdrawn_at: datetime | None
    withdrawn_by_id: int | None
    withdrawal_reason: str
    is_active: bool


class ConsentIn(Schema):
    kind: str
    document_version: str


class WithdrawIn(Schema):
    reason: str


class StagingOut(Schema):
    id: int
    scale: str
    stage: str
    assessed_on: date
    assessed_by_id: int
    notes: str


class StagingIn(Schema):
    scale: str
    stage: str
    assessed_on: date
    notes: str = ""


class DuplicateOut(Schema):
    detail: str
    code: str
    existing_patient_id: int
    existing_patient_number: str


class ErrorOut(Schema):
    detail: str
    code: str


@router.get("", response=PatientPage, summary="Search patients of your clinics (name, date of birth, phone, e-mail)")
def patient_list(request, q: str = "", limit: Limit = 50, offset: Offset = 0):
    limit = max(1, min(limit, 200))
    qs = selectors.search_order(selectors.patient_search(user=request.auth, q=q[:200]))
    return {"count": qs.count(), "results": list(qs[max(offset, 0):max(offset, 0) + limit])}


@router.post("", response={201: PatientOut, 409: DuplicateOut}, summary="Register a patient (409 when already registered)")
def patient_create(request, body: PatientIn):
    check_role(request.auth, *FRONT_DESK_ROLES)
    clinic = Clinic.objects.filter(pk=body.clinic_id, id__in=list(request.auth.clinic_ids)).first()
    if clinic is None:
        raise Http404
    data = body.dict()
    data.pop("clinic_id")
    try:
        patient = services.patient_register(actor=request.auth, clinic=clinic, **data)
    except services.DuplicatePatient as exc:
        return 409, {"detail": exc.message, "code": exc.code, "existing_patient_id": exc.existing.pk,
                     "existing_patient_number": exc.existing.patient_number}
    return 201, patient


@router.get("/{int:patient_id}", response=PatientOut, summary="One patient")
def patient_detail(request, patient_id: Id):
    return selectors.patient_get(user=request.auth, pk=patient_id)


@router.patch("/{int:patient_id}", response={200: PatientOut, 409: DuplicateOut},
              summary="Change contact details (front desk) or diagnosis (clinicians)")
def patient_patch(request, patient_id: Id, body: PatientPatch):
    patient = selectors.patient_get(user=request.auth, pk=patient_id)
    fields = body.dict(exclude_unset=True)
    allow = fields.pop("allow_duplicate", False)
    if not fields:
        raise ActionError("Send a JSON object with at least one field to change, e.g. {\"phone\": \"07700 900123\"}.",
                          code="empty_patch")
    try:
        return 200, services.patient_update(actor=request.auth, patient=patient, allow_duplicate=allow, **fields)
    except services.DuplicatePatient as exc:
        return 409, {"detail": exc.message, "code": exc.code, "existing_patient_id": exc.existing.pk,
                     "existing_patient_number": exc.existing.patient_number}


@router.get("/{int:patient_id}/consents", response=list[ConsentOut], summary="A patient's consents, newest first")
def consent_list(request, patient_id: Id):
    patient = selectors.patient_get(user=request.auth, pk=patient_id)
    return list(patient.consents.all())


@router.post("/{int:patient_id}/consents", response={201: ConsentOut}, summary="Record a consent")
def consent_create(request, patient_id: Id, body: ConsentIn):
    patient = selectors.patient_get(user=request.auth, pk=patient_id)
    return 201, services.consent_record(actor=request.auth, patient=patient, kind=body.kind,
                                        document_version=body.document_version)


@router.post("/{int:patient_id}/consents/{int:consent_id}/withdraw", response=ConsentOut, summary="Withdraw a consent")
def consent_withdraw(request, patient_id: Id, consent_id: Id, body: WithdrawIn):
    patient = selectors.patient_get(user=request.auth, pk=patient_id)
    consent = Consent.objects.filter(patient=patient, pk=consent_id).first()
    if consent is None:
        raise Http404
    return services.consent_withdraw(actor=request.auth, consent=consent, reason=body.reason)


@router.get("/{int:patient_id}/stagings", response=list[StagingOut], summary="Staging history, newest first")
def staging_list(request, patient_id: Id):
    patient = selectors.patient_get(user=request.auth, pk=patient_id)
    return list(StagingAssessment.objects.filter(patient=patient))


@router.post("/{int:patient_id}/stagings", response={201: StagingOut}, summary="Record a stage (clinicians)")
def staging_create(request, patient_id: Id, body: StagingIn):
    patient = selectors.patient_get(user=request.auth, pk=patient_id)
    return 201, services.staging_record(actor=request.auth, patient=patient, **body.dict())

