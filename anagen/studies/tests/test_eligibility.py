"""The eligibility rule engine for studies: pure, no database."""

from __future__ import annotations

from anagen.studies.eligibility import Criteria, assess, validate_criteria

AGA = {"id": "aga", "description": "Androgenetic alopecia", "modalities": "all", "effect": "indication",
       "when": {"fact": "diagnosis", "op": "eq", "value": "male_aga"}}
ANTICOAG = {"id": "anticoag", "description": "Takes anticoagulants", "modalities": "all",
            "effect": "contraindication", "when": {"fact": "anticoagulants", "op": "true"}}
CRITERIA = Criteria(rules=(AGA, ANTICOAG), age_min_years=18, age_max_years=65, sexes=("male",))
OK = {"age": 40, "sex": "male", "diagnosis": "male_aga", "anticoagulants": False}


def test_a_patient_who_meets_every_criterion_is_eligible():
    result = assess(CRITERIA, OK)
    assert result.decision == "eligible" and result.reasons == ()


def test_an_unmet_inclusion_and_a_met_exclusion_each_give_their_reason():
    result = assess(CRITERIA, {**OK, "diagnosis": "alopecia_areata", "anticoagulants": True})
    assert result.decision == "ineligible"
    assert [r.criterion for r in result.reasons] == ["aga", "anticoag"]
    assert "Inclusion not met: Androgenetic alopecia" in result.reasons[0].description
    assert "Exclusion met: Takes anticoagulants" in result.reasons[1].description


def test_age_and_sex_bounds_are_checked():
    assert [r.criterion for r in assess(CRITERIA, {**OK, "age": 17}).reasons] == ["age"]
    assert [r.criterion for r in assess(CRITERIA, {**OK, "age": 66}).reasons] == ["age"]
    assert assess(CRITERIA, {**OK, "age": 65}).eligible
    result = assess(CRITERIA, {**OK, "sex": "female"})
    assert result.decision == "ineligible" and "admits male only" in result.reasons[0].description


def test_a_fact_not_recorded_is_never_a_silent_pass():
    result = assess(CRITERIA, {**OK, "anticoagulants": None})
    assert result.decision == "review"
    assert result.reasons[0].missing == ("anticoagulants",)
    assert assess(CRITERIA, {**OK, "age": None}).decision == "review"


def test_criteria_are_validated_with_the_screening_rule_checks():
    assert validate_criteria(CRITERIA) == []
    errors = validate_criteria(Criteria(rules=({**AGA, "modalities": ["prp"]},), age_min_years=70, age_max_years=20,
                                        sexes=("robot",)))
    assert any("modalities" in e for e in errors)
    assert any("above the maximum" in e for e in errors)
    assert any("robot" in e for e in errors)
    assert any("unknown fact" in e for e in validate_criteria(
        Criteria(rules=({**AGA, "when": {"fact": "shoe_size", "op": "gte", "value": 9}},))))
