"""Writes for screening: run a screening, publish a new version of the rules."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.db.models import Max

from anagen.accounts.models import Role
from anagen.core.errors import ActionError, NotFound
from anagen.core.permissions import CLINICAL_ROLES, check_role

from . import rules as engine
from .facts import CONTRAINDICATION_FLAGS, build_facts, clean_answers
from .models import RuleSet, Screening

RULE_EDIT_ROLES = (Role.ADMIN,)


class RulesInvalid(ActionError):
    """The rules did not pass validation; ``errors`` lists every problem, each naming its rule."""

    code = "invalid_rules"

    def __init__(self, errors: list[str]):
        n = len(errors)
        super().__init__(f"The rules have {n} problem{'s' if n != 1 else ''}; nothing was saved. "
                         "Fix each one and save again.", field="rules")
        self.errors = errors


def _active_rule_set() -> RuleSet:
    rule_set = RuleSet.objects.filter(is_active=True).first()
    if rule_set is None:
        raise ActionError("There are no active screening rules. An admin must publish them on the screening rules page.",
                          code="no_rules")
    return rule_set


def _clean_modalities(modalities) -> list[str]:
    if modalities is None or modalities == []:
        return list(engine.MODALITIES)
    if isinstance(modalities, str) or not isinstance(modalities, (list, tuple)):
        raise ActionError("Send modalities as a list, e.g. [\"prp\", \"exosomes\"].", field="modalities")
    unknown = [m for m in modalities if m not in engine.MODALITIES]
    if unknown:
        raise ActionError(f"Unknown modality {unknown[0]!r}; choose from {', '.join(engine.MODALITIES)}.",
                          field="modalities")
    return [m for m in engine.MODALITIES if m in modalities]  # canonical order, no duplicates


@transaction.atomic
def screening_run(*, actor, patient, answers: dict[str, Any] | None, modalities: list[str] | None = None,
                  notes: str = "") -> list[Screening]:
    """Screen ``patient`` for each modality (all four by default) with the active rules.

    Each decision is stored with the facts it saw, the answers given and the rule version used.
    """
    check_role(actor, *CLINICAL_ROLES)
    if not actor.can_see_clinic(patient.clinic_id):
        raise NotFound("No such patient in a clinic you work at.")
    chosen = _clean_modalities(modalities)
    clean = clean_answers(answers)
    notes = (notes or "").strip()
    if len(notes) > 5000:
        raise ActionError("The notes are longer than 5,000 characters; shorten them.", field="notes")
    rule_set = _active_rule_set()
    facts = build_facts(patient, clean)
    confirmed = {flag: clean[flag] for flag in CONTRAINDICATION_FLAGS if clean.get(flag) is not None}
    screenings = []
    run = None
    for modality in chosen:
        decision = engine.evaluate(rule_set.rules, facts, modality)
        s = Screening(patient=patient, modality=modality, decision=decision.decision,
                      reasons=[r.to_dict() for r in decision.reasons], facts=facts, answers=clean,
                      clinician_confirmed_contraindications=confirmed, notes=notes, rule_set=rule_set,
                      performed_by=actor)
        if run is not None:
            s.run_id = run
        s.save()
        run = s.run_id
        screenings.append(s)
    return screenings


def parse_rules_text(text: str) -> list:
    """The rules typed into the editor, parsed; ActionError with the line and column if it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RulesInvalid([f"The text is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."]) from None


@transaction.atomic
def rule_set_publish(*, actor, rules: Any, note: str = "") -> RuleSet:
    """Publish ``rules`` as the next version and make it the active one.

    Versions are never changed: old screenings keep pointing at the version they used.
    """
    check_role(actor, *RULE_EDIT_ROLES)
    errors = engine.validate_rules(rules)
    if errors:
        raise RulesInvalid(errors)
    note = (note or "").strip()
    if len(note) > 2000:
        raise ActionError("The note is longer than 2,000 characters; shorten it.", field="note")
    # Lock the versions so two admins saving at once get N+1 and N+2, not a clash.
    list(RuleSet.objects.select_for_update().values_list("id", flat=True))
    active = RuleSet.objects.filter(is_active=True).first()
    if active is not None and active.rules == rules:
        raise ActionError(f"These rules are the same as the active version {active.version}; nothing to publish.",
                          code="unchanged", field="rules")
    version = (RuleSet.objects.aggregate(m=Max("version"))["m"] or 0) + 1
    RuleSet.objects.filter(is_active=True).update(is_active=False)
    return RuleSet.objects.create(version=version, rules=rules, note=note, created_by=actor, is_active=True)
