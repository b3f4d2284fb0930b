"""Reads for patient records, always through the user: role first (403), then clinic (404)."""

from __future__ import annotations

from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone

from anagen.core.permissions import PATIENT_RECORD_ROLES, check_role

from . import rules
from .models import Consent, Patient, StagingAssessment


def can_see_patients(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_role(*PATIENT_RECORD_ROLES))


def patient_list(*, user) -> QuerySet[Patient]:
    """Patients of the user's clinics (PermissionDenied for roles that never see identities)."""
    check_role(user, *PATIENT_RECORD_ROLES)
    return Patient.objects.filter(clinic_id__in=list(user.clinic_ids))


def patient_get(*, user, pk) -> Patient:
    """One patient of the user's clinics; 404 for another clinic's patient or a missing one."""
    qs = patient_list(user=user)
    try:
        return qs.get(pk=int(pk))
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise Http404("No such patient in a clinic you work at.") from None


def patient_search(*, user, q: str) -> QuerySet[Patient]:
    """One search box: name parts, date of birth (YYYY-MM-DD or DD/MM/YYYY), phone in any
    spacing, or e-mail. Every filter is on an indexed column except the name words, which
    match the short folded ``search_text`` column within the user's clinics.
    """
    qs = patient_list(user=user)
    terms = rules.parse_search(q)
    if terms.empty:
        return qs
    if terms.email:
        if "." in terms.email.rsplit("@", 1)[-1]:
            return qs.filter(email=terms.email)  # a whole address: the (clinic, email) index
        return _text_match(qs, [rules.fold(terms.email)], user=user)
    if terms.phone_digits:
        if terms.phone:
            return qs.filter(phone=terms.phone)  # a whole number: the (clinic, phone) index
        return _text_match(qs, [terms.phone_digits], user=user)  # part of a number: the digits are in search_text
    if terms.date_of_birth:
        qs = qs.filter(date_of_birth=terms.date_of_birth)
    return _text_match(qs, terms.words, user=user) if terms.words else qs


def _text_match(qs: QuerySet[Patient], words, *, user) -> QuerySet[Patient]:
    """Patients of ``qs`` whose search_text holds every word (LIKE '%word%').

    The query is shaped for each database's planner (measured by benchmarks/web_latency.py on
    50,000 patients a clinic):
    - PostgreSQL: filtered directly, so its trigram index (migration 0005) finds the matches in
      2-10 ms; a subquery there misleads its estimate into a scan of the whole clinic.
    - SQLite: matched in a subquery that reads only the narrow (clinic, search_text) index
      (about 12 ms); filtered directly, SQLite walks another clinic index and reads every whole
      row (170-200 ms).
    """
    if connections[qs.db].vendor != "sqlite":
        for word in words:
            qs = qs.filter(search_text__contains=word)
        return qs
    matches = Patient.objects.filter(clinic_id__in=list(user.clinic_ids))
    for word in words:
        matches = matches.filter(search_text__contains=word)
    return qs.filter(pk__in=matches.values("pk"))


def search_order(qs: QuerySet[Patient]) -> QuerySet[Patient]:
    """Alphabetical, case-insensitive. Ordering by an expression (not the bare columns) also keeps
    SQLite's planner from walking the name index through every patient when an indexed filter
    (date of birth, phone, e-mail) would find the few matches directly."""
    return qs.order_by(Lower("last_name"), Lower("first_name"), "id")


def has_active_consent(patient: Patient, kind: str) -> bool:
    return Consent.objects.filter(patient=patient, kind=kind, withdrawn_at__isnull=True).exists()


def current_stagings(patient: Patient) -> dict[str, StagingAssessment]:
    """The latest assessment on each scale the patient has been staged on."""
    latest: dict[str, StagingAssessment] = {}
    for s in patient.stagings.select_related("assessed_by").order_by("-assessed_on", "-id"):
        latest.setdefault(s.scale, s)
    return latest


def current_staging(patient: Patient) -> StagingAssessment | None:
    return patient.stagings.order_by("-assessed_on", "-id").first()


def chart_alerts(patient: Patient, *, consents, medical) -> list[tuple[str, str]]:
    """What the chart's header warns about, as (level, text): allergies, contraindications from
    the medical history, and withdrawn consents with no active consent of the same kind."""
    alerts: list[tuple[str, str]] = []
    if medical is not None:
        if (medical.allergies or "").strip():
            alerts.append(("bad", f"Allergies: {medical.allergies.strip()}"))
        for flag in medical.FLAGS:
            if getattr(medical, flag):
                alerts.append(("bad", flag.replace("_", " ").capitalize()))
    active = {c.kind for c in consents if c.withdrawn_at is None}
    for kind in sorted({c.kind for c in consents if c.withdrawn_at is not None} - active):
        label = next(c.get_kind_display() for c in consents if c.kind == kind)
        alerts.append(("warn", f"{label} consent withdrawn"))
    return alerts
