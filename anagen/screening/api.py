"""Screening API: run a screening, list a patient's screenings, read and publish the rules.

Mounted at /api/v1/screenings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Router, Schema, Status

from anagen.api.params import Id

from . import selectors, services
from .models import RuleSet, Screening

router = Router(tags=["screening"])


class ScreeningIn(Schema):
    patient_id: int
    answers: dict[str, Any] = {}
    modalities: list[str] | None = None
    notes: str = ""


class ReasonOut(Schema):
    rule_id: str
    effect: str
    description: str
    missing: list[str] = []


class ScreeningOut(Schema):
    id: int
    run_id: UUID
    patient_id: int
    modality: str
    decision: str
    reasons: list[ReasonOut]
    rule_version: int
    performed_by: str
    performed_at: datetime
    facts: dict[str, Any]
    answers: dict[str, Any]

    @staticmethod
    def resolve_rule_version(obj: Screening) -> int:
        return obj.rule_set.version

    @staticmethod
    def resolve_performed_by(obj: Screening) -> str:
        return obj.performed_by.email


class RunOut(Schema):
    run_id: UUID
    patient_id: int
    rule_version: int
    screenings: list[ScreeningOut]


class RulesIn(Schema):
    rules: Any
    note: str = ""


class RuleSetOut(Schema):
    version: int
    is_active: bool
    note: str
    created_at: datetime
    created_by: str | None
    rules: list[dict[str, Any]]

    @staticmethod
    def resolve_created_by(obj: RuleSet) -> str | None:
        return obj.created_by.email if obj.created_by else None


class RuleErrorOut(Schema):
    detail: str
    code: str
    errors: list[str] = []


@router.post("", response={201: RunOut}, summary="Screen a patient for candidacy")
def screening_create(request, payload: ScreeningIn):
    patient = selectors.patient_for_screening(user=request.user, pk=payload.patient_id, run=True)
    screenings = services.screening_run(actor=request.user, patient=patient, answers=payload.answers,
                                        modalities=payload.modalities, notes=payload.notes)
    return Status(201, {"run_id": screenings[0].run_id, "patient_id": patient.pk,
                 "rule_version": screenings[0].rule_set.version, "screenings": screenings})


@router.get("", response=list[ScreeningOut], summary="A patient's screenings, newest first")
def screening_list(request, patient_id: Id):
    patient = selectors.patient_for_screening(user=request.user, pk=patient_id)
    return list(selectors.screening_list(user=request.user, patient=patient)[:500])


@router.get("/rules", response=RuleSetOut, summary="The active screening rules")
def rules_get(request):
    selectors.rule_set_list(user=request.user)  # role check
    active = selectors.rule_set_active()
    if active is None:
        raise Http404("No active rules.")
    return active


@router.put("/rules", response={201: RuleSetOut, 400: RuleErrorOut}, summary="Publish a new version of the rules (admins)")
def rules_put(request, payload: RulesIn):
    if not selectors.can_edit_rules(request.user):
        raise PermissionDenied("Only an admin can change the screening rules.")
    try:
        rule_set = services.rule_set_publish(actor=request.user, rules=payload.rules, note=payload.note)
    except services.RulesInvalid as exc:
        return Status(400, {"detail": exc.message, "code": exc.code, "errors": exc.errors})
    return Status(201, rule_set)
