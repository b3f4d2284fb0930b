"""Study eligibility: a study's criteria are screening rules, plus age and sex bounds.

Pure logic, no Django. The criteria reuse the screening rule language
(:mod:`anagen.screening.rules`): each criterion is a rule whose ``effect`` says what it is for
the study --

- ``"indication"``: an *inclusion* criterion, which must be met;
- ``"contraindication"``: an *exclusion* criterion, which must not be met;
- ``"review"``: a point the investigator confirms; it never excludes by itself.

and ``"modalities": "all"`` (a study's criteria apply to the study, not to a modality). Facts
are the screening facts of the patient record (:func:`anagen.screening.facts.record_facts`).

Unknown facts are never a silent pass, as in screening (three-valued logic): an inclusion or
exclusion criterion that cannot be decided because a fact is not recorded makes the decision
``"review"`` with the reason "<fact> not recorded". Age and sex bounds are checked first.

Decision: any exclusion met, any inclusion not met, or age/sex outside the bounds ->
``"ineligible"``; else any undecided criterion -> ``"review"``; else ``"eligible"``.

References
----------
ICH E6(R3) Good Clinical Practice, section on investigator responsibilities for eligibility.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from anagen.screening import rules as engine

SEXES = ("female", "male", "other")
DECISIONS = ("eligible", "ineligible", "review")


@dataclass(frozen=True)
class Criteria:
    """A study's eligibility criteria, as stored with the protocol."""

    rules: tuple[dict, ...] = ()
    age_min_years: int | None = None
    age_max_years: int | None = None
    sexes: tuple[str, ...] = SEXES

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Criteria":
        return cls(rules=tuple(data.get("rules") or ()), age_min_years=data.get("age_min_years"),
                   age_max_years=data.get("age_max_years"), sexes=tuple(data.get("sexes") or SEXES))

    def to_dict(self) -> dict[str, Any]:
        return {"rules": list(self.rules), "age_min_years": self.age_min_years, "age_max_years": self.age_max_years,
                "sexes": list(self.sexes)}


@dataclass(frozen=True)
class EligibilityReason:
    criterion: str  # the rule id, or "age" / "sex"
    kind: str  # "inclusion" | "exclusion" | "review" | "age" | "sex"
    met: bool | None  # None: not recorded
    description: str
    missing: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "kind": self.kind, "met": self.met, "description": self.description,
                "missing": list(self.missing)}


@dataclass(frozen=True)
class Eligibility:
    decision: str
    reasons: tuple[EligibilityReason, ...]  # the ones that count against, or need confirming; most serious first

    @property
    def eligible(self) -> bool:
        return self.decision == "eligible"

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "reasons": [r.to_dict() for r in self.reasons]}


_KIND = {"indication": "inclusion", "contraindication": "exclusion", "review": "review"}


def validate_criteria(criteria: Criteria) -> list[str]:
    """Every problem in the criteria, each saying what to fix; empty when valid."""
    errors: list[str] = []
    if criteria.rules:
        errors += engine.validate_rules(list(criteria.rules))
        for rule in criteria.rules:
            if isinstance(rule, dict) and rule.get("modalities") != "all":
                errors.append(f"Criterion '{rule.get('id')}': a study criterion applies to the study; "
                              "set \"modalities\": \"all\".")
    for name in ("age_min_years", "age_max_years"):
        value = getattr(criteria, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 120):
            errors.append(f"{name.replace('_', ' ')} must be a whole number of years between 0 and 120.")
    if (isinstance(criteria.age_min_years, int) and isinstance(criteria.age_max_years, int)
            and criteria.age_min_years > criteria.age_max_years):
        errors.append(f"The minimum age ({criteria.age_min_years}) is above the maximum ({criteria.age_max_years}).")
    if not criteria.sexes:
        errors.append("Choose at least one sex the study admits.")
    for s in criteria.sexes:
        if s not in SEXES:
            errors.append(f"Unknown sex {s!r}; use {', '.join(SEXES)}.")
    return errors


def assess(criteria: Criteria, facts: dict[str, Any]) -> Eligibility:
    """The eligibility decision for one patient's ``facts`` (screening fact names; None = not recorded).

    Examples
    --------
    >>> c = Criteria(rules=({"id": "aga", "description": "Androgenetic alopecia", "modalities": "all",
    ...                      "effect": "indication", "when": {"fact": "diagnosis", "op": "eq", "value": "male_aga"}},),
    ...              age_min_years=18, age_max_years=65, sexes=("male",))
    >>> assess(c, {"age": 40, "sex": "male", "diagnosis": "male_aga"}).decision
    'eligible'
    >>> [r.criterion for r in assess(c, {"age": 17, "sex": "male", "diagnosis": "male_aga"}).reasons]
    ['age']
    """
    against: list[EligibilityReason] = []
    undecided: list[EligibilityReason] = []
    age = facts.get("age")
    lo, hi = criteria.age_min_years, criteria.age_max_years
    if lo is not None or hi is not None:
        bounds = f"{lo if lo is not None else 0} to {hi if hi is not None else 120} years"
        if age is None:
            undecided.append(EligibilityReason("age", "age", None, f"Age not recorded: the study admits {bounds}.",
                                               ("age",)))
        elif (lo is not None and age < lo) or (hi is not None and age > hi):
            against.append(EligibilityReason("age", "age", False, f"Age {age} is outside the study's {bounds}."))
    sex = facts.get("sex")
    if tuple(criteria.sexes) != SEXES:
        admitted = " or ".join(criteria.sexes)
        if sex is None:
            undecided.append(EligibilityReason("sex", "sex", None, f"Sex not recorded: the study admits {admitted}.",
                                               ("sex",)))
        elif sex not in criteria.sexes:
            against.append(EligibilityReason("sex", "sex", False, f"Sex {sex}: the study admits {admitted} only."))
    for rule in criteria.rules:
        kind = _KIND[rule["effect"]]
        result, missing = engine.check_condition(rule["when"], facts)
        if result is None and kind != "review":
            labels = ", ".join(engine.fact_label(n) for n in sorted(missing))
            undecided.append(EligibilityReason(rule["id"], kind, None,
                                               f"{labels} not recorded: confirm ({rule['description']})",
                                               tuple(sorted(missing))))
        elif kind == "inclusion" and result is False:
            against.append(EligibilityReason(rule["id"], kind, False, f"Inclusion not met: {rule['description']}"))
        elif kind == "exclusion" and result is True:
            against.append(EligibilityReason(rule["id"], kind, True, f"Exclusion met: {rule['description']}"))
        elif kind == "review" and result is True:
            undecided.append(EligibilityReason(rule["id"], kind, True, rule["description"]))
    if against:
        return Eligibility("ineligible", tuple(against + undecided))
    if undecided:
        return Eligibility("review", tuple(undecided))
    return Eligibility("eligible", ())
