"""Figures render to SVG (text kept as text, valid XML) and PNG, with the numbers they are given.

Each figure is also written once to test-artifacts/evidence/ for a person to look at.
"""

from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest

from anagen.evidence import analysis as A
from anagen.evidence import figures as F
from anagen.evidence.simulate import simulate_study

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "evidence"
SVG_NS = "{http://www.w3.org/2000/svg}"


def _check(chart: F.Chart, name: str, *expected: str) -> str:
    svg = chart.svg()
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    text = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG_NS}text"))
    for label in expected:
        assert label in text, (label, text[:500])
    png = chart.png()
    assert png.startswith(F.PNG_SIGNATURE) and len(png) > 5000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.png").write_bytes(png)
    return text


@pytest.fixture(scope="module")
def par():
    return simulate_study(n_per_arm=40, seed=1, visit_weeks=(12, 24, 36, 48))


@pytest.fixture(scope="module")
def split():
    return simulate_study(design="split-scalp", n_per_arm=30, seed=3)


def test_mean_change_plot_shows_arms_weeks_and_numbers_analysed(par):
    change = A.change_by_visit(par)
    text = _check(F.mean_change_plot(change), "mean_change", "placebo", "active", "Weeks after randomization",
                  "hairs/cm²", "48")
    n48 = next(r.n for r in change.rows if r.arm == "active" and r.visit_week == 48)
    assert str(n48) in text


def test_spaghetti_plot_counts_halves_in_a_split_scalp_study(split):
    _check(F.spaghetti_plot(split), "spaghetti", "placebo (n=30 halves)", "active (n=30 halves)", "Individual changes")


def test_forest_plot_lists_subgroups_with_their_numbers(par):
    rows = F.subgroup_effects(par, "sex", A.ancova)
    overall = rows[0]
    text = _check(F.forest_plot(rows), "forest", "All subjects", "sex F", "sex M",
                  f"{overall.estimate:.1f} ({overall.ci[0]:.1f} to {overall.ci[1]:.1f})  n={overall.n}")
    assert "Treatment effect by subgroup" in text
    with pytest.raises(ValueError):
        F.forest_plot([])


def test_forest_plot_marks_a_subgroup_too_small_to_analyse(par):
    tiny = par[(par.sex == "M") | (par.subject.isin(["S0001", "S0002"]))]
    rows = F.subgroup_effects(tiny, "sex", A.ancova)
    assert any(r.estimate is None and "too few" in r.label for r in rows)
    F.forest_plot(rows).svg()


def test_forest_plot_with_several_active_arms_has_each_arm_against_the_control_by_sex():
    from anagen.evidence.tests.test_analysis import three_arm_study

    df = three_arm_study(n_per_arm=30, seed=2)
    df["sex"] = np.where(df["subject"].str[-1].astype(int) % 2 == 0, "F", "M")
    rows = F.subgroup_effects_against_control(df, "sex", visit_week=24)
    assert [r.label for r in rows] == [
        "exosome injection: all subjects", "exosome injection: sex F", "exosome injection: sex M",
        "exosome micro-needling: all subjects", "exosome micro-needling: sex F", "exosome micro-needling: sex M"]
    joint = A.ancova_against_control(df, visit_week=24)
    assert [r.estimate for r in rows if r.overall] == pytest.approx([c.effect.estimate for c in joint.contrasts])
    women = A.ancova_against_control(df[df["sex"] == "F"], visit_week=24)
    assert rows[1].estimate == pytest.approx(women.contrasts[0].effect.estimate)
    assert rows[1].n == women.contrasts[0].effect.n
    chart = F.forest_plot(rows, xlabel="Effect, each active arm - placebo (hairs/cm²)")
    _check(chart, "forest_multi_arm", "exosome micro-needling: sex M", "each active arm - placebo",
           f"{rows[0].estimate:.1f} ({rows[0].ci[0]:.1f} to {rows[0].ci[1]:.1f})  n={rows[0].n}")
    # an arm missing from a subgroup is listed without an estimate
    lone = df[~((df["sex"] == "M") & (df["arm"] == "exosome injection"))]
    rows = F.subgroup_effects_against_control(lone, "sex", visit_week=24)
    assert any(r.estimate is None and r.label == "exosome injection: sex M (too few to analyse)" for r in rows)


def test_bland_altman_plot_shows_bias_and_limits():
    rng = np.random.default_rng(4)
    truth = rng.normal(160, 30, 80)
    a, b = truth + rng.normal(0, 5, 80), truth - 3 + rng.normal(0, 5, 80)
    chart = F.bland_altman_plot(a, b, labels=("counter", "evaluator"))
    from anagen.evidence.agreement import bland_altman

    r = bland_altman(a, b)
    _check(chart, "bland_altman", f"bias {r.bias:.2f}", f"upper limit {r.upper_loa:.2f}",
           f"lower limit {r.lower_loa:.2f}", "counter - evaluator", "(n=80)")


def test_consort_parallel_shows_every_count_and_reason():
    counts = F.ConsortCounts(
        design="parallel", assessed=260, randomized=214,
        excluded={"not meeting inclusion criteria": 31, "declined to participate": 12, "other reasons": 3},
        arms=(F.ConsortArm("placebo", 78, 76, {"withdrew consent before treatment": 2},
                           {"moved away": 4, "no reason given": 3}, {"adverse event": 1}, 68,
                           {"no baseline photograph": 1}),
              F.ConsortArm("minoxidil 5 %", 136, 135, {"withdrew consent before treatment": 1}, {"moved away": 6},
                           {"adverse event": 4, "scalp irritation": 2}, 121)))
    chart = F.consort_diagram(counts)
    _check(chart, "consort_parallel", "Assessed for eligibility (n=260)", "Excluded (n=46)",
           "not meeting inclusion criteria (n=31)", "Randomized (n=214)", "Allocated to placebo (n=78)",
           "Allocated to minoxidil 5 % (n=136)", "Lost to follow-up (n=7)", "moved away (n=4)",
           "Discontinued intervention (n=6)", "scalp irritation (n=2)", "Analysed (n=68)", "Analysed (n=121)",
           "no baseline photograph (n=1)", "Enrolment", "Allocation", "Follow-up", "Analysis")
    # boxes are patches, arrows annotations: no hand-written paths
    ax = chart.figure.axes[0]
    assert len(ax.patches) >= 8 + 4 and sum(1 for t in ax.texts if getattr(t, "arrow_patch", None)) >= 7


def test_consort_split_scalp_counts_participants_and_halves(split):
    counts = F.consort_from_dataset(split, assessed=41, excluded={"not meeting inclusion criteria": 8, "declined": 3})
    last = split[split.visit_week == 48]
    halves_measured = last.groupby("side_arm")["value"].count()
    pairs = int((last[last.value.notna()].groupby("subject").size() == 2).sum())
    assert counts.randomized == 30 and [a.allocated for a in counts.arms] == [30, 30]
    assert {a.name: a.analysed for a in counts.arms} == halves_measured.to_dict()
    assert counts.participants_analysed == pairs < 30
    _check(F.consort_diagram(counts), "consort_split", "Randomized (n=30)", "60 scalp halves",
           "Allocated to placebo (halves=30)", f"Analysed (halves={halves_measured['active']})",
           f"Analysed as pairs n={pairs}", "split-scalp")


def test_consort_counts_that_do_not_add_up_are_refused():
    arm = F.ConsortArm("a", 10, 10, analysed=10)
    with pytest.raises(ValueError, match="do not add up: 30 assessed - 5 excluded is not 20"):
        F.ConsortCounts(design="parallel", assessed=30, excluded={"x": 5}, randomized=20, arms=(arm, arm))
    with pytest.raises(ValueError, match="20 allocated, but 40 scalp halves"):
        F.ConsortCounts(design="split-scalp", assessed=25, excluded={"x": 5}, randomized=20, arms=(arm, arm))
    with pytest.raises(ValueError, match="received \\+ did not receive"):
        F.ConsortCounts(design="parallel", assessed=20, excluded={}, randomized=20,
                        arms=(F.ConsortArm("a", 10, 9), arm))
