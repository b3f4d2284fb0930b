"""The pure rule engine and the seeded criteria (no database)."""

import copy

import pytest

from anagen.screening.rules import MODALITIES, evaluate, evaluate_all, seed_rules, validate_rules

RULES = seed_rules()

# A patient with nothing against treatment: every contraindication answered "no".
CLEAR = {
    "age": 45, "target_area_bald": False, "active_scalp_infection": False, "scalp_inflammation": False,
    "cancer_under_treatment": False, "pregnant_or_breastfeeding": False, "bleeding_disorder": False,
    "anticoagulants": False, "autoimmune_disease": False, "keloid_tendency": False, "bmi": 24,
}


def facts(**kw):
    return {**CLEAR, **kw}


def fired(decision):
    return [r.rule_id for r in decision.reasons]


def test_the_seed_rules_are_valid_and_cover_every_modality():
    assert validate_rules(RULES) == []
    assert set(MODALITIES) == {"hfsc_micrograft", "adipose_stem_cells", "exosomes", "prp"}


def test_a_man_with_receding_hair_is_a_candidate_for_every_modality():
    for m, d in evaluate_all(RULES, facts(sex="male", pattern="receding")).items():
        assert d.decision == "candidate", m
        assert fired(d) == ["receding_or_thinning"]


def test_female_pattern_hair_loss_is_an_indication():
    d = evaluate(RULES, facts(sex="female", diagnosis="female_aga"), "hfsc_micrograft")
    assert d.decision == "candidate" and "female_pattern_hair_loss" in fired(d)
    d = evaluate(RULES, facts(sex="female", ludwig_stage="II"), "prp")
    assert d.decision == "candidate" and "female_pattern_hair_loss" in fired(d)


def test_a_woman_with_generalized_thinning_is_a_candidate_for_prp_and_exosomes():
    for m in ("prp", "exosomes"):
        d = evaluate(RULES, facts(sex="female", generalized_thinning=True), m)
        assert d.decision == "candidate"
        assert fired(d) == ["woman_generalized_thinning"]
    # The same answer from a man is not this criterion.
    d = evaluate(RULES, facts(sex="male", generalized_thinning=True), "prp")
    assert "woman_generalized_thinning" not in fired(d)


def test_traction_alopecia_counts_only_where_the_area_is_thinning_not_bald():
    d = evaluate(RULES, facts(diagnosis="traction", traction_area_thinning=True), "exosomes")
    assert d.decision == "candidate" and fired(d) == ["traction_alopecia_thinning"]
    d = evaluate(RULES, facts(diagnosis="traction", traction_area_thinning=True, target_area_bald=True), "exosomes")
    assert d.decision == "not_candidate"
    assert "traction_alopecia_thinning" not in fired(d)


@pytest.mark.parametrize("answer", ["wants_adjunct_after_transplant_or_prp", "not_transplant_candidate",
                                    "hesitant_about_transplant"])
def test_transplant_related_answers_are_indications(answer):
    d = evaluate(RULES, facts(sex="male", **{answer: True}), "hfsc_micrograft")
    assert d.decision == "candidate"
    assert fired(d) == [answer if answer != "wants_adjunct_after_transplant_or_prp" else "adjunct_after_transplant_or_prp"]


def test_active_scalp_infection_makes_the_patient_not_a_candidate_with_that_reason():
    d = evaluate(RULES, facts(sex="male", pattern="thinning", active_scalp_infection=True), "prp")
    assert d.decision == "not_candidate"
    assert d.reasons[0].rule_id == "active_scalp_infection"
    assert d.reasons[0].effect == "contraindication"
    assert "infection" in d.reasons[0].description
    # The indication is still shown, after the contraindication.
    assert fired(d) == ["active_scalp_infection", "receding_or_thinning"]


@pytest.mark.parametrize("flag", ["scalp_inflammation", "cancer_under_treatment", "bleeding_disorder",
                                  "anticoagulants"])
def test_each_contraindication_rules_out_every_injection_modality(flag):
    for m, d in evaluate_all(RULES, facts(sex="male", pattern="thinning", **{flag: True})).items():
        assert d.decision == "not_candidate", m
        assert flag in fired(d)


def test_anticoagulants_rule_out_injections_until_recorded_as_paused():
    d = evaluate(RULES, facts(sex="female", diagnosis="female_aga", anticoagulants=True), "prp")
    assert d.decision == "not_candidate" and fired(d)[0] == "anticoagulants"
    d = evaluate(RULES, facts(sex="female", diagnosis="female_aga", anticoagulants=False), "prp")
    assert d.decision == "candidate"


def test_a_completely_bald_target_area_is_not_a_micrograft_candidate():
    d = evaluate(RULES, facts(sex="male", pattern="receding", target_area_bald=True), "hfsc_micrograft")
    assert d.decision == "not_candidate"
    assert fired(d)[0] == "target_area_bald"


def test_pregnancy_rules_out_treatment_for_a_woman():
    d = evaluate(RULES, facts(sex="female", diagnosis="female_aga", pregnant_or_breastfeeding=True), "exosomes")
    assert d.decision == "not_candidate" and fired(d)[0] == "pregnant_or_breastfeeding"


def test_unknown_pregnancy_status_for_a_woman_needs_review():
    f = facts(sex="female", diagnosis="female_aga")
    del f["pregnant_or_breastfeeding"]
    d = evaluate(RULES, f, "prp")
    assert d.decision == "review"
    reason = d.reasons[0]
    assert reason.rule_id == "pregnant_or_breastfeeding" and reason.effect == "review"
    assert reason.description.startswith("Pregnancy or breastfeeding not recorded: confirm")
    assert reason.missing == ("pregnant_or_breastfeeding",)


def test_unknown_pregnancy_status_does_not_matter_for_a_man():
    f = facts(sex="male", pattern="thinning")
    f["pregnant_or_breastfeeding"] = None
    assert evaluate(RULES, f, "prp").decision == "candidate"


def test_an_unrecorded_contraindication_never_passes_silently():
    d = evaluate(RULES, {"sex": "male", "pattern": "thinning"}, "prp")
    assert d.decision == "review"
    missing = {m for r in d.reasons for m in r.missing}
    assert {"active_scalp_infection", "bleeding_disorder", "anticoagulants", "age"} <= missing


def test_no_indication_means_review_with_a_reason():
    d = evaluate(RULES, facts(sex="male"), "prp")
    assert d.decision == "review"
    assert fired(d) == ["no_indication"]
    assert "No indication matched" in d.reasons[0].description


def test_adipose_cells_need_review_for_a_bmi_unsuited_to_liposuction():
    assert evaluate(RULES, facts(sex="male", pattern="thinning", bmi=17), "adipose_stem_cells").decision == "review"
    d = evaluate(RULES, facts(sex="male", pattern="thinning", bmi=38), "adipose_stem_cells")
    assert d.decision == "review" and "adipose_high_bmi" in fired(d)
    # BMI does not matter for PRP.
    assert evaluate(RULES, facts(sex="male", pattern="thinning", bmi=38), "prp").decision == "candidate"


def test_keloid_tendency_needs_review_for_biopsy_and_liposuction_only():
    f = facts(sex="male", pattern="thinning", keloid_tendency=True)
    assert evaluate(RULES, f, "hfsc_micrograft").decision == "review"
    assert evaluate(RULES, f, "adipose_stem_cells").decision == "review"
    assert evaluate(RULES, f, "exosomes").decision == "candidate"


def test_advanced_norwood_needs_review():
    d = evaluate(RULES, facts(sex="male", pattern="receding", norwood_stage="VI"), "hfsc_micrograft")
    assert d.decision == "review" and fired(d) == ["advanced_norwood", "receding_or_thinning"]


def test_under_18_is_not_a_candidate():
    assert evaluate(RULES, facts(sex="male", pattern="thinning", age=16), "prp").decision == "not_candidate"


# --- the engine's logic on small rule sets --------------------------------------------------------

def rule(rid, effect, when, modalities="all"):
    return {"id": rid, "description": rid.replace("_", " "), "effect": effect, "modalities": modalities, "when": when}


def test_contraindication_beats_review_beats_indication():
    rules = [rule("ind", "indication", {"fact": "generalized_thinning", "op": "true"}),
             rule("rev", "review", {"fact": "autoimmune_disease", "op": "true"}),
             rule("con", "contraindication", {"fact": "bleeding_disorder", "op": "true"})]
    base = {"generalized_thinning": True, "autoimmune_disease": False, "bleeding_disorder": False}
    assert evaluate(rules, base, "prp").decision == "candidate"
    assert evaluate(rules, {**base, "autoimmune_disease": True}, "prp").decision == "review"
    d = evaluate(rules, {**base, "autoimmune_disease": True, "bleeding_disorder": True}, "prp")
    assert d.decision == "not_candidate"
    assert [r.rule_id for r in d.reasons] == ["con", "rev", "ind"]


def test_rules_apply_only_to_their_modalities():
    rules = [rule("ind", "indication", {"fact": "generalized_thinning", "op": "true"}),
             rule("adipose_only", "contraindication", {"fact": "bmi", "op": "gte", "value": 40}, ["adipose_stem_cells"])]
    f = {"generalized_thinning": True, "bmi": 45}
    assert evaluate(rules, f, "adipose_stem_cells").decision == "not_candidate"
    assert evaluate(rules, f, "prp").decision == "candidate"


@pytest.mark.parametrize("cond, facts_, expected", [
    ({"fact": "sex", "op": "eq", "value": "female"}, {"sex": "female"}, True),
    ({"fact": "sex", "op": "ne", "value": "female"}, {"sex": "female"}, False),
    ({"fact": "norwood_stage", "op": "in", "value": ["III", "IV"]}, {"norwood_stage": "IV"}, True),
    ({"fact": "norwood_stage", "op": "not_in", "value": ["III", "IV"]}, {"norwood_stage": "IV"}, False),
    ({"fact": "age", "op": "gte", "value": 18}, {"age": 18}, True),
    ({"fact": "age", "op": "lte", "value": 17}, {"age": 18}, False),
    ({"fact": "anticoagulants", "op": "false"}, {"anticoagulants": False}, True),
    ({"not": {"fact": "anticoagulants", "op": "true"}}, {"anticoagulants": True}, False),
    ({"any": [{"fact": "anticoagulants", "op": "true"}, {"fact": "bmi", "op": "gte", "value": 30}]}, {"bmi": 31}, True),
    ({"all": [{"fact": "anticoagulants", "op": "true"}, {"fact": "bmi", "op": "gte", "value": 30}]}, {"bmi": 20}, False),
])
def test_operators_and_combinators(cond, facts_, expected):
    rules = [rule("r", "indication", cond)]
    d = evaluate(rules, facts_, "prp")
    assert (d.decision == "candidate") is expected


def test_an_unknown_fact_in_a_contraindication_names_the_fact_and_the_rule():
    rules = [rule("ind", "indication", {"fact": "generalized_thinning", "op": "true"}),
             rule("no_lipo_on_blood_thinners", "contraindication",
                  {"all": [{"fact": "anticoagulants", "op": "true"}, {"fact": "bmi", "op": "gte", "value": 0}]})]
    d = evaluate(rules, {"generalized_thinning": True, "bmi": 22}, "prp")
    assert d.decision == "review"
    assert d.reasons[0].description == "Anticoagulant use not recorded: confirm (no lipo on blood thinners)"
    # A fact of the wrong type counts as not recorded.
    d = evaluate(rules, {"generalized_thinning": True, "anticoagulants": True, "bmi": "n/a"}, "prp")
    assert d.decision == "review" and d.reasons[0].missing == ("bmi",)


def test_an_unknown_fact_in_an_indication_does_not_fire():
    rules = [rule("ind", "indication", {"fact": "generalized_thinning", "op": "true"})]
    assert [r.rule_id for r in evaluate(rules, {}, "prp").reasons] == ["no_indication"]


def test_an_unknown_modality_is_refused():
    with pytest.raises(ValueError, match="unknown modality"):
        evaluate(RULES, {}, "laser")


def test_decisions_serialize_to_plain_data():
    d = evaluate(RULES, facts(sex="male", pattern="receding"), "prp").to_dict()
    assert d == {"decision": "candidate", "reasons": [
        {"rule_id": "receding_or_thinning", "effect": "indication",
         "description": "Receding or thinning hair with follicles still present.", "missing": []}]}


# --- validation ---------------------------------------------------------------------------------------

def test_validation_names_the_rule_and_the_unknown_fact():
    rules = copy.deepcopy(RULES)
    rules[0]["when"] = {"fact": "hair_colour", "op": "eq", "value": "red"}
    errors = validate_rules(rules)
    assert len(errors) == 1
    assert errors[0].startswith("Rule 'receding_or_thinning': when: unknown fact 'hair_colour'")


def test_validation_reports_every_error_with_what_to_fix():
    rules = [
        {"id": "a", "description": "x", "modalities": "all", "effect": "indication",
         "when": {"fact": "age", "op": "between", "value": 3}},
        {"id": "b", "description": "x", "modalities": "all", "effect": "indication",
         "when": {"fact": "age", "op": "gte"}},
        {"id": "c", "description": "", "modalities": ["laser"], "effect": "maybe",
         "when": {"all": [{"fact": "sex", "op": "eq", "value": "femal"}]}},
        {"id": "a", "description": "dup", "modalities": "all", "effect": "review",
         "when": {"fact": "anticoagulants", "op": "true", "value": 1}},
        {"description": "no id", "modalities": "all", "effect": "review", "colour": "red"},
    ]
    errors = validate_rules(rules)
    joined = "\n".join(errors)
    assert "Rule 'a': when: unknown operator 'between'" in joined
    assert "Rule 'b': when: operator 'gte' needs a 'value'." in joined
    assert "Rule 'c': 'description' is missing" in joined
    assert "Rule 'c': unknown modality 'laser'" in joined
    assert "Rule 'c': 'effect' must be one of" in joined
    assert "Rule 'c': when.all[0]: 'femal' is not a value of 'sex'" in joined
    assert "Rule 'a': the id is used twice" in joined
    assert "Rule 'a': when: operator 'true' takes no value" in joined
    assert "Rule #5: 'id' must be" in joined
    assert "Rule #5: unknown key 'colour'" in joined
    assert "Rule #5: 'when' is missing" in joined


@pytest.mark.parametrize("bad", [None, {}, [], "rules", [1]])
def test_validation_refuses_things_that_are_not_rule_lists(bad):
    assert validate_rules(bad)


def test_the_engine_does_not_import_django():
    import ast
    import pathlib

    import anagen.screening.rules as mod

    tree = ast.parse(pathlib.Path(mod.__file__).read_text())
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(name.startswith("django") for name in imported)
