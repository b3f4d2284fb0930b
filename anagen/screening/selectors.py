"""Reads for screening, always through the user: role first (403), then clinic (404)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404

from anagen.accounts.models import Role
from anagen.core.permissions import CLINICAL_ROLES, PATIENT_RECORD_ROLES, check_role, has_role
from anagen.patients.models import Patient

from .models import Modality, RuleSet, Screening

# Who may see screening results: the roles that see the patient record.
RESULT_ROLES = PATIENT_RECORD_ROLES
# Who may read the rules: admins (who edit them) and clinicians (who apply them).
RULE_VIEW_ROLES = (Role.ADMIN, Role.CLINICIAN)


def can_run(user) -> bool:
    return has_role(user, *CLINICAL_ROLES)


def can_edit_rules(user) -> bool:
    return has_role(user, Role.ADMIN)


def patient_for_screening(*, user, pk, run: bool = False) -> Patient:
    """The patient, if the user may screen (``run``) or see screenings of them; 404 for other clinics."""
    check_role(user, *(CLINICAL_ROLES if run else RESULT_ROLES))
    try:
        return Patient.objects.select_related("clinic").get(pk=int(pk), clinic_id__in=list(user.clinic_ids))
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise Http404("No such patient in a clinic you work at.") from None


def screening_list(*, user, patient: Patient) -> QuerySet[Screening]:
    check_role(user, *RESULT_ROLES)
    if not user.can_see_clinic(patient.clinic_id):
        raise Http404("No such patient in a clinic you work at.")
    return patient.screenings.select_related("rule_set", "performed_by")


@dataclass(frozen=True)
class Run:
    """The screenings made together from one questionnaire."""

    run_id: str
    performed_at: datetime
    performed_by: object
    rule_version: int
    screenings: tuple[Screening, ...]


def _group(screenings) -> list[Run]:
    runs: dict[str, list[Screening]] = {}
    for s in screenings:
        runs.setdefault(str(s.run_id), []).append(s)
    order = {m: i for i, m in enumerate(Modality.values)}
    out = []
    for run_id, items in runs.items():
        items.sort(key=lambda s: order.get(s.modality, 99))
        first = items[0]
        out.append(Run(run_id, first.performed_at, first.performed_by, first.rule_set.version, tuple(items)))
    return out


def screening_runs(*, user, patient: Patient) -> list[Run]:
    """Past screenings of the patient, newest run first."""
    return _group(screening_list(user=user, patient=patient))


def screening_run_get(*, user, run_id) -> Run:
    check_role(user, *RESULT_ROLES)
    items = list(Screening.objects.select_related("rule_set", "performed_by", "patient")
                 .filter(run_id=run_id, patient__clinic_id__in=list(user.clinic_ids)))
    if not items:
        raise Http404("No such screening in a clinic you work at.")
    return _group(items)[0]


def latest_screenings(patient: Patient) -> dict[str, Screening]:
    """The most recent screening of ``patient`` for each modality screened."""
    latest: dict[str, Screening] = {}
    for s in patient.screenings.select_related("rule_set", "performed_by").order_by("-performed_at", "-id"):
        latest.setdefault(s.modality, s)
    return latest


def rule_set_active() -> RuleSet | None:
    return RuleSet.objects.filter(is_active=True).select_related("created_by").first()


def rule_set_list(*, user) -> QuerySet[RuleSet]:
    check_role(user, *RULE_VIEW_ROLES)
    return RuleSet.objects.select_related("created_by").order_by("-version")


def rule_set_get(*, user, version) -> RuleSet:
    try:
        return rule_set_list(user=user).get(version=int(version))
    except (RuleSet.DoesNotExist, ValueError, TypeError):
        raise Http404("No such rule version.") from None


def self_checks(patient) -> list[dict]:
    """The public self-checks the patient sent before becoming a patient (their converted
    requests), newest first, each with ``received`` added: for the clinician to read, never used
    as a screening's answers."""
    out = []
    for inquiry in patient.inquiries.exclude(self_check=None).order_by("-created_at"):
        out.append({**inquiry.self_check, "received": inquiry.created_at})
    return out
