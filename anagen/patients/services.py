"""Writes for patient records: registration, contact details, consents, diagnosis, staging and
histories. Pages, the API, the intake inbox and the admin all come through here.

Who may write what:
- coordinators and admins register patients and edit contact details;
- coordinators, admins and clinicians record and withdraw consents;
- clinicians (only) record diagnosis, staging and medical history;
- coordinators and clinicians record the patient-reported hair-loss history and prior treatments.
Every write also checks that the patient belongs to one of the actor's clinics.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from anagen.accounts.models import Clinic, Role
from anagen.core.errors import ActionError, Conflict, NotFound
from anagen.core.permissions import CLINICAL_ROLES, FRONT_DESK_ROLES, check_clinic, check_role

from . import rules
from .models import (
    Consent,
    ConsentKind,
    Diagnosis,
    HairLossHistory,
    MedicalHistory,
    Patient,
    PatientNumberSequence,
    PriorTreatment,
    PriorTreatmentKind,
    Sex,
    StagingAssessment,
    TreatmentResponse,
)

CONSENT_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN)
HISTORY_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN)
CONTACT_FIELDS = ("first_name", "last_name", "date_of_birth", "sex", "email", "phone", "address", "notes")
CLINICAL_FIELDS = ("diagnosis", "diagnosis_detail")

NAME_MAX = 80
NOTES_MAX = 5000


class DuplicatePatient(Conflict):
    """Registration refused because the person looks already registered; ``existing`` is that record."""

    code = "duplicate"

    def __init__(self, message: str, *, existing: Patient, field: str | None = None):
        super().__init__(message, field=field)
        self.existing = existing


# --- validation helpers ---------------------------------------------------------------------


def _name(value: str, field: str, label: str) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise ActionError(f"Enter the patient's {label}.", field=field)
    if len(value) > NAME_MAX:
        raise ActionError(f"The {label} is {len(value)} characters long; the limit is {NAME_MAX}.", field=field)
    return value


def _email(value: str) -> str:
    value = (value or "").strip().lower()
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise ActionError(f"'{value}' is not an e-mail address; check it (e.g. name@example.com).",
                              field="email") from None
    return value


def _phone(value: str) -> str:
    try:
        return rules.normalize_phone(value or "")
    except rules.PhoneError as exc:
        raise ActionError(str(exc), field="phone") from None


def _dob(value: date | None) -> date | None:
    if value is not None and not isinstance(value, date):
        raise ActionError("Enter the date of birth as YYYY-MM-DD.", field="date_of_birth")
    problem = rules.date_of_birth_problem(value, today=timezone.localdate())
    if problem:
        raise ActionError(problem, field="date_of_birth")
    return value


def _choice(value: str, choices, field: str, label: str) -> str:
    if value not in choices.values:
        raise ActionError(f"'{value}' is not a {label}; choose one of: {', '.join(v for v in choices.values if v)}.",
                          field=field)
    return value


def _text(value: str, field: str, label: str, limit: int = NOTES_MAX) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ActionError(f"The {label} is {len(value):,} characters long; the limit is {limit:,}.", field=field)
    return value


def _not_future(value: date | None, field: str, label: str) -> None:
    if value and value > timezone.localdate():
        raise ActionError(f"The {label} {value:%d/%m/%Y} is in the future.", field=field)


def _check_patient(actor, patient: Patient, *roles: str) -> None:
    check_role(actor, *roles)
    if not actor.can_see_clinic(patient.clinic_id):
        # The same answer as for a record that does not exist: nothing about other clinics leaks.
        raise NotFound("No such patient in a clinic you work at.")


def _refresh_search_text(patient: Patient) -> None:
    patient.search_text = rules.search_text(first_name=patient.first_name, last_name=patient.last_name,
                                            email=patient.email, patient_number=patient.patient_number,
                                            phone=patient.phone)


def _next_patient_number() -> str:
    seq, _ = PatientNumberSequence.objects.select_for_update().get_or_create(pk=1)
    seq.last_value += 1
    seq.save(update_fields=["last_value"])
    return rules.patient_number(seq.last_value)


def find_duplicate(*, clinic_id: int, first_name: str, last_name: str, date_of_birth: date | None,
                   email: str, phone: str, exclude_pk: int | None = None) -> tuple[Patient, str] | None:
    """An existing patient at the clinic with the same name and date of birth, e-mail or phone."""
    qs = Patient.objects.filter(clinic_id=clinic_id)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if date_of_birth:
        same = qs.filter(first_name__iexact=first_name, last_name__iexact=last_name, date_of_birth=date_of_birth).first()
        if same:
            return same, "the same name and date of birth"
    if email:
        same = qs.filter(email=email).first()
        if same:
            return same, f"the e-mail {email}"
    if phone:
        same = qs.filter(phone=phone).first()
        if same:
            return same, f"the phone number {phone}"
    return None


def _raise_duplicate(found: tuple[Patient, str]) -> None:
    existing, why = found
    born = f", born {existing.date_of_birth:%d/%m/%Y}" if existing.date_of_birth else ""
    raise DuplicatePatient(
        f"A patient with {why} is already registered: {existing.full_name} ({existing.patient_number}{born}). "
        "Open that record, or choose \"register anyway\" if this is a different person.",
        existing=existing,
    )


# --- patients -------------------------------------------------------------------------------


@transaction.atomic
def patient_register(*, actor, clinic: Clinic, first_name: str, last_name: str, date_of_birth: date | None = None,
                     sex: str = Sex.UNKNOWN, email: str = "", phone: str = "", address: str = "",
                     diagnosis: str = "", allow_duplicate: bool = False, **extra) -> Patient:
    """Register a patient at ``clinic`` with a new patient number.

    Refuses (``DuplicatePatient``, code "duplicate") a person already registered at the clinic
    with the same name and date of birth, e-mail or phone, unless ``allow_duplicate``.
    """
    check_role(actor, *FRONT_DESK_ROLES)
    check_clinic(actor, clinic.pk)
    unknown = set(extra) - {"notes", "diagnosis_detail"}
    if unknown:
        raise ActionError(f"Unknown patient fields: {', '.join(sorted(unknown))}.")
    if diagnosis or extra.get("diagnosis_detail"):
        check_role(actor, *CLINICAL_ROLES)
    patient = Patient(
        clinic=clinic,
        first_name=_name(first_name, "first_name", "first name"),
        last_name=_name(last_name, "last_name", "last name"),
        date_of_birth=_dob(date_of_birth),
        sex=_choice(sex or Sex.UNKNOWN, Sex, "sex", "sex"),
        email=_email(email),
        phone=_phone(phone),
        address=_text(address, "address", "address", 1000),
        diagnosis=_choice(diagnosis or "", Diagnosis, "diagnosis", "diagnosis"),
        diagnosis_detail=_text(extra.get("diagnosis_detail", ""), "diagnosis_detail", "diagnosis detail", 200),
        notes=_text(extra.get("notes", ""), "notes", "notes"),
        created_by=actor,
    )
    if not allow_duplicate:
        found = find_duplicate(clinic_id=clinic.pk, first_name=patient.first_name, last_name=patient.last_name,
                               date_of_birth=patient.date_of_birth, email=patient.email, phone=patient.phone)
        if found:
            _raise_duplicate(found)
    patient.patient_number = _next_patient_number()
    _refresh_search_text(patient)
    patient.save()
    return patient


@transaction.atomic
def patient_update(*, actor, patient: Patient, allow_duplicate: bool = False, **fields) -> Patient:
    """Change contact details (front desk) or diagnosis (clinicians); only the fields given."""
    unknown = set(fields) - set(CONTACT_FIELDS) - set(CLINICAL_FIELDS)
    if unknown:
        raise ActionError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    if not fields:
        return patient
    if set(fields) & set(CONTACT_FIELDS):
        _check_patient(actor, patient, *FRONT_DESK_ROLES)
    if set(fields) & set(CLINICAL_FIELDS):
        _check_patient(actor, patient, *CLINICAL_ROLES)
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    clean = {
        "first_name": lambda v: _name(v, "first_name", "first name"),
        "last_name": lambda v: _name(v, "last_name", "last name"),
        "date_of_birth": _dob,
        "sex": lambda v: _choice(v or Sex.UNKNOWN, Sex, "sex", "sex"),
        "email": _email,
        "phone": _phone,
        "address": lambda v: _text(v, "address", "address", 1000),
        "notes": lambda v: _text(v, "notes", "notes"),
        "diagnosis": lambda v: _choice(v or "", Diagnosis, "diagnosis", "diagnosis"),
        "diagnosis_detail": lambda v: _text(v, "diagnosis_detail", "diagnosis detail", 200),
    }
    changed = []
    for name, value in fields.items():
        value = clean[name](value)
        if getattr(patient, name) != value:
            setattr(patient, name, value)
            changed.append(name)
    if not changed:
        return patient
    if not allow_duplicate and set(changed) & {"first_name", "last_name", "date_of_birth", "email", "phone"}:
        found = find_duplicate(clinic_id=patient.clinic_id, first_name=patient.first_name,
                               last_name=patient.last_name, date_of_birth=patient.date_of_birth,
                               email=patient.email if "email" in changed else "",
                               phone=patient.phone if "phone" in changed else "", exclude_pk=patient.pk)
        if found:
            _raise_duplicate(found)
    _refresh_search_text(patient)
    patient.save(update_fields=[*changed, "search_text", "updated_at"])
    return patient


# --- consents -------------------------------------------------------------------------------


@transaction.atomic
def consent_record(*, actor, patient: Patient, kind: str, document_version: str, given_at=None) -> Consent:
    """Record that the patient signed version ``document_version`` of the ``kind`` consent."""
    _check_patient(actor, patient, *CONSENT_ROLES)
    _choice(kind, ConsentKind, "kind", "consent kind")
    version = " ".join((document_version or "").split())
    if not version:
        raise ActionError("Enter the version of the consent form the patient signed (e.g. v3 2025-01).",
                          field="document_version")
    if len(version) > 40:
        raise ActionError("The document version is longer than 40 characters.", field="document_version")
    given_at = given_at or timezone.now()
    if given_at > timezone.now() + timezone.timedelta(minutes=5):
        raise ActionError("A consent cannot be given in the future.", field="given_at")
    if Consent.objects.filter(patient=patient, kind=kind, document_version=version, withdrawn_at__isnull=True).exists():
        raise ActionError(f"The {kind} consent, version {version}, is already recorded and active.",
                          field="document_version", code="duplicate")
    return Consent.objects.create(patient=patient, kind=kind, document_version=version, given_at=given_at,
                                  recorded_by=actor)


@transaction.atomic
def consent_withdraw(*, actor, consent: Consent, reason: str) -> Consent:
    consent = Consent.objects.select_for_update().select_related("patient").get(pk=consent.pk)
    _check_patient(actor, consent.patient, *CONSENT_ROLES)
    reason = _text(reason, "reason", "reason", 2000)
    if not reason:
        raise ActionError("Say why the consent is withdrawn (e.g. \"patient asked by phone\").", field="reason")
    if consent.withdrawn_at:
        raise ActionError(f"This consent was already withdrawn on {timezone.localtime(consent.withdrawn_at):%d/%m/%Y}.",
                          code="already_withdrawn")
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = actor
    consent.withdrawal_reason = reason
    consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    return consent


# --- clinical -------------------------------------------------------------------------------


@transaction.atomic
def staging_record(*, actor, patient: Patient, scale: str, stage: str, assessed_on: date,
                   notes: str = "") -> StagingAssessment:
    _check_patient(actor, patient, *CLINICAL_ROLES)
    problem = rules.staging_problem(scale, stage)
    if problem:
        raise ActionError(problem, field="stage" if scale in rules.STAGES else "scale")
    if not isinstance(assessed_on, date):
        raise ActionError("Enter the assessment date as YYYY-MM-DD.", field="assessed_on")
    _not_future(assessed_on, "assessed_on", "assessment date")
    if patient.date_of_birth and assessed_on < patient.date_of_birth:
        raise ActionError("The assessment date is before the patient's date of birth.", field="assessed_on")
    return StagingAssessment.objects.create(patient=patient, scale=scale, stage=stage, assessed_on=assessed_on,
                                            assessed_by=actor, notes=_text(notes, "notes", "notes"))


@transaction.atomic
def medical_history_update(*, actor, patient: Patient, **fields) -> MedicalHistory:
    """Set the screening-relevant medical history (clinicians only); only the fields given."""
    _check_patient(actor, patient, *CLINICAL_ROLES)
    allowed = set(MedicalHistory.FLAGS) | {"medications", "allergies", "notes"}
    unknown = set(fields) - allowed
    if unknown:
        raise ActionError(f"Unknown medical history fields: {', '.join(sorted(unknown))}.")
    history, _ = MedicalHistory.objects.select_for_update().get_or_create(patient=patient)
    for name, value in fields.items():
        if name in MedicalHistory.FLAGS:
            if not isinstance(value, bool):
                raise ActionError(f"Answer '{name}' with yes or no.", field=name)
        else:
            value = _text(value, name, name)
        setattr(history, name, value)
    history.updated_by = actor
    history.save()
    return history


@transaction.atomic
def hair_loss_history_update(*, actor, patient: Patient, onset_year: int | None = None, progression: str = "",
                             family_history: bool | None = None, pattern_notes: str = "") -> HairLossHistory:
    _check_patient(actor, patient, *HISTORY_ROLES)
    this_year = timezone.localdate().year
    if onset_year is not None:
        if onset_year > this_year:
            raise ActionError(f"The onset year {onset_year} is in the future.", field="onset_year")
        earliest = patient.date_of_birth.year if patient.date_of_birth else this_year - 120
        if onset_year < earliest:
            raise ActionError(f"The onset year {onset_year} is before the patient was born.", field="onset_year")
    history, _ = HairLossHistory.objects.select_for_update().get_or_create(patient=patient)
    history.onset_year = onset_year
    history.progression = _text(progression, "progression", "progression")
    history.family_history = family_history
    history.pattern_notes = _text(pattern_notes, "pattern_notes", "pattern notes")
    history.save()
    return history


@transaction.atomic
def prior_treatment_add(*, actor, patient: Patient, treatment: str, started_on: date | None = None,
                        stopped_on: date | None = None, response: str = TreatmentResponse.UNKNOWN,
                        notes: str = "") -> PriorTreatment:
    _check_patient(actor, patient, *HISTORY_ROLES)
    _choice(treatment, PriorTreatmentKind, "treatment", "prior treatment")
    _choice(response or TreatmentResponse.UNKNOWN, TreatmentResponse, "response", "response")
    _not_future(started_on, "started_on", "start date")
    _not_future(stopped_on, "stopped_on", "stop date")
    problem = rules.date_range_problem(started_on, stopped_on)
    if problem:
        raise ActionError(problem, field="stopped_on")
    return PriorTreatment.objects.create(patient=patient, treatment=treatment, started_on=started_on,
                                         stopped_on=stopped_on, response=response or TreatmentResponse.UNKNOWN,
                                         notes=_text(notes, "notes", "notes"))


@transaction.atomic
def prior_treatment_remove(*, actor, prior_treatment: PriorTreatment) -> None:
    """Remove a prior treatment entered by mistake (the audit trail keeps what it said)."""
    _check_patient(actor, prior_treatment.patient, *HISTORY_ROLES)
    prior_treatment.delete()
