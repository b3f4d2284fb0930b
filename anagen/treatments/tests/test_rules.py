"""The pure treatment rules: no database, milliseconds."""

from datetime import date
from decimal import Decimal

import pytest

from anagen.treatments import rules


def _lot(**kw):
    base = dict(lot_number="EX-1", product="Exo 10", expires_on=date(2025, 6, 30), recalled=False,
                quantity_on_hand=Decimal("5"), quantity=Decimal("1"), unit="vial", on=date(2025, 6, 1))
    base.update(kw)
    return rules.lot_refusal(**base)


class TestSchedule:
    def test_sessions_follow_the_interval_and_follow_ups_count_from_the_last_session(self):
        visits = rules.plan_schedule(start=date(2025, 1, 6), sessions=3, interval_days=28,
                                     follow_up_weeks=[4, 12, 23, 44, 58])
        assert [(v.kind, v.sequence, v.on) for v in visits[:3]] == [
            ("session", 1, date(2025, 1, 6)), ("session", 2, date(2025, 2, 3)), ("session", 3, date(2025, 3, 3))]
        assert [v.on for v in visits[3:]] == [date(2025, 3, 31), date(2025, 5, 26), date(2025, 8, 11),
                                              date(2026, 1, 5), date(2026, 4, 13)]

    def test_follow_ups_are_sorted(self):
        visits = rules.plan_schedule(start=date(2025, 1, 1), sessions=1, interval_days=0, follow_up_weeks=[12, 4])
        assert [v.sequence for v in visits] == [1, 4, 12]

    @pytest.mark.parametrize("kw", [dict(sessions=0), dict(sessions=2, interval_days=0), dict(follow_up_weeks=[0]),
                                    dict(follow_up_weeks=[4, 4])])
    def test_impossible_schedules_are_refused(self, kw):
        args = dict(start=date(2025, 1, 1), sessions=2, interval_days=30, follow_up_weeks=[4])
        args.update(kw)
        with pytest.raises(ValueError):
            rules.plan_schedule(**args)

    def test_weeks_parse_from_text(self):
        assert rules.parse_weeks("4, 12;23 44") == [4, 12, 23, 44]
        with pytest.raises(ValueError, match="not a number of weeks"):
            rules.parse_weeks("4, twelve")


class TestLots:
    def test_an_in_date_lot_with_stock_is_usable(self):
        assert _lot() is None

    def test_a_lot_is_usable_on_its_expiry_date(self):
        assert _lot(on=date(2025, 6, 30)) is None

    def test_an_expired_lot_is_refused(self):
        assert "expired on 2025-06-30" in _lot(on=date(2025, 7, 1))

    def test_a_recalled_lot_is_refused_with_the_reason(self):
        msg = _lot(recalled=True, recall_reason="endotoxin out of specification")
        assert "recalled" in msg and "endotoxin" in msg

    def test_more_than_on_hand_is_refused(self):
        assert "has 5 vial left" in _lot(quantity=Decimal("6"))

    def test_zero_quantity_is_refused(self):
        assert "more than 0" in _lot(quantity=Decimal("0"))


class TestZones:
    def test_valid_volumes_pass(self):
        assert rules.zone_volume_errors({"vertex": "2.5", "frontal": 1}) == []

    @pytest.mark.parametrize("vol,msg", [("0", "more than 0"), ("-1", "more than 0"), ("21", "more than the 20"),
                                         ("abc", "not a volume")])
    def test_bad_volumes_are_refused(self, vol, msg):
        (err,) = rules.zone_volume_errors({"vertex": vol})
        assert msg in err and err.startswith("Vertex")

    def test_unknown_zone_and_no_zone_are_refused(self):
        assert "not a scalp zone" in rules.zone_volume_errors({"chin": 1})[0]
        assert "at least one" in rules.zone_volume_errors({})[0]


class TestCustody:
    def test_the_full_chain_is_allowed(self):
        status = rules.HARVESTED
        for step in ["received", "processed", "cultured", "cultured", "qc_passed", "released", "implanted"]:
            assert rules.custody_refusal(status, step) is None, (status, step)
            status = step

    def test_steps_cannot_be_skipped(self):
        assert "cannot be marked released" in rules.custody_refusal(rules.RECEIVED, rules.RELEASED)
        assert rules.custody_refusal(rules.QC_FAILED, rules.RELEASED) is not None
        assert rules.custody_refusal(rules.PROCESSED, rules.IMPLANTED) is not None

    def test_discard_is_allowed_from_any_state_that_is_not_final(self):
        for status in ["harvested", "received", "processed", "cultured", "qc_passed", "qc_failed", "released"]:
            assert rules.custody_refusal(status, rules.DISCARDED) is None
        assert "no further step" in rules.custody_refusal(rules.IMPLANTED, rules.DISCARDED)
        assert "no further step" in rules.custody_refusal(rules.DISCARDED, rules.RECEIVED)

    def test_unknown_step_is_refused(self):
        assert "not a custody step" in rules.custody_refusal(rules.HARVESTED, "frozen")

    def test_qc_pass_needs_count_and_viability(self):
        assert rules.custody_detail_errors("qc_passed", {}) != []
        assert rules.custody_detail_errors("qc_passed", {"cell_count": 120000, "viability_pct": 92.5}) == []
        assert "0 to 100" in rules.custody_detail_errors("qc_failed", {"viability_pct": 140})[0]
        assert "passage" in rules.custody_detail_errors("cultured", {})[0]

    def test_a_sample_goes_back_only_into_its_own_patient(self):
        assert "another patient" in rules.implant_refusal(sample_code="S1", sample_patient_id=1, patient_id=2,
                                                          status=rules.RELEASED)

    def test_a_sample_is_implanted_only_once_released(self):
        assert "released by the lab" in rules.implant_refusal(sample_code="S1", sample_patient_id=1, patient_id=1,
                                                              status=rules.QC_PASSED)
        assert rules.implant_refusal(sample_code="S1", sample_patient_id=1, patient_id=1, status=rules.RELEASED) is None


class TestScreening:
    def test_candidate_for_every_needed_modality_passes(self):
        assert rules.screening_refusals({"prp": "PRP"}, {"prp": "candidate", "exosomes": "not_candidate"}) == []

    def test_missing_or_negative_screening_is_refused(self):
        msgs = rules.screening_refusals({"prp": "PRP", "exosomes": "Exosomes"}, {"exosomes": "not_candidate"})
        assert any("not a candidate for Exosomes" in m for m in msgs)
        assert any("PRP needs a candidacy screening" in m for m in msgs)

    def test_adjuncts_need_no_screening(self):
        assert rules.screening_refusals({}, {}) == []


def test_combined_defaults_follow_the_longest_course_and_keep_every_follow_up():
    prp = rules.CourseDefaults(3, 30, (12, 24), "No exercise for 48 hours.")
    minoxidil = rules.CourseDefaults(1, 0, (12, 48), "Apply twice daily.")
    combined = rules.combined_defaults([minoxidil, prp])
    assert (combined.sessions, combined.interval_days, combined.follow_up_weeks) == (3, 30, (12, 24, 48))
    assert "No exercise" in combined.aftercare and "twice daily" in combined.aftercare
