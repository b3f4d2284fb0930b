"""Running screenings and publishing rules through the services."""

import copy

import pytest
from django.core.exceptions import PermissionDenied

from anagen.core.errors import ActionError, NotFound
from anagen.screening.models import RuleSet, RuleSetIsImmutable, Screening
from anagen.screening.rules import seed_rules
from anagen.screening.selectors import latest_screenings
from anagen.screening.services import RulesInvalid, rule_set_publish, screening_run


def test_version_1_is_seeded_and_active(db):
    active = RuleSet.objects.get(is_active=True)
    assert active.version == 1
    assert active.rules == seed_rules()


def test_a_screening_stores_each_decision_with_the_rule_version(patient, clinician, clear_answers):
    screenings = screening_run(actor=clinician, patient=patient, answers=clear_answers)
    assert [s.modality for s in screenings] == ["hfsc_micrograft", "adipose_stem_cells", "exosomes", "prp"]
    assert len({s.run_id for s in screenings}) == 1
    for s in screenings:
        s.refresh_from_db()
        assert s.rule_set.version == 1
        assert s.decision == "candidate"
        assert s.reasons[0]["rule_id"] == "receding_or_thinning"
        assert s.facts["sex"] == "female" and s.facts["anticoagulants"] is False
        assert s.answers["pattern"] == "thinning"
        assert s.clinician_confirmed_contraindications["anticoagulants"] is False
        assert s.performed_by == clinician


def test_a_screening_can_be_limited_to_some_modalities(patient, clinician, clear_answers):
    screenings = screening_run(actor=clinician, patient=patient, answers=clear_answers, modalities=["prp", "exosomes"])
    assert [s.modality for s in screenings] == ["exosomes", "prp"]


def test_a_woman_on_anticoagulants_is_not_a_candidate_for_injections(patient, clinician, clear_answers):
    screenings = screening_run(actor=clinician, patient=patient, answers={**clear_answers, "anticoagulants": True})
    assert {s.decision for s in screenings} == {"not_candidate"}
    assert screenings[0].reasons[0]["rule_id"] == "anticoagulants"


def test_unrecorded_pregnancy_for_a_woman_means_review(patient, clinician, clear_answers):
    screenings = screening_run(actor=clinician, patient=patient,
                               answers={**clear_answers, "pregnant_or_breastfeeding": None})
    assert {s.decision for s in screenings} == {"review"}
    assert "Pregnancy or breastfeeding not recorded: confirm" in screenings[0].reasons[0]["description"]


def test_latest_screenings_gives_the_newest_per_modality(patient, clinician, clear_answers):
    screening_run(actor=clinician, patient=patient, answers=clear_answers)
    again = screening_run(actor=clinician, patient=patient, answers={**clear_answers, "active_scalp_infection": True},
                          modalities=["prp"])
    latest = latest_screenings(patient)
    assert latest["prp"].pk == again[0].pk and latest["prp"].decision == "not_candidate"
    assert latest["exosomes"].decision == "candidate"


def test_editing_rules_publishes_a_new_version_and_leaves_old_screenings_alone(patient, clinician, admin_user,
                                                                              clear_answers):
    old = screening_run(actor=clinician, patient=patient, answers=clear_answers, modalities=["prp"])[0]
    rules = copy.deepcopy(seed_rules())
    for r in rules:
        if r["id"] == "receding_or_thinning":
            r["effect"] = "review"
            r["description"] = "Thinning: see the clinician first."
    v2 = rule_set_publish(actor=admin_user, rules=rules, note="Thinning now needs review")
    assert v2.version == 2 and v2.is_active
    assert RuleSet.objects.get(version=1).is_active is False
    assert RuleSet.objects.get(version=1).rules == seed_rules()

    new = screening_run(actor=clinician, patient=patient, answers=clear_answers, modalities=["prp"])[0]
    assert new.rule_set == v2 and new.decision == "review"
    old.refresh_from_db()
    assert old.rule_set.version == 1 and old.decision == "candidate"
    assert old.reasons[0]["description"] == "Receding or thinning hair with follicles still present."


def test_invalid_rules_are_refused_with_every_error_and_nothing_saved(admin_user):
    rules = copy.deepcopy(seed_rules())
    rules[0]["when"] = {"fact": "hair_colour", "op": "eq", "value": "red"}
    rules[1]["effect"] = "perhaps"
    with pytest.raises(RulesInvalid) as exc:
        rule_set_publish(actor=admin_user, rules=rules)
    assert len(exc.value.errors) == 2
    assert "unknown fact 'hair_colour'" in exc.value.errors[0]
    assert RuleSet.objects.count() == 1 and RuleSet.objects.get().is_active


def test_publishing_unchanged_rules_is_refused(admin_user):
    with pytest.raises(ActionError, match="same as the active version 1"):
        rule_set_publish(actor=admin_user, rules=seed_rules())


def test_only_admins_publish_rules(clinician):
    with pytest.raises(PermissionDenied):
        rule_set_publish(actor=clinician, rules=seed_rules()[:3])


def test_a_version_cannot_be_changed_in_place(db):
    v1 = RuleSet.objects.get(version=1)
    v1.rules = []
    with pytest.raises(RuleSetIsImmutable):
        v1.save()


def test_only_clinicians_run_screenings(patient, coordinator, admin_user, clear_answers):
    for user in (coordinator, admin_user):
        with pytest.raises(PermissionDenied):
            screening_run(actor=user, patient=patient, answers=clear_answers)
    assert Screening.objects.count() == 0


def test_a_clinician_cannot_screen_another_clinics_patient(patient_b, clinician, clear_answers):
    with pytest.raises(NotFound):
        screening_run(actor=clinician, patient=patient_b, answers=clear_answers)


def test_bad_input_writes_nothing(patient, clinician, clear_answers):
    with pytest.raises(ActionError, match="Unknown modality 'laser'"):
        screening_run(actor=clinician, patient=patient, answers=clear_answers, modalities=["prp", "laser"])
    with pytest.raises(ActionError, match="Unknown answer"):
        screening_run(actor=clinician, patient=patient, answers={"shoe_size": 9})
    assert Screening.objects.count() == 0


def test_without_active_rules_screening_says_what_to_do(patient, clinician, clear_answers):
    RuleSet.objects.update(is_active=False)
    with pytest.raises(ActionError, match="no active screening rules"):
        screening_run(actor=clinician, patient=patient, answers=clear_answers)


def test_screenings_and_rule_versions_are_in_the_audit_trail(patient, clinician, admin_user, clear_answers):
    from anagen.audit.selectors import record_history

    s = screening_run(actor=clinician, patient=patient, answers=clear_answers, modalities=["prp"])[0]
    history = record_history(s)
    assert history and history[0].action == "created"
    v2 = rule_set_publish(actor=admin_user, rules=seed_rules()[:5], note="shorter")
    assert record_history(v2)[0].action == "created"
