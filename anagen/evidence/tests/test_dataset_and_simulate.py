"""The study dataset's shape and checks, and the simulator that writes it."""

import doctest

import numpy as np
import pandas as pd
import pytest

from anagen.evidence import simulate as simulate_module
from anagen.evidence.dataset import COLUMNS, DatasetError, read_dataset, to_csv, validate
from anagen.evidence.simulate import StudySpec, simulate_study


def test_same_seed_same_study_other_seed_other_study():
    a = simulate_study(seed=3)
    pd.testing.assert_frame_equal(a, simulate_study(seed=3))
    assert not a["value"].equals(simulate_study(seed=4)["value"])


def test_parallel_study_has_one_row_per_subject_and_visit_and_balanced_arms():
    df = simulate_study(n_per_arm=25, visit_weeks=(4, 12, 24, 48), dropout=0.0, seed=1)
    assert list(df.columns) == list(COLUMNS)
    assert len(df) == 50 * 4 and df.groupby("arm")["subject"].nunique().to_dict() == {"active": 25, "placebo": 25}
    assert (df["side"] == "").all() and df["value"].notna().all()
    validate(df)


def test_split_scalp_study_has_both_sides_with_different_arms():
    df = simulate_study(design="split-scalp", n_per_arm=30, seed=2)
    per_subject = df.groupby("subject").agg(sides=("side", "nunique"), arms=("side_arm", "nunique"))
    assert (per_subject == 2).all().all() and len(per_subject) == 30
    assert (df["arm"] == "").all()
    # the active side is randomized, not always the same
    assert df[df.side_arm == "active"]["side"].nunique() == 2


def test_simulated_changes_have_the_specified_means_spread_and_correlation():
    spec = StudySpec(design="split-scalp", n_per_arm=4000, visit_weeks=(48,), effect=15.0, control_change=4.0,
                     sd_change=22.0, correlation=0.6, sd_measurement=5.0, dropout=0.0)
    df = simulate_study(spec, seed=9).assign(change=lambda x: x.value - x.baseline)
    wide = df.pivot(index="subject", columns="side_arm", values="change")
    assert wide["placebo"].mean() == pytest.approx(4.0, abs=1.0)
    assert (wide["active"] - wide["placebo"]).mean() == pytest.approx(15.0, abs=1.0)
    observed_sd = np.sqrt(22.0**2 + 2 * 5.0**2)
    assert wide["placebo"].std() == pytest.approx(observed_sd, rel=0.05)
    # the sides share the subject effect (0.6 x 22²) but not the measurement error
    assert wide.corr().iloc[0, 1] == pytest.approx(0.6 * 22.0**2 / observed_sd**2, abs=0.04)


def test_drop_out_leaves_rows_with_empty_values_and_outside_the_per_protocol_set():
    df = simulate_study(n_per_arm=500, dropout=0.2, deviation=0.0, seed=4)
    last = df[df.visit_week == 48]
    assert last["value"].isna().mean() == pytest.approx(0.2, abs=0.04)
    assert not last[last.value.isna()]["per_protocol"].any() and last[last.value.notna()]["per_protocol"].all()
    assert df["itt"].all()
    # once a subject drops out, every later visit is missing
    for _, s in df.groupby("subject"):
        v = s.sort_values("visit_week")["value"].isna().to_numpy()
        assert (np.diff(v.astype(int)) >= 0).all()


def test_effect_as_a_number_grows_linearly_to_the_last_visit_or_is_given_per_visit():
    spec = StudySpec(visit_weeks=(12, 24, 48), effect=12.0)
    assert [spec.effect_at(w) for w in (12, 24, 48)] == [3.0, 6.0, 12.0]
    spec = StudySpec(visit_weeks=(12, 48), effect={12: 5.0, 48: 9.0})
    assert spec.effect_at(12) == 5.0
    with pytest.raises(ValueError, match="no value given for visit week 48"):
        StudySpec(visit_weeks=(12, 48), effect={12: 5.0}).effect_at(48)


@pytest.mark.parametrize("bad, message", [
    (dict(design="crossover"), "design must be one of"),
    (dict(n_per_arm=0), "n per arm"),
    (dict(arms=("a", "a")), "two different arm names"),
    (dict(visit_weeks=(0, 12)), "visit weeks"),
    (dict(correlation=1.0), "correlation"),
    (dict(sd_change=-1.0), "sd_change"),
    (dict(dropout=1.0), "dropout"),
])
def test_an_impossible_design_is_refused_with_the_reason(bad, message):
    with pytest.raises(ValueError, match=message):
        simulate_study(**bad)


def test_csv_round_trip_keeps_values_flags_and_missing(tmp_path):
    df = simulate_study(design="split-scalp", n_per_arm=10, dropout=0.3, seed=8)
    path = tmp_path / "study.csv"
    to_csv(df, path)
    back = read_dataset(path)
    assert list(back.columns) == list(COLUMNS)
    assert back["value"].isna().sum() == df["value"].isna().sum() > 0
    np.testing.assert_allclose(back["value"], df["value"], atol=1e-4)
    assert back["per_protocol"].dtype == bool and (back["per_protocol"] == df["per_protocol"]).all()
    assert (back["side_arm"] == df["side_arm"]).all() and (back["arm"] == "").all()


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.drop(columns=["baseline", "itt"]), "missing column\\(s\\) baseline, itt"),
    (lambda d: d.iloc[:0], "no rows"),
    (lambda d: d.assign(design=["parallel"] + ["split-scalp"] * (len(d) - 1)), "design must be one of"),
    (lambda d: d.assign(value=["lots"] + list(d.value[1:])), "column value must be numeric; line 2 \\(counting the header\\) has 'lots'"),
    (lambda d: d.assign(visit_week=-4), "visit_week must be a whole number"),
    (lambda d: d.assign(itt="maybe"), "column itt holds 1 or 0"),
    (lambda d: d.assign(arm=["active"] + list(d.arm[1:])) if d.arm.iloc[1] == "placebo" else d.assign(arm=["placebo"] + list(d.arm[1:])),
     "listed under two arms"),
])
def test_a_malformed_dataset_is_refused_with_what_to_fix(mutate, message):
    df = simulate_study(n_per_arm=5, seed=1)
    with pytest.raises(DatasetError, match=message):
        validate(mutate(df))


def test_a_split_scalp_row_without_its_side_or_with_one_arm_on_both_sides_is_refused():
    df = simulate_study(design="split-scalp", n_per_arm=5, seed=1)
    with pytest.raises(DatasetError, match="side left or right"):
        validate(df.assign(side=["top"] + list(df.side[1:])))
    with pytest.raises(DatasetError, match="subject S0001 has the same arm on both sides"):
        validate(df.assign(side_arm=np.where(df.subject == "S0001", "active", df.side_arm)))


def test_reading_a_missing_or_broken_file_says_so(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        read_dataset(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DatasetError, match="not a readable CSV"):
        read_dataset(empty)


def test_the_docstring_examples_hold():
    result = doctest.testmod(simulate_module)
    assert result.failed == 0 and result.attempted > 0


def test_two_measurements_of_one_visit_are_refused_not_silently_picked(tmp_path):
    from anagen.evidence.analysis import ancova

    df = simulate_study(n_per_arm=5, seed=1)
    doubled = pd.concat([df, df.iloc[[0]]])
    with pytest.raises(DatasetError, match="subject S0001 has 2 rows for week 12 and density_per_cm2; keep one"):
        validate(doubled)
    with pytest.raises(DatasetError, match="keep one measurement per visit"):
        ancova(doubled)
    with pytest.raises(DatasetError, match="is a folder"):
        read_dataset(tmp_path)
