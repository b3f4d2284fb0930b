"""Writes for inquiries: the public submission (spam-safe), and the inbox actions: answer,
close, and convert into a patient with a booked consultation in one transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import date, datetime

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from anagen.accounts.models import Clinic, Room, User
from anagen.core.errors import ActionError, NotFound
from anagen.core.permissions import FRONT_DESK_ROLES, check_role
from anagen.patients.models import ConsentKind, Patient
from anagen.patients.selectors import has_active_consent
from anagen.patients.services import consent_record, patient_register
from anagen.scheduling.models import Appointment, AppointmentKind

from . import rules
from .models import Inquiry, InquiryKind, InquiryStatus

log = logging.getLogger(__name__)

# The consent to contact ticked on the public form, recorded on the patient at conversion.
WEB_CONTACT_CONSENT_VERSION = "web inquiry form"


class InquiryInvalid(ActionError):
    """A submission with problems; ``errors`` maps each field to what to do."""

    def __init__(self, errors: dict[str, str]):
        first = next(iter(errors))
        super().__init__(" ".join(errors.values()), field=first, code="invalid")
        self.errors = errors


class RateLimited(ActionError):
    status = 429
    code = "rate_limited"


# --- spam protection --------------------------------------------------------------------------


def client_hash(address: str) -> str:
    """A keyed hash of the client address: it rate-limits without storing the address."""
    return hmac.new(settings.SECRET_KEY.encode(), (address or "unknown").encode(), hashlib.sha256).hexdigest()


def _rate_key(client: str) -> str:
    return f"intake:rate:{client}:{int(time.time() // 3600)}"


def _check_rate(client: str) -> None:
    limit = settings.INTAKE_RATE_LIMIT_PER_HOUR
    if (cache.get(_rate_key(client)) or 0) >= limit:
        raise RateLimited(f"We have received {limit} requests from your connection in the last hour. Please try "
                          "again in an hour, or call the clinic; your earlier requests have reached us.")


def _count(client: str) -> None:
    key = _rate_key(client)
    cache.add(key, 0, 3600)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, 3600)


@transaction.atomic
def inquiry_submit(*, kind: str, name: str, email: str = "", phone: str = "", concern: str = "",
                   preferred_clinic: Clinic | None = None, prefers_video: bool = False, preferred_times: str = "",
                   consent_to_contact: bool = False, client: str = "", honeypot: str = "",
                   self_check: dict | None = None) -> Inquiry | None:
    """Store a question or consultation request from the public form or API.

    ``client`` is :func:`client_hash` of the sender's address (rate limit: ``RateLimited``).
    A filled ``honeypot`` is a bot: nothing is stored and None is returned, so the caller shows
    the normal thank-you. Problems raise ``InquiryInvalid`` with a message per field.
    ``self_check`` is :func:`self_check_record` of the public self-check the request came from.
    """
    _check_rate(client)
    if honeypot and honeypot.strip():
        _count(client)
        log.info("intake: honeypot filled, submission dropped (client %s)", client[:12])
        return None
    if preferred_clinic is not None and not preferred_clinic.is_active:
        preferred_clinic = None
    clean, problems = rules.clean_submission(
        kind=kind, name=name, email=email, phone=phone, concern=concern, preferred_times=preferred_times,
        consent_to_contact=bool(consent_to_contact), has_clinic=preferred_clinic is not None,
        prefers_video=bool(prefers_video))
    if problems:
        raise InquiryInvalid(problems)
    _count(client)
    inquiry = Inquiry.objects.create(kind=kind, preferred_clinic=preferred_clinic, prefers_video=bool(prefers_video),
                                     consent_to_contact=True, client_hash=client, self_check=self_check,
                                     **clean)
    queue_acknowledgement(inquiry)
    return inquiry


def acknowledgement_text(inquiry: Inquiry) -> tuple[str, str]:
    """Subject and body of the e-mail that tells the sender their inquiry arrived.

    Plain words and nothing from the inquiry beyond the sender's name: no concern, no clinical detail.
    """
    clinic = inquiry.preferred_clinic
    what = "question" if inquiry.kind == InquiryKind.QUESTION else "request for a free consultation"
    lines = [f"Dear {inquiry.name},", "",
             f"Thank you for your {what}. It has reached us, and a coordinator will reply "
             "by e-mail or phone, usually within one working day.", ""]
    if clinic is not None and clinic.phone:
        lines.append(f"If you would rather talk to us, call Anagen {clinic.name} on {clinic.phone}.")
    lines += ["You do not need to reply to this e-mail.", "", f"Anagen {clinic.name}" if clinic else "Anagen"]
    return f"We have received your {what}", "\n".join(lines)


def queue_acknowledgement(inquiry: Inquiry) -> None:
    """Queue the acknowledgement through the patient e-mail outbox; it goes out once the inquiry
    is stored (or with ``anagen send_due_emails`` if the mail server is down then)."""
    from anagen.scheduling.models import EmailKind
    from anagen.scheduling.notifications import queue_message

    subject, body = acknowledgement_text(inquiry)
    queue_message(kind=EmailKind.ACKNOWLEDGEMENT, to=inquiry.email, subject=subject, body=body)


def self_check_record(answers: dict) -> dict:
    """The public self-check, run on the active screening rules, as stored with the request.

    ``answers`` maps question ids to choice values (:mod:`anagen.screening.selfcheck`); a bad one
    raises ``InquiryInvalid`` naming the question.
    """
    from anagen.screening import selfcheck
    from anagen.screening.rules import MODALITIES, evaluate_all, seed_rules
    from anagen.screening.selectors import rule_set_active

    try:
        clean = selfcheck.clean(answers)
    except selfcheck.AnswerError as exc:
        raise InquiryInvalid({exc.field: exc.message}) from None
    active = rule_set_active()
    rules = active.rules if active else seed_rules()
    facts = selfcheck.facts_of(clean)
    return {
        "rule_set_version": active.version if active else None,
        "answers": clean,
        "lines": [list(pair) for pair in selfcheck.summary_lines(clean)],
        "facts": facts,
        "outcome": selfcheck.run(rules, clean).to_dict(),
        "decisions": {m: {"label": MODALITIES[m], **d.to_dict()} for m, d in evaluate_all(rules, facts).items()},
    }


# --- inbox ------------------------------------------------------------------------------------


def _lock(actor, inquiry: Inquiry) -> Inquiry:
    check_role(actor, *FRONT_DESK_ROLES)
    inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if inquiry.preferred_clinic_id is not None and not actor.can_see_clinic(inquiry.preferred_clinic_id):
        raise NotFound("No such inquiry in your inbox.")
    return inquiry


def _require_open(inquiry: Inquiry, verb: str) -> None:
    if not inquiry.is_open:
        raise ActionError(f"This inquiry is already {inquiry.get_status_display().lower()}; it cannot be {verb}.",
                          code="not_open")


@transaction.atomic
def inquiry_answer(*, actor, inquiry: Inquiry, answer: str) -> Inquiry:
    """Record the answer and e-mail it when the inquirer gave an e-mail address."""
    inquiry = _lock(actor, inquiry)
    _require_open(inquiry, "answered")
    answer = (answer or "").strip()
    if not answer:
        raise ActionError("Write the answer before sending it.", field="answer")
    if len(answer) > 10000:
        raise ActionError("The answer is longer than 10,000 characters; shorten it.", field="answer")
    inquiry.answer = answer
    inquiry.answered_by = actor
    inquiry.answered_at = timezone.now()
    inquiry.status = InquiryStatus.ANSWERED
    inquiry.answer_emailed = False
    if inquiry.email:
        try:
            send_mail(subject="Your question to Anagen" if inquiry.kind == InquiryKind.QUESTION
                      else "Your consultation request to Anagen",
                      message=f"Dear {inquiry.name},\n\n{answer}\n\nWith best wishes,\n{actor.get_full_name() or 'The Anagen team'}",
                      from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[inquiry.email])
            inquiry.answer_emailed = True
        except Exception:
            # The answer is kept; the coordinator sees it was not e-mailed and can phone instead.
            log.exception("intake: could not e-mail the answer to inquiry %s", inquiry.pk)
    inquiry.save()
    return inquiry


@transaction.atomic
def inquiry_close(*, actor, inquiry: Inquiry, reason: str = "") -> Inquiry:
    inquiry = _lock(actor, inquiry)
    _require_open(inquiry, "closed")
    inquiry.status = InquiryStatus.CLOSED
    inquiry.closed_by = actor
    inquiry.closed_at = timezone.now()
    inquiry.close_reason = (reason or "").strip()[:200]
    inquiry.save()
    return inquiry


@transaction.atomic
def inquiry_convert(*, actor, inquiry: Inquiry, clinic: Clinic, clinician: User, starts_at: datetime,
                    video: bool = False, first_name: str = "", last_name: str = "",
                    date_of_birth: date | None = None, existing_patient: Patient | None = None,
                    allow_duplicate: bool = False, room: Room | None = None) -> tuple[Patient, Appointment]:
    """Register the inquirer (or use ``existing_patient``) and book a free consultation, in one
    transaction: when the booking fails (a double booking, say), nothing is written.

    ``room`` is needed in person when the clinician's hours name no room; video takes none.

    ``starts_at`` without a timezone is read in the clinic's timezone.
    """
    from anagen.scheduling.services import appointment_book  # the scheduling app imports patients

    inquiry = _lock(actor, inquiry)
    _require_open(inquiry, "converted")
    if existing_patient is not None and allow_duplicate:
        raise ActionError("Choose one: book for the existing patient record, or register a different person "
                          "anyway; not both.", field="duplicate_choice", code="contradictory")
    if existing_patient is not None:
        if not actor.can_see_clinic(existing_patient.clinic_id):
            raise NotFound("No such patient in a clinic you work at.")
        patient = existing_patient
    else:
        patient = patient_register(actor=actor, clinic=clinic, first_name=first_name, last_name=last_name,
                                   date_of_birth=date_of_birth, email=inquiry.email, phone=inquiry.phone,
                                   allow_duplicate=allow_duplicate)
    if inquiry.consent_to_contact and not has_active_consent(patient, ConsentKind.CONTACT):
        consent_record(actor=actor, patient=patient, kind=ConsentKind.CONTACT,
                       document_version=WEB_CONTACT_CONSENT_VERSION, given_at=inquiry.created_at)
    kind = AppointmentKind.VIDEO_CONSULTATION if video else AppointmentKind.FREE_CONSULTATION
    notes = f"From inquiry #{inquiry.pk}: {inquiry.concern[:300]}"
    if inquiry.preferred_times:
        notes += f"\nPreferred times: {inquiry.preferred_times[:200]}"
    appointment = appointment_book(actor=actor, patient=patient, clinician=clinician, clinic=clinic, kind=kind,
                                   starts_at=starts_at, notes=notes, room=None if video else room)
    inquiry.status = InquiryStatus.CONVERTED
    inquiry.converted_patient = patient
    inquiry.converted_appointment = appointment
    inquiry.converted_by = actor
    inquiry.converted_at = timezone.now()
    inquiry.save()
    return patient, appointment
