"""The public self-check: plain questions mapped onto the screening facts and run through the same rules."""

from __future__ import annotations

import pytest

from anagen.screening import selfcheck
from anagen.screening.rules import FACTS, evaluate_all, seed_rules

RULES = seed_rules()
ALL_CLEAR = {"pattern": "thinning", "sex": "male", "age": "18_69", "bald": "no", "infection": "no", "cancer": "no",
             "pregnant": "no", "bleeding": "no", "blood_thinners": "no", "autoimmune": "no"}


def test_every_answer_sets_only_facts_of_the_rules_vocabulary():
    for q in selfcheck.QUESTIONS:
        for choice in q.choices:
            assert set(choice.facts) <= set(FACTS)
            for name, value in choice.facts.items():
                fact = FACTS[name]
                if fact.choices:
                    assert value in fact.choices
                if fact.kind == "bool":
                    assert isinstance(value, bool)


def test_every_contraindication_of_the_practice_list_is_asked():
    asked = {name for q in selfcheck.QUESTIONS for name in q.facts}
    for rule in RULES:
        if rule["effect"] == "contraindication":
            leaves = [rule["when"]] if "fact" in rule["when"] else rule["when"].get("all", [])
            assert any(leaf.get("fact") in asked for leaf in leaves), rule["id"]


def test_every_indication_of_the_practice_list_is_written_to_the_patient():
    for rule in RULES:
        if rule["effect"] in ("indication", "contraindication"):
            assert rule["id"] in selfcheck.PLAIN, rule["id"]


@pytest.mark.parametrize("answers, facts", [
    ({"pattern": "both"}, {"pattern": "receding_and_thinning"}),
    ({"told_no_transplant": "yes"}, {"not_transplant_candidate": True}),
    ({"infection": "no"}, {"active_scalp_infection": False, "scalp_inflammation": False}),
    ({"age": "under_18"}, {"age": 17}),
    ({"age": "70_plus"}, {"age": 70}),
    ({"bald": "unsure", "sex": "unsure"}, {}),
])
def test_answers_map_to_the_facts_a_screening_uses(answers, facts):
    assert selfcheck.facts_of(selfcheck.clean(answers)) == facts


def test_the_outcome_is_what_the_screening_rules_find():
    answers = {**ALL_CLEAR, "told_no_transplant": "yes"}
    outcome = selfcheck.run(RULES, answers)
    decisions = evaluate_all(RULES, selfcheck.facts_of(answers))
    assert all(d.decision == "candidate" for d in decisions.values())
    assert outcome.fits == ("You're receding or thinning.",
                            "You've been told you're not a good candidate for a transplant.")
    assert outcome.talk_about == () and outcome.ask_about == () and not outcome.all_ruled_out


def test_a_contraindication_is_something_to_talk_about_never_a_verdict():
    outcome = selfcheck.run(RULES, {**ALL_CLEAR, "blood_thinners": "yes"})
    assert outcome.all_ruled_out
    assert any("Blood thinners" in line and "never stop them" in line for line in outcome.talk_about)
    words = " ".join(outcome.fits + outcome.talk_about + outcome.ask_about).lower()
    assert "not a candidate" not in words and "not_candidate" not in words


def test_not_sure_about_a_contraindication_becomes_a_question_for_the_clinician():
    outcome = selfcheck.run(RULES, {**ALL_CLEAR, "bleeding": "unsure"})
    assert outcome.ask_about == ("Do you have a bleeding disorder, such as haemophilia?",)
    assert not outcome.all_ruled_out


def test_a_review_rule_is_talked_about():
    outcome = selfcheck.run(RULES, {**ALL_CLEAR, "autoimmune": "yes"})
    assert selfcheck.PLAIN["autoimmune_disease"] in outcome.talk_about


def test_a_rule_added_later_shows_its_own_description():
    rules = RULES + [{"id": "wants_it", "description": "Hesitant and thinning", "modalities": "all",
                      "effect": "indication", "when": {"all": [{"fact": "hesitant_about_transplant", "op": "true"},
                                                               {"fact": "pattern", "op": "eq", "value": "thinning"}]}}]
    assert "Hesitant and thinning" in selfcheck.run(rules, {**ALL_CLEAR, "hesitant": "yes"}).fits


def test_unknown_questions_and_answers_are_refused_by_name():
    with pytest.raises(selfcheck.AnswerError) as exc:
        selfcheck.clean({"shoe_size": "9"})
    assert exc.value.field == "shoe_size"
    with pytest.raises(selfcheck.AnswerError) as exc:
        selfcheck.clean({"pattern": "curly"})
    assert exc.value.field == "pattern" and "What is happening to your hair?" in exc.value.message
    assert selfcheck.clean({"pattern": ""}) == {}


def test_the_summary_is_in_the_order_asked_in_plain_words():
    lines = selfcheck.summary_lines({"blood_thinners": "no", "pattern": "receding"})
    assert lines[0] == ("What is happening to your hair?", "It is receding: the hairline or temples are moving back")
    assert lines[1][1] == "No"
