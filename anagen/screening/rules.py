"""Candidacy screening rules: plain data in, an explainable decision out.

This module imports nothing from Django: the rules are JSON-like dicts, the facts a plain dict,
so the engine runs in a test in microseconds and the same rules can be checked from the CLI.

Rules
-----
A rule set is a list of rules. Each rule is a dict::

    {
      "id": "active_scalp_infection",                 # unique, letters/digits/underscores
      "description": "Active scalp infection: ...",   # the reason shown to the clinician
      "modalities": "all",                            # or a list of modality codes
      "effect": "contraindication",                   # "indication" | "contraindication" | "review"
      "when": {"fact": "active_scalp_infection", "op": "true"},
      "note": "optional: where the criterion comes from"
    }

``when`` is a condition over the facts dict: a leaf ``{"fact": NAME, "op": OP, "value": ...}``
or a combination ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``.

Operators: ``eq``, ``ne``, ``in``, ``not_in`` (value: a list), ``gte``, ``lte`` (value: a number),
``true``, ``false`` (no value).

Unknown facts
-------------
A fact that is absent from the facts dict, or ``None``, is *unknown*. Conditions use three-valued
(Kleene) logic: a leaf on an unknown fact is unknown; ``all`` is false if any part is false,
else unknown if any part is unknown; ``any`` is true if any part is true, else unknown if any is
unknown; ``not`` keeps unknown. So ``sex is female AND pregnant`` is simply false for a man whose
pregnancy status was never asked, but unknown for a woman.

A contraindication that comes out unknown must not pass silently: it turns the decision into
``review`` with the reason "<fact> not recorded: confirm". Indications and review rules that come
out unknown do not fire.

Decision
--------
For one modality: any contraindication fired -> ``not_candidate``; else any review fired (or a
contraindication unknown) -> ``review``; else any indication fired -> ``candidate``; else
``review`` with the reason "no indication matched". Every reason that fired is returned,
the most serious first, so the clinician sees the whole picture.

Modalities
----------
All four modalities involve injections (micrograft suspension, adipose-derived cells, exosomes,
PRP), so bleeding disorders and anticoagulants are contraindications for all four in the seed
rules: the clinician confirms them and, once a prescriber has agreed to pause an anticoagulant,
records "no". Adipose-derived cells also need a liposuction harvest, hence the extra BMI review
rules; the micrograft needs a punch biopsy, hence the keloid review.
"""

from __future__ import annotations

import json
import numbers
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MODALITIES: dict[str, str] = {
    "hfsc_micrograft": "Hair-follicle stem-cell micrograft",
    "adipose_stem_cells": "Adipose-derived stem cells",
    "exosomes": "Exosomes",
    "prp": "PRP (platelet-rich plasma)",
}

EFFECTS = ("indication", "contraindication", "review")
DECISIONS = ("candidate", "not_candidate", "review")
OPERATORS = ("eq", "ne", "in", "not_in", "gte", "lte", "true", "false")
RULE_KEYS = ("id", "description", "modalities", "effect", "when", "note")

NORWOOD_STAGES = ("I", "II", "III", "III vertex", "IV", "V", "VI", "VII")
LUDWIG_STAGES = ("I", "II", "III")
SINCLAIR_STAGES = ("1", "2", "3", "4", "5")
PATTERNS = ("receding", "thinning", "receding_and_thinning", "other")
DIAGNOSES = ("male_aga", "female_aga", "traction", "telogen_effluvium", "alopecia_areata", "other")


@dataclass(frozen=True)
class Fact:
    """One entry of the fact vocabulary: its type, the values it may take, and a label."""

    kind: str  # "bool" | "number" | "choice" | "text"
    label: str
    choices: tuple[str, ...] = ()


# The fact vocabulary: every name a rule may test. Facts come from the patient record and from the
# questionnaire answered at screening time (see anagen/screening/facts.py).
FACTS: dict[str, Fact] = {
    # From the patient record
    "sex": Fact("choice", "Sex", ("female", "male", "other")),
    "age": Fact("number", "Age (years)"),
    "diagnosis": Fact("choice", "Diagnosis", DIAGNOSES),
    "norwood_stage": Fact("choice", "Norwood-Hamilton stage", NORWOOD_STAGES),
    "ludwig_stage": Fact("choice", "Ludwig stage", LUDWIG_STAGES),
    "sinclair_stage": Fact("choice", "Sinclair stage", SINCLAIR_STAGES),
    "prior_transplant": Fact("bool", "Had a hair transplant"),
    "prior_prp": Fact("bool", "Had PRP"),
    "prior_minoxidil": Fact("bool", "Has used minoxidil"),
    "prior_antiandrogen": Fact("bool", "Has used finasteride or dutasteride"),
    # Questionnaire at screening time
    "pattern": Fact("choice", "Pattern of loss", PATTERNS),
    "target_area_bald": Fact("bool", "Target area completely bald"),
    "generalized_thinning": Fact("bool", "Generalized (diffuse) thinning"),
    "traction_area_thinning": Fact("bool", "Traction area thinning (not bald)"),
    "wants_adjunct_after_transplant_or_prp": Fact("bool", "Wants an adjunct after a transplant or PRP"),
    "not_transplant_candidate": Fact("bool", "Told they are not a transplant candidate"),
    "hesitant_about_transplant": Fact("bool", "Hesitant to commit to a transplant"),
    "bmi": Fact("number", "Body-mass index (kg/m²)"),
    # Contraindications the clinician confirms (pre-filled from the medical history)
    "active_scalp_infection": Fact("bool", "Active scalp infection"),
    "scalp_inflammation": Fact("bool", "Scalp inflammation"),
    "cancer_under_treatment": Fact("bool", "Cancer under treatment"),
    "pregnant_or_breastfeeding": Fact("bool", "Pregnancy or breastfeeding"),
    "bleeding_disorder": Fact("bool", "Bleeding disorder"),
    "anticoagulants": Fact("bool", "Anticoagulant use"),
    "autoimmune_disease": Fact("bool", "Autoimmune disease"),
    "keloid_tendency": Fact("bool", "Keloid tendency"),
}


@dataclass(frozen=True)
class Reason:
    rule_id: str
    effect: str
    description: str
    missing: tuple[str, ...] = field(default=())  # facts that were not recorded, if that is the reason

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["missing"] = list(self.missing)
        return d


@dataclass(frozen=True)
class Decision:
    decision: str
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "reasons": [r.to_dict() for r in self.reasons]}


NO_INDICATION = Reason("no_indication", "review",
                       "No indication matched: a clinician should decide whether this treatment fits.")


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

_ID_RE = re.compile(r"^[a-z0-9_]{1,60}$")


def validate_rules(rules: Any) -> list[str]:
    """Every problem in a rule set, each naming its rule and saying what to fix. Empty if valid."""
    if not isinstance(rules, list):
        return ["The rules must be a JSON list of rule objects, e.g. [{\"id\": ..., ...}]."]
    if not rules:
        return ["The rule set is empty: add at least one rule."]
    errors: list[str] = []
    seen: set[str] = set()
    for i, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict):
            errors.append(f"Rule #{i}: must be an object with id, description, modalities, effect and when.")
            continue
        rid = rule.get("id")
        name = f"Rule '{rid}'" if isinstance(rid, str) and rid else f"Rule #{i}"
        if not isinstance(rid, str) or not _ID_RE.match(rid):
            errors.append(f"{name}: 'id' must be 1 to 60 lower-case letters, digits or underscores.")
        elif rid in seen:
            errors.append(f"{name}: the id is used twice; give each rule its own id.")
        else:
            seen.add(rid)
        for key in sorted(set(rule) - set(RULE_KEYS)):
            errors.append(f"{name}: unknown key '{key}'; a rule has only {', '.join(RULE_KEYS)}.")
        desc = rule.get("description")
        if not isinstance(desc, str) or not desc.strip():
            errors.append(f"{name}: 'description' is missing; write the reason the clinician will see.")
        mods = rule.get("modalities")
        if mods != "all":
            if not isinstance(mods, list) or not mods:
                errors.append(f"{name}: 'modalities' must be \"all\" or a list of: {', '.join(MODALITIES)}.")
            else:
                for m in mods:
                    if m not in MODALITIES:
                        errors.append(f"{name}: unknown modality {m!r}; use one of {', '.join(MODALITIES)}.")
        if rule.get("effect") not in EFFECTS:
            errors.append(f"{name}: 'effect' must be one of {', '.join(EFFECTS)} (got {rule.get('effect')!r}).")
        if "when" not in rule:
            errors.append(f"{name}: 'when' is missing; give the condition, e.g. {{\"fact\": \"anticoagulants\", \"op\": \"true\"}}.")
        else:
            errors.extend(f"{name}: {e}" for e in _validate_condition(rule["when"], "when"))
        if "note" in rule and not isinstance(rule["note"], str):
            errors.append(f"{name}: 'note' must be text.")
    return errors


def _validate_condition(cond: Any, path: str) -> list[str]:
    if not isinstance(cond, dict):
        return [f"{path} must be an object: a fact test or all/any/not."]
    combinators = [k for k in ("all", "any", "not") if k in cond]
    if combinators:
        if len(cond) != 1:
            return [f"{path}: put '{combinators[0]}' alone in its object (found {', '.join(sorted(cond))})."]
        key = combinators[0]
        inner = cond[key]
        if key == "not":
            return _validate_condition(inner, f"{path}.not")
        if not isinstance(inner, list) or not inner:
            return [f"{path}.{key} must be a non-empty list of conditions."]
        errs: list[str] = []
        for j, c in enumerate(inner):
            errs.extend(_validate_condition(c, f"{path}.{key}[{j}]"))
        return errs
    if "fact" not in cond:
        return [f"{path}: a condition needs 'fact' and 'op', or one of all/any/not."]
    errs = []
    fact_name, op = cond.get("fact"), cond.get("op")
    extra = set(cond) - {"fact", "op", "value"}
    if extra:
        errs.append(f"{path}: unknown key(s) {', '.join(sorted(extra))}; a fact test has fact, op and value.")
    fact = FACTS.get(fact_name) if isinstance(fact_name, str) else None
    if fact is None:
        errs.append(f"{path}: unknown fact {fact_name!r}; known facts are {', '.join(FACTS)}.")
    if op not in OPERATORS:
        errs.append(f"{path}: unknown operator {op!r}; use one of {', '.join(OPERATORS)}.")
        return errs
    if op in ("true", "false"):
        if "value" in cond:
            errs.append(f"{path}: operator '{op}' takes no value; remove 'value'.")
        if fact is not None and fact.kind != "bool":
            errs.append(f"{path}: operator '{op}' is for yes/no facts; '{fact_name}' is a {fact.kind}.")
        return errs
    if "value" not in cond:
        errs.append(f"{path}: operator '{op}' needs a 'value'.")
        return errs
    value = cond["value"]
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            errs.append(f"{path}: operator '{op}' needs a non-empty list as 'value'.")
            return errs
        values = value
    elif op in ("gte", "lte"):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            errs.append(f"{path}: operator '{op}' needs a number as 'value' (got {value!r}).")
        elif fact is not None and fact.kind != "number":
            errs.append(f"{path}: operator '{op}' compares numbers; '{fact_name}' is a {fact.kind}.")
        return errs
    else:
        values = [value]
    if fact is not None and fact.choices:
        for v in values:
            if v not in fact.choices:
                errs.append(f"{path}: {v!r} is not a value of '{fact_name}'; use one of {', '.join(fact.choices)}.")
    return errs


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------

def _leaf(cond: dict, facts: dict) -> tuple[bool | None, set[str]]:
    name, op = cond["fact"], cond["op"]
    value = facts.get(name)
    if value is None:
        return None, {name}
    try:
        if op == "true":
            return bool(value), set()
        if op == "false":
            return not bool(value), set()
        expected = cond.get("value")
        if op == "eq":
            return value == expected, set()
        if op == "ne":
            return value != expected, set()
        if op == "in":
            return value in expected, set()
        if op == "not_in":
            return value not in expected, set()
        if op == "gte":
            return float(value) >= float(expected), set()
        if op == "lte":
            return float(value) <= float(expected), set()
    except (TypeError, ValueError):
        # A fact of the wrong type (a typed-in "n/a" for BMI, say) is as good as not recorded.
        return None, {name}
    raise ValueError(f"unknown operator {op!r}; run validate_rules first")


def _check(cond: dict, facts: dict) -> tuple[bool | None, set[str]]:
    """Three-valued result of ``cond`` and the unknown facts that made it unknown."""
    if "all" in cond:
        results = [_check(c, facts) for c in cond["all"]]
        if any(r is False for r, _ in results):
            return False, set()
        missing = set().union(*(m for r, m in results if r is None))
        return (None, missing) if missing else (True, set())
    if "any" in cond:
        results = [_check(c, facts) for c in cond["any"]]
        if any(r is True for r, _ in results):
            return True, set()
        missing = set().union(*(m for r, m in results if r is None))
        return (None, missing) if missing else (False, set())
    if "not" in cond:
        r, m = _check(cond["not"], facts)
        return (None, m) if r is None else (not r, set())
    return _leaf(cond, facts)


def check_condition(cond: dict, facts: dict) -> tuple[bool | None, set[str]]:
    """A validated condition over ``facts``: True, False, or None (unknown) with the unknown facts.

    The same three-valued logic the screening decision uses; other rule users (study eligibility)
    call this instead of re-implementing it."""
    return _check(cond, facts)


def applies_to(rule: dict, modality: str) -> bool:
    mods = rule.get("modalities")
    return mods == "all" or (isinstance(mods, list) and modality in mods)


def fact_label(name: str) -> str:
    fact = FACTS.get(name)
    return fact.label if fact else name


_SEVERITY = {"contraindication": 0, "review": 1, "indication": 2}


def evaluate(rules: list[dict], facts: dict, modality: str) -> Decision:
    """The decision for one modality, with every reason that fired.

    ``rules`` must have passed :func:`validate_rules`; ``facts`` maps fact names to values, an
    absent name or ``None`` meaning "not recorded".

    Examples
    --------
    >>> rules = [{"id": "infection", "description": "Active scalp infection", "modalities": "all",
    ...           "effect": "contraindication", "when": {"fact": "active_scalp_infection", "op": "true"}}]
    >>> evaluate(rules, {"active_scalp_infection": True}, "prp").decision
    'not_candidate'
    >>> evaluate(rules, {}, "prp").reasons[0].description
    'Active scalp infection not recorded: confirm (Active scalp infection)'
    """
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}; use one of {', '.join(MODALITIES)}")
    fired: list[Reason] = []
    for rule in rules:
        if not applies_to(rule, modality):
            continue
        result, missing = _check(rule["when"], facts)
        if result is True:
            fired.append(Reason(rule["id"], rule["effect"], rule["description"]))
        elif result is None and rule["effect"] == "contraindication":
            names = sorted(missing)
            labels = ", ".join(fact_label(n) for n in names)
            fired.append(Reason(rule["id"], "review", f"{labels} not recorded: confirm ({rule['description']})",
                                tuple(names)))
    fired.sort(key=lambda r: _SEVERITY[r.effect])  # stable: rule order within one effect
    effects = {r.effect for r in fired}
    if "contraindication" in effects:
        return Decision("not_candidate", tuple(fired))
    if "review" in effects:
        return Decision("review", tuple(fired))
    if "indication" in effects:
        return Decision("candidate", tuple(fired))
    return Decision("review", (NO_INDICATION,))


def evaluate_all(rules: list[dict], facts: dict, modalities: list[str] | None = None) -> dict[str, Decision]:
    return {m: evaluate(rules, facts, m) for m in (modalities or list(MODALITIES))}


def facts_used(rules: list[dict]) -> set[str]:
    """The fact names a rule set tests (to show which questions matter)."""
    used: set[str] = set()

    def walk(c):
        if isinstance(c, dict):
            if "fact" in c:
                used.add(c["fact"])
            for k in ("all", "any"):
                for x in c.get(k, []) or []:
                    walk(x)
            if "not" in c:
                walk(c["not"])

    for r in rules:
        walk(r.get("when"))
    return used


SEED_RULES_PATH = Path(__file__).with_name("seed_rules_v1.json")


def seed_rules() -> list[dict]:
    """Version 1 of the practice's criteria, as seeded by the data migration. Never edited in place:
    later versions are made on the rules page and stored in the database."""
    return json.loads(SEED_RULES_PATH.read_text(encoding="utf-8"))
