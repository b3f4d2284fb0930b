"""The facts a screening sees: the patient record, merged with the questionnaire.

From the record: sex, age (from the date of birth), diagnosis, the latest stage on each scale,
the medical-history flags and prior treatments. From the questionnaire answered at screening time:
the pattern of loss, whether the target area is bald, generalized thinning, traction area
thinning, the transplant-related answers, BMI, and the contraindications the clinician confirms.

An answer always wins over the record. A contraindication flag the clinician left "not recorded"
falls back to the medical history when the patient has one; with no medical history it stays
unknown (``None``), which the rules turn into "needs review", never a silent pass.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from anagen.core.errors import ActionError

from .rules import FACTS, PATTERNS

# Contraindications the clinician confirms; pre-filled from MedicalHistory.
CONTRAINDICATION_FLAGS = ("active_scalp_infection", "scalp_inflammation", "cancer_under_treatment",
                          "pregnant_or_breastfeeding", "bleeding_disorder", "anticoagulants",
                          "autoimmune_disease", "keloid_tendency")

# The questionnaire: answer name -> kind. Yes/no answers take true, false or null (not recorded).
QUESTIONS: dict[str, str] = {
    "pattern": "choice",
    "target_area_bald": "bool",
    "generalized_thinning": "bool",
    "traction_area_thinning": "bool",
    "wants_adjunct_after_transplant_or_prp": "bool",
    "not_transplant_candidate": "bool",
    "hesitant_about_transplant": "bool",
    "bmi": "number",
    **{flag: "bool" for flag in CONTRAINDICATION_FLAGS},
}


def clean_answers(answers: Any) -> dict[str, Any]:
    """Check the questionnaire; raise ActionError naming the first bad answer and what to send."""
    if answers is None:
        return {}
    if not isinstance(answers, dict):
        raise ActionError("Send the answers as an object, e.g. {\"pattern\": \"thinning\", \"anticoagulants\": false}.",
                          field="answers")
    clean: dict[str, Any] = {}
    for name, value in answers.items():
        kind = QUESTIONS.get(name)
        if kind is None:
            raise ActionError(f"Unknown answer '{name}'. The questions are: {', '.join(QUESTIONS)}.", field="answers")
        if value is None or value == "":
            clean[name] = None
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ActionError(f"Answer '{name}' with true, false, or null when not recorded.", field=name)
            clean[name] = value
        elif kind == "choice":
            if value not in PATTERNS:
                raise ActionError(f"'{value}' is not a pattern; use one of {', '.join(PATTERNS)}.", field=name)
            clean[name] = value
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ActionError(f"Answer '{name}' with a number (got {value!r}).", field=name) from None
            if isinstance(value, bool) or not 10 <= number <= 80:
                raise ActionError(f"A BMI of {value!r} is not plausible; enter a value between 10 and 80.", field=name)
            clean[name] = round(number, 1)
    return clean


def age_on(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _medical_history(patient):
    try:
        return patient.medical_history
    except (ObjectDoesNotExist, AttributeError):
        return None


def record_facts(patient, *, today: date | None = None) -> dict[str, Any]:
    """Facts from the patient record alone; ``None`` where the record does not say."""
    today = today or timezone.localdate()
    facts: dict[str, Any] = {name: None for name in FACTS}
    facts["sex"] = patient.sex if patient.sex in FACTS["sex"].choices else None
    facts["age"] = age_on(patient.date_of_birth, today)
    facts["diagnosis"] = patient.diagnosis or None
    latest: dict[str, str] = {}
    for s in patient.stagings.order_by("-assessed_on", "-id"):
        latest.setdefault(s.scale, s.stage)
    for scale in ("norwood", "ludwig", "sinclair"):
        facts[f"{scale}_stage"] = latest.get(scale)
    history = _medical_history(patient)
    for flag in CONTRAINDICATION_FLAGS:
        facts[flag] = getattr(history, flag) if history is not None else None
    had = set(patient.prior_treatments.values_list("treatment", flat=True))
    facts["prior_transplant"] = "transplant" in had
    facts["prior_prp"] = "prp" in had
    facts["prior_minoxidil"] = "minoxidil" in had
    facts["prior_antiandrogen"] = bool(had & {"finasteride", "dutasteride"})
    return facts


def build_facts(patient, answers: dict[str, Any], *, today: date | None = None) -> dict[str, Any]:
    """The record's facts overlaid with the (cleaned) answers; an unanswered question keeps the record's value."""
    facts = record_facts(patient, today=today)
    for name, value in answers.items():
        if value is not None:
            facts[name] = value
    return facts


def initial_answers(patient) -> dict[str, Any]:
    """Questionnaire pre-filled from the record: contraindications from the medical history."""
    history = _medical_history(patient)
    initial: dict[str, Any] = {name: None for name in QUESTIONS}
    if history is not None:
        for flag in CONTRAINDICATION_FLAGS:
            initial[flag] = getattr(history, flag)
    return initial
