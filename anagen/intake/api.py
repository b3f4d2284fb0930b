"""API routes for inquiries, mounted at /api/v1/inquiries.

``POST /api/v1/inquiries`` is public (no token), with the same spam rules as the pages: a
filled ``website`` honeypot is answered 202 like a real one and nothing is stored; too many
submissions from one address in an hour get 429. The inbox routes are for coordinators and
admins, through the same services.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from django.http import Http404
from ninja import Router, Schema
from pydantic import Field

from anagen.api.params import Id, Limit, Offset
from anagen.accounts.models import Clinic, Room, User
from anagen.core.permissions import FRONT_DESK_ROLES, check_role
from anagen.patients.models import Patient
from anagen.patients.services import DuplicatePatient

from . import selectors, services
from .views import client_hash_of

router = Router(tags=["inquiries"])


class ContactFields(Schema):
    """The public forms' contact fields (an inquiry, the self-check's consultation request)."""

    name: str = ""
    email: str = ""
    phone: str = ""
    concern: str = ""
    preferred_clinic_id: int | None = None
    prefers_video: bool = False
    preferred_times: str = ""
    consent_to_contact: bool = False
    website: str = ""  # honeypot: leave empty


class InquiryIn(ContactFields):
    kind: str


class Received(Schema):
    detail: str


class FieldErrors(Schema):
    detail: str
    code: str
    errors: dict[str, str]


class InquiryOut(Schema):
    id: int
    kind: str
    name: str
    email: str
    phone: str
    concern: str
    preferred_clinic_id: int | None
    prefers_video: bool
    preferred_times: str
    consent_to_contact: bool
    status: str
    answer: str
    answered_by_id: int | None
    answered_at: datetime | None
    answer_emailed: bool
    closed_at: datetime | None
    converted_patient_id: int | None
    converted_appointment_id: int | None
    created_at: datetime
    # The public self-check's answers and what the screening rules found (None for other requests).
    self_check: dict | None = None


class AnswerIn(Schema):
    answer: str


class CloseIn(Schema):
    reason: str = ""


class ConvertIn(Schema):
    clinic_id: int
    clinician_id: int
    starts_at: datetime
    video: bool = False
    first_name: str = ""
    last_name: str = ""
    date_of_birth: date | None = None
    existing_patient_id: int | None = None
    allow_duplicate: bool = False
    room_id: int | None = None


class ConvertOut(Schema):
    inquiry_id: int
    patient_id: int
    patient_number: str
    appointment_id: int
    starts_at: datetime


class DuplicateOut(Schema):
    detail: str
    code: str
    existing_patient_id: int
    existing_patient_number: str


THANKS = "Thank you: we have your request and will reply, usually within one working day."


@router.post("", auth=None, response={202: Received, 400: FieldErrors, 429: Received},
             summary="Submit a question or a consultation request (public, no token)")
def inquiry_create(request, body: InquiryIn):
    clinic = None
    if body.preferred_clinic_id is not None:
        clinic = Clinic.objects.filter(pk=body.preferred_clinic_id, is_active=True).first()
        if clinic is None:
            return 400, {"detail": "Choose one of our clinics, or a video consultation.", "code": "invalid",
                         "errors": {"preferred_clinic_id": "No open clinic has this id; see the consultation page."}}
    try:
        services.inquiry_submit(kind=body.kind, name=body.name, email=body.email, phone=body.phone,
                                concern=body.concern, preferred_clinic=clinic, prefers_video=body.prefers_video,
                                preferred_times=body.preferred_times, consent_to_contact=body.consent_to_contact,
                                client=client_hash_of(request), honeypot=body.website)
    except services.RateLimited as exc:
        return 429, {"detail": exc.message}
    except services.InquiryInvalid as exc:
        errors = {("preferred_clinic_id" if k == "preferred_clinic" else k): v for k, v in exc.errors.items()}
        return 400, {"detail": "Some fields need attention.", "code": "invalid", "errors": errors}
    return 202, {"detail": THANKS}


# --- the public self-check ------------------------------------------------------------------------

QuestionId = Annotated[str, Field(max_length=40)]
AnswerValue = Annotated[str, Field(max_length=40)]


class SelfCheckChoiceOut(Schema):
    value: str
    label: str


class SelfCheckQuestionOut(Schema):
    id: str
    text: str
    help: str
    choices: list[SelfCheckChoiceOut]


class SelfCheckContactIn(ContactFields):
    """The consultation request sent with the answers: the consultation form's fields."""


class SelfCheckIn(Schema):
    answers: dict[QuestionId, AnswerValue] = Field(..., max_length=60)  # required: an empty body is a mistake
    request: SelfCheckContactIn | None = None


class SelfCheckOut(Schema):
    fits: list[str]
    talk_about: list[str]
    ask_about: list[str]
    all_ruled_out: bool
    answers: list[list[str]]  # (question, answer) in plain words
    rule_set_version: int | None
    requested: bool  # True once a consultation request was received
    detail: str


@router.get("/self-check/questions", auth=None, response=list[SelfCheckQuestionOut],
            summary="The self-check's questions and their answers (public, no token)")
def self_check_questions(request):
    from anagen.screening.selfcheck import QUESTIONS

    return [{"id": q.id, "text": q.text, "help": q.help,
             "choices": [{"value": c.value, "label": c.label} for c in q.choices]} for q in QUESTIONS]


@router.post("/self-check", auth=None, response={200: SelfCheckOut, 202: SelfCheckOut, 400: FieldErrors, 429: Received},
             summary="Take the self-check (public, no token); with `request`, also ask for a consultation")
def self_check(request, body: SelfCheckIn):
    """The same questions and screening rules as the /self-check/ page. Without ``request`` nothing
    is stored and the answer is 200; with it the consultation request goes through the public
    form's checks, honeypot and rate limit (202, or 429), carrying the answers and findings."""
    from .views import SELF_CHECK_CONCERN

    try:
        record = services.self_check_record(dict(body.answers))
    except services.InquiryInvalid as exc:
        return 400, {"detail": "Some answers need attention.", "code": "invalid",
                     "errors": {f"answers.{k}": v for k, v in exc.errors.items()}}
    out = {**record["outcome"], "answers": record["lines"], "rule_set_version": record["rule_set_version"],
           "requested": False,
           "detail": "This is not a diagnosis: a clinician looks at your answers with you at a free consultation."}
    if body.request is None:
        return 200, out
    contact = body.request
    clinic = None
    if contact.preferred_clinic_id is not None:
        clinic = Clinic.objects.filter(pk=contact.preferred_clinic_id, is_active=True).first()
        if clinic is None:
            return 400, {"detail": "Choose one of our clinics, or a video consultation.", "code": "invalid",
                         "errors": {"request.preferred_clinic_id": "No open clinic has this id; see the consultation page."}}
    try:
        services.inquiry_submit(kind="consultation", name=contact.name, email=contact.email, phone=contact.phone,
                                concern=contact.concern or SELF_CHECK_CONCERN, preferred_clinic=clinic,
                                prefers_video=contact.prefers_video, preferred_times=contact.preferred_times,
                                consent_to_contact=contact.consent_to_contact, client=client_hash_of(request),
                                honeypot=contact.website, self_check=record)
    except services.RateLimited as exc:
        return 429, {"detail": exc.message}
    except services.InquiryInvalid as exc:
        errors = {"request." + ("preferred_clinic_id" if k == "preferred_clinic" else k): v for k, v in exc.errors.items()}
        return 400, {"detail": "Some fields need attention.", "code": "invalid", "errors": errors}
    return 202, {**out, "requested": True, "detail": THANKS}


@router.get("", response=list[InquiryOut], summary="Your inbox: inquiries for your clinics and those with none")
def inquiry_list(request, status: str = "open", limit: Limit = 100, offset: Offset = 0):
    limit = max(1, min(limit, 500))
    offset = max(offset, 0)
    return list(selectors.inbox(user=request.auth, status=status)[offset:offset + limit])


@router.get("/{int:inquiry_id}", response=InquiryOut, summary="One inquiry")
def inquiry_detail(request, inquiry_id: Id):
    return selectors.inquiry_get(user=request.auth, pk=inquiry_id)


@router.post("/{int:inquiry_id}/answer", response=InquiryOut, summary="Answer (e-mailed when an e-mail is known)")
def inquiry_answer(request, inquiry_id: Id, body: AnswerIn):
    inquiry = selectors.inquiry_get(user=request.auth, pk=inquiry_id)
    return services.inquiry_answer(actor=request.auth, inquiry=inquiry, answer=body.answer)


@router.post("/{int:inquiry_id}/close", response=InquiryOut, summary="Close without converting")
def inquiry_close(request, inquiry_id: Id, body: CloseIn):
    inquiry = selectors.inquiry_get(user=request.auth, pk=inquiry_id)
    return services.inquiry_close(actor=request.auth, inquiry=inquiry, reason=body.reason)


@router.post("/{int:inquiry_id}/convert", response={201: ConvertOut, 409: DuplicateOut},
             summary="Register the inquirer and book the free consultation, in one step")
def inquiry_convert(request, inquiry_id: Id, body: ConvertIn):
    check_role(request.auth, *FRONT_DESK_ROLES)
    inquiry = selectors.inquiry_get(user=request.auth, pk=inquiry_id)
    mine = list(request.auth.clinic_ids)
    clinic = Clinic.objects.filter(pk=body.clinic_id, id__in=mine).first()
    clinician = User.objects.filter(pk=body.clinician_id, clinics__in=mine).distinct().first()
    if clinic is None or clinician is None:
        raise Http404
    room = None
    if body.room_id is not None:
        room = Room.objects.filter(pk=body.room_id, clinic_id__in=mine).first()
        if room is None:
            raise Http404
    existing = None
    if body.existing_patient_id is not None:
        existing = Patient.objects.filter(pk=body.existing_patient_id, clinic_id__in=mine).first()
        if existing is None:
            raise Http404
    try:
        patient, appointment = services.inquiry_convert(
            actor=request.auth, inquiry=inquiry, clinic=clinic, clinician=clinician, starts_at=body.starts_at,
            video=body.video, first_name=body.first_name, last_name=body.last_name,
            date_of_birth=body.date_of_birth, existing_patient=existing, allow_duplicate=body.allow_duplicate,
            room=room)
    except DuplicatePatient as exc:
        return 409, {"detail": exc.message, "code": exc.code, "existing_patient_id": exc.existing.pk,
                     "existing_patient_number": exc.existing.patient_number}
    return 201, {"inquiry_id": inquiry.pk, "patient_id": patient.pk, "patient_number": patient.patient_number,
                 "appointment_id": appointment.pk, "starts_at": appointment.starts_at}
