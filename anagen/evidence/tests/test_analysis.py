"""Trial analyses against scipy/statsmodels called directly, on simulated studies."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from anagen.evidence import analysis as a
from anagen.evidence.dataset import DatasetError
from anagen.evidence.simulate import StudySpec, simulate_study


def _pairs(df, week):
    at = df[df.visit_week == week].assign(change=lambda x: x.value - x.baseline)
    wide = at.pivot_table(index="subject", columns="side_arm", values="change").dropna()
    return wide["active"].to_numpy(), wide["placebo"].to_numpy()


def test_paired_difference_equals_scipy_paired_t(split_study):
    r = a.paired_difference(split_study, visit_week=48)
    act, pla = _pairs(split_study, 48)
    ref = stats.ttest_rel(act, pla)
    ci = ref.confidence_interval(0.95)
    assert r.estimate == pytest.approx(np.mean(act - pla), abs=1e-6)
    assert r.ci == pytest.approx((ci.low, ci.high), abs=1e-6)
    assert r.p_value == pytest.approx(ref.pvalue, abs=1e-9)
    assert r.statistic == pytest.approx(ref.statistic, abs=1e-6)
    assert r.n == len(act) and r.df == len(act) - 1
    assert r.contrast == "active - placebo" and r.analysis_set == "itt" and "intention-to-treat" in r.method


def test_wilcoxon_equals_scipy_and_hodges_lehmann_is_the_median_of_walsh_averages(split_study):
    r = a.wilcoxon_signed_rank(split_study, visit_week=24)
    act, pla = _pairs(split_study, 24)
    d = act - pla
    walsh = sorted((d[i] + d[j]) / 2 for i in range(len(d)) for j in range(i, len(d)))
    assert r.p_value == pytest.approx(stats.wilcoxon(d).pvalue, abs=1e-9)
    assert r.estimate == pytest.approx(float(np.median(walsh)), abs=1e-9)
    assert r.ci[0] < r.estimate < r.ci[1] and r.ci[0] in walsh and r.ci[1] in walsh


@pytest.mark.parametrize("n_pairs", [6, 12, 30])
def test_wilcoxon_interval_is_the_set_of_shifts_the_exact_test_does_not_reject(split_study, n_pairs):
    at = split_study[(split_study.visit_week == 12) & split_study.value.notna()].groupby("subject").size()
    subset = split_study[split_study.subject.isin(at[at == 2].index[:n_pairs])]
    r = a.wilcoxon_signed_rank(subset, visit_week=12)
    act, pla = _pairs(subset, 12)
    d = act - pla
    assert r.n == n_pairs
    for limit in r.ci:
        eps = 1e-7
        inside = limit + eps if limit == r.ci[0] else limit - eps
        outside = limit - eps if limit == r.ci[0] else limit + eps
        assert stats.wilcoxon(d - inside, method="exact").pvalue > 0.05
        assert stats.wilcoxon(d - outside, method="exact").pvalue <= 0.05


def test_wilcoxon_interval_uses_the_normal_approximation_above_50_pairs():
    n = 60
    k = math.floor(n * (n + 1) / 4 - 1.959963984540054 * math.sqrt(n * (n + 1) * (2 * n + 1) / 24))
    assert a._signed_rank_count(n, 0.05) == k
    # the published two-sided 5 % critical values (reject when T <= value), n = 6..11 and 50
    assert [a._signed_rank_count(m, 0.05) - 1 for m in (6, 7, 8, 9, 10, 11, 50)] == [0, 2, 3, 5, 8, 10, 434]


def test_split_scalp_mixed_model_equals_statsmodels_formula(split_study):
    r = a.split_scalp_mixed_model(split_study, visit_week=48)
    at = split_study[(split_study.visit_week == 48)].assign(change=lambda x: x.value - x.baseline).dropna(subset=["change"])
    at = at.assign(treated=(at.side_arm == "active").astype(float))
    fit = smf.mixedlm("change ~ treated + C(side) + baseline", at, groups=at["subject"]).fit(reml=True)
    assert r.estimate == pytest.approx(fit.fe_params["treated"], abs=1e-6)
    assert r.ci == pytest.approx(tuple(fit.conf_int().loc["treated"]), abs=1e-6)
    assert r.p_value == pytest.approx(fit.pvalues["treated"], abs=1e-6)


def test_ancova_equals_statsmodels_ols(parallel_study):
    r = a.ancova(parallel_study, visit_week=48)
    at = parallel_study[parallel_study.visit_week == 48].assign(change=lambda x: x.value - x.baseline).dropna(subset=["change"])
    fit = smf.ols("change ~ C(arm, Treatment('placebo')) + baseline", at).fit()
    term = "C(arm, Treatment('placebo'))[T.active]"
    assert r.estimate == pytest.approx(fit.params[term], abs=1e-6)
    assert r.ci == pytest.approx(tuple(fit.conf_int().loc[term]), abs=1e-6)
    assert r.p_value == pytest.approx(fit.pvalues[term], abs=1e-9)
    assert r.df == fit.df_resid and r.n == len(at)
    # The follow-up value on arm and baseline gives the same effect (Vickers & Altman 2001).
    same = smf.ols("value ~ C(arm, Treatment('placebo')) + baseline", at).fit()
    assert r.estimate == pytest.approx(same.params[term], abs=1e-6)


def test_repeated_mixed_model_equals_statsmodels_mixedlm(parallel_study):
    r = a.repeated_mixed_model(parallel_study)
    d = parallel_study.assign(change=lambda x: x.value - x.baseline, treated=lambda x: (x.arm == "active") * 1.0)
    d = d.dropna(subset=["change"])
    fit = smf.mixedlm("change ~ 0 + C(visit_week) + C(visit_week):treated + C(visit_week):baseline", d,
                      groups=d["subject"]).fit(reml=True)
    assert r.converged
    assert [e.visit_week for e in r.effects] == [12, 24, 48]
    for e in r.effects:
        name = f"C(visit_week)[{e.visit_week}]:treated"
        assert e.estimate == pytest.approx(fit.fe_params[name], abs=1e-4)
        assert e.ci == pytest.approx(tuple(fit.conf_int().loc[name]), abs=1e-4)
    # the same design handed to MixedLM directly gives the same numbers to 1e-6
    endog, exog, names = a._repeated_design(d["change"].to_numpy(), d["visit_week"].to_numpy(),
                                            d["treated"].to_numpy(), d["baseline"].to_numpy(), [12, 24, 48])
    direct = sm.MixedLM(endog, pd.DataFrame(exog, columns=names), groups=d["subject"].to_numpy()).fit(reml=True)
    for e in r.effects:
        assert e.estimate == pytest.approx(direct.fe_params[f"week{e.visit_week}:treated"], abs=1e-6)


def test_change_by_visit_is_the_mean_change_with_a_t_interval(parallel_study):
    r = a.change_by_visit(parallel_study)
    row = next(x for x in r.rows if x.arm == "active" and x.visit_week == 24)
    at = parallel_study[(parallel_study.visit_week == 24) & (parallel_study.arm == "active")]
    changes = (at.value - at.baseline).dropna().to_numpy()
    lo, hi = stats.t.interval(0.95, len(changes) - 1, loc=changes.mean(), scale=stats.sem(changes))
    assert row.mean == pytest.approx(changes.mean(), abs=1e-9)
    assert row.ci == pytest.approx((lo, hi), abs=1e-6)
    assert row.n == len(changes) and row.n_missing == at.value.isna().sum()
    assert len(r.rows) == 2 * 3


@pytest.mark.parametrize("seed", [101, 202])  # fixed seeds; coverage over 2,000 studies is in the benchmark
def test_analyses_recover_the_true_effect_within_their_interval(seed):
    spec = StudySpec(n_per_arm=150, effect=14.7, dropout=0.1)
    par = simulate_study(spec, seed=seed)
    split = simulate_study(spec, design="split-scalp", seed=seed)
    for r in (a.ancova(par), a.paired_difference(split), a.wilcoxon_signed_rank(split),
              a.split_scalp_mixed_model(split), a.repeated_mixed_model(par).effects[-1]):
        assert r.visit_week == 48
        assert r.ci[0] < spec.effect_at(48) < r.ci[1], (r.method, r.ci)
        assert r.p_value < 0.05


def test_missing_values_are_counted_per_arm_and_not_dropped_silently(parallel_study):
    r = a.ancova(parallel_study, visit_week=48)
    at = parallel_study[parallel_study.visit_week == 48]
    for c in r.counts:
        arm = at[at.arm == c.arm]
        assert c.n_in_set == len(arm) and c.n_missing == arm.value.isna().sum() > 0
        assert c.n_analysed + c.n_missing == c.n_in_set
    assert r.n_missing == at.value.isna().sum() and r.n == at.value.notna().sum()
    # a subject whose week-48 row is absent altogether is missing too
    gone = parallel_study[~((parallel_study.subject == "S0001") & (parallel_study.visit_week == 48))]
    r2 = a.ancova(gone, visit_week=48)
    assert r2.n_missing == r.n_missing + (0 if np.isnan(at[at.subject == "S0001"].value.iloc[0]) else 1)


def test_per_protocol_set_is_named_and_smaller(parallel_study):
    itt = a.ancova(parallel_study, analysis_set="itt")
    pp = a.ancova(parallel_study, analysis_set="per_protocol")
    assert pp.analysis_set == "per_protocol" and "per-protocol" in pp.method
    assert sum(c.n_in_set for c in pp.counts) < sum(c.n_in_set for c in itt.counts)
    assert pp.n_missing == 0  # drop-outs are outside the per-protocol set


def test_results_serialize_to_json_with_the_library_version(split_study):
    data = json.loads(a.primary_analysis(split_study).to_json())
    assert data["library_version"] and [r["method"].split(" ")[0] for r in data["results"]] == ["paired", "Wilcoxon"]
    assert data["results"][0]["counts"][0]["n_in_set"] == 50


def test_fixed_sequence_stops_at_the_first_non_significant_endpoint():
    def eff(endpoint, p):
        return a.Effect(method="m", design="parallel", analysis_set="itt", endpoint=endpoint, visit_week=48,
                        contrast="a - b", estimate=1.0, ci=(0.0, 2.0), confidence=0.95, p_value=p, n=10,
                        n_missing=0, counts=())

    h = a.fixed_sequence([eff("density", 0.01), eff("diameter", 0.20), eff("terminal", 0.001)])
    assert [(s.tested, s.rejected) for s in h.steps] == [(True, True), (True, False), (False, False)]
    assert "stopped at diameter" in h.conclusion
    h = a.fixed_sequence([eff("density", 0.01), eff("diameter", 0.049)])
    assert all(s.rejected for s in h.steps) and h.conclusion.startswith("all 2")
    with pytest.raises(ValueError):
        a.fixed_sequence([])


def test_analyze_endpoints_tests_declared_endpoints_in_order():
    dens = simulate_study(n_per_arm=80, effect=20.0, seed=5)
    diam = simulate_study(n_per_arm=80, effect=0.0, seed=6, endpoint="diameter_um", baseline_mean=60,
                          sd_baseline=8, sd_change=6, sd_measurement=2, control_change=0.0)
    both = pd.concat([dens, diam])
    results, h = a.analyze_endpoints(both, ["density_per_cm2", "diameter_um"])
    assert [r.endpoint for r in results] == ["density_per_cm2", "diameter_um"]
    assert h.steps[0].rejected and h.steps[1].tested


# -------------------------------------------------------------------------------------------
# Bad input: a clear error or a stated result, never a silent wrong number


def test_an_empty_arm_is_a_clear_error(parallel_study):
    only = parallel_study[parallel_study.arm == "active"]
    with pytest.raises(DatasetError, match="one arm"):
        a.ancova(only)
    no_pp = parallel_study.assign(per_protocol=parallel_study.per_protocol & (parallel_study.arm == "active"))
    with pytest.raises(DatasetError, match="arm 'placebo' has no subject in the per-protocol set"):
        a.ancova(no_pp, analysis_set="per_protocol")
    missing_48 = parallel_study.assign(value=np.where((parallel_study.arm == "placebo") & (parallel_study.visit_week == 48),
                                                      np.nan, parallel_study.value))
    with pytest.raises(DatasetError, match="arm 'placebo' has no subject measured at week 48"):
        a.ancova(missing_48)


def test_one_subject_gives_an_estimate_without_interval_and_says_why(split_study):
    one = split_study[split_study.subject == "S0001"]
    r = a.paired_difference(one, visit_week=12)
    assert r.n == 1 and r.ci == (None, None) and r.p_value is None and "one pair" in r.note
    with pytest.raises(DatasetError, match="at least 3 subjects"):
        a.split_scalp_mixed_model(one, visit_week=12)


def test_all_values_equal_is_stated_not_a_nan(split_study):
    flat = split_study.assign(value=100.0, baseline=100.0)
    r = a.paired_difference(flat, visit_week=12)
    assert r.estimate == 0.0 and r.p_value is None and "no spread" in r.note
    w = a.wilcoxon_signed_rank(flat, visit_week=12)
    assert w.p_value is None and "zero" in w.note
    m = a.split_scalp_mixed_model(flat, visit_week=12)
    assert m.estimate is None and "same" in m.note
    assert json.loads(r.to_json())["ci"] == [None, None]


def test_ancova_with_equal_baselines_or_exact_fit_says_so(parallel_study):
    with pytest.raises(DatasetError, match="same baseline"):
        a.ancova(parallel_study.assign(baseline=150.0))
    exact = parallel_study.assign(value=parallel_study.baseline + np.where(parallel_study.arm == "active", 5.0, 0.0))
    r = a.ancova(exact)
    assert r.estimate == pytest.approx(5.0) and r.p_value is None and "exactly" in r.note


def test_nan_values_are_missing_not_numbers(parallel_study):
    holed = parallel_study.copy()
    holed.loc[holed.index[:20], "baseline"] = np.nan
    r = a.ancova(holed, visit_week=48)
    assert np.isfinite(r.estimate) and r.n_missing > a.ancova(parallel_study, visit_week=48).n_missing


def test_a_visit_with_no_data_or_no_such_visit_is_a_clear_error(parallel_study):
    empty_24 = parallel_study.assign(value=np.where(parallel_study.visit_week == 24, np.nan, parallel_study.value))
    with pytest.raises(DatasetError, match="no measured value at week 24; weeks with data: 12, 48"):
        a.ancova(empty_24, visit_week=24)
    with pytest.raises(DatasetError, match="no visit at week 36 in the dataset; its visits are at weeks 12, 24, 48"):
        a.ancova(parallel_study, visit_week=36)


def test_the_wrong_design_names_the_right_analysis(parallel_study, split_study):
    with pytest.raises(DatasetError, match="for split-scalp studies; this is a parallel study"):
        a.paired_difference(parallel_study)
    with pytest.raises(DatasetError, match="for parallel studies"):
        a.ancova(split_study)
    with pytest.raises(DatasetError, match="not split-scalp"):
        a.primary_analysis(parallel_study, design="split-scalp")
    with pytest.raises(DatasetError, match="no arm 'drug'"):
        a.ancova(parallel_study, active="drug")
    with pytest.raises(ValueError, match="confidence"):
        a.ancova(parallel_study, confidence=95)


def test_unblinded_subjects_stay_in_the_analysis_and_are_counted(parallel_study):
    broken = parallel_study.assign(unblinded=parallel_study.subject.isin(["S0003", "S0007"]))
    r = a.ancova(broken)
    assert r.n_unblinded == 2 and r.estimate == a.ancova(parallel_study).estimate
    assert a.ancova(parallel_study).n_unblinded == 0


def test_a_hand_built_frame_is_checked_and_typed_before_analysis(parallel_study):
    raw = parallel_study.assign(itt=parallel_study.itt.astype(int), per_protocol=parallel_study.per_protocol.astype(int),
                                unblinded=0, value=parallel_study.value.map(lambda v: "" if np.isnan(v) else f"{v:.6f}"))
    r = a.ancova(raw)
    assert r.estimate == pytest.approx(a.ancova(parallel_study).estimate, abs=1e-4)
    with pytest.raises(DatasetError, match="missing column\\(s\\) baseline"):
        a.ancova(parallel_study.drop(columns=["baseline"]))
    with pytest.raises(DatasetError, match="no rows"):
        a.paired_difference(parallel_study.iloc[:0])
    with pytest.raises(DatasetError, match="pandas DataFrame"):
        a.ancova([1, 2, 3])


def test_wilcoxon_gives_no_interval_for_fewer_than_six_pairs(split_study):
    at12 = split_study[(split_study.visit_week == 12) & split_study.value.notna()].groupby("subject").size()
    five = split_study[split_study.subject.isin(at12[at12 == 2].index[:5])]
    r = a.wilcoxon_signed_rank(five, visit_week=12)
    assert r.n == 5 and r.ci == (None, None) and "too few pairs (5)" in r.note and r.p_value is not None


def test_split_scalp_counts_halves_per_arm_and_pairs_overall(split_study):
    r = a.paired_difference(split_study, visit_week=48)
    last = split_study[split_study.visit_week == 48]
    for c in r.counts:
        halves = last[last.side_arm == c.arm]
        assert c.n_in_set == 50 and c.n_analysed == halves.value.notna().sum()
    measured = last[last.value.notna()].groupby("subject").size()
    assert r.n == (measured == 2).sum() and r.n_missing == 50 - r.n


def test_the_docstring_examples_hold():
    import doctest

    result = doctest.testmod(a)
    assert result.failed == 0 and result.attempted > 0


# --- more than two arms ----------------------------------------------------------------------

THREE_ARM_EFFECTS = {"placebo": 0.0, "exosome injection": 12.0, "exosome micro-needling": 6.0}


def three_arm_study(n_per_arm=60, *, seed=11, effects=THREE_ARM_EFFECTS, weeks=(12, 24)) -> pd.DataFrame:
    """A parallel study with a placebo and two active arms whose true effects at the last visit
    (change from baseline, active minus placebo, hairs/cm²) are ``effects``."""
    rng = np.random.default_rng(seed)
    rows = []
    for a_index, (arm, effect) in enumerate(effects.items()):
        for i in range(n_per_arm):
            subject = f"S{a_index}-{i:03d}"
            baseline = rng.normal(150, 20)
            person = rng.normal(0, 6)
            for w in weeks:
                change = 2.0 + effect * w / weeks[-1] + 0.15 * (baseline - 150) + person + rng.normal(0, 4)
                rows.append({"study": "THREE", "design": "parallel", "subject": subject, "site": "a", "sex": "F",
                             "arm": arm, "side": "", "side_arm": "", "visit_week": w, "endpoint": "density_per_cm2",
                             "value": baseline + change, "baseline": baseline, "itt": True, "per_protocol": True,
                             "unblinded": False})
    return pd.DataFrame(rows)


def test_each_active_arm_against_placebo_recovers_the_known_effects():
    res = a.ancova_against_control(three_arm_study())
    assert res.control == "placebo" and res.visit_week == 24 and res.n == 180
    got = {c.effect.contrast: c for c in res.contrasts}
    assert set(got) == {"exosome injection - placebo", "exosome micro-needling - placebo"}
    for arm in ("exosome injection", "exosome micro-needling"):
        c = got[f"{arm} - placebo"]
        assert c.effect.ci[0] < THREE_ARM_EFFECTS[arm] < c.effect.ci[1]
        assert c.ci_simultaneous[0] < c.effect.ci[0] and c.ci_simultaneous[1] > c.effect.ci[1]  # wider
        assert c.p_adjusted >= c.effect.p_value and c.p_adjusted < 0.05
        assert c.effect.n == 120 and c.effect.n_missing == 0
    assert got["exosome injection - placebo"].effect.estimate == pytest.approx(12.0, abs=2.5)
    assert got["exosome micro-needling - placebo"].effect.estimate == pytest.approx(6.0, abs=2.5)
    assert "Holm" in res.adjustment and json.loads(res.to_json())["contrasts"][0]["p_adjusted"] is not None


def test_each_arm_against_control_equals_statsmodels_ols_with_arm_as_a_factor():
    df = three_arm_study(n_per_arm=25, seed=3)
    res = a.ancova_against_control(df, visit_week=24)
    at = df[df["visit_week"] == 24].assign(change=lambda d: d["value"] - d["baseline"])
    fit = smf.ols("change ~ C(arm, Treatment('placebo')) + baseline", data=at).fit()
    ci = fit.conf_int(alpha=0.05)
    ci_bonferroni = fit.conf_int(alpha=0.05 / 2)
    raw = []
    for c in res.contrasts:
        arm = c.effect.contrast.split(" - ")[0]
        name = f"C(arm, Treatment('placebo'))[T.{arm}]"
        assert c.effect.estimate == pytest.approx(fit.params[name], abs=1e-9)
        assert c.effect.ci == pytest.approx(tuple(ci.loc[name]), abs=1e-9)
        assert c.effect.p_value == pytest.approx(fit.pvalues[name], rel=1e-9)
        assert c.ci_simultaneous == pytest.approx(tuple(ci_bonferroni.loc[name]), abs=1e-9)
        raw.append(fit.pvalues[name])
    from statsmodels.stats.multitest import multipletests

    expected = multipletests(raw, method="holm")[1]
    assert [c.p_adjusted for c in res.contrasts] == pytest.approx(list(expected), rel=1e-12)


def test_with_two_arms_it_is_the_ancova(parallel_study):
    two = a.ancova_against_control(parallel_study)
    one = a.ancova(parallel_study)
    assert two.contrasts[0].effect.estimate == pytest.approx(one.estimate, abs=1e-9)
    assert two.contrasts[0].effect.ci == pytest.approx(one.ci, abs=1e-9)
    assert two.contrasts[0].p_adjusted == pytest.approx(one.p_value, rel=1e-12)


def test_holm_adjustment():
    assert a.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert a.holm([0.5, None, 0.001])[1] is None and a.holm([0.5, None, 0.001])[2] == pytest.approx(0.002)
    assert a.holm([0.9, 0.8]) == [1.0, 1.0] and a.holm([0.2, 0.3]) == pytest.approx([0.4, 0.4])  # capped, monotone


def test_each_arm_against_control_refuses_what_it_cannot_answer(split_study):
    with pytest.raises(DatasetError, match="parallel"):
        a.ancova_against_control(split_study)
    df = three_arm_study(n_per_arm=5).replace({"arm": {"placebo": "saline"}})
    with pytest.raises(DatasetError, match="name the control"):
        a.ancova_against_control(df)
    assert a.ancova_against_control(df, control="saline").control == "saline"


def test_active_arms_against_each_other_recover_the_known_difference():
    res = a.ancova_between_active_arms(three_arm_study())
    assert res.control == "placebo" and res.visit_week == 24 and res.n == 180
    assert [c.effect.contrast for c in res.contrasts] == ["exosome injection - exosome micro-needling"]
    c = res.contrasts[0]
    known = THREE_ARM_EFFECTS["exosome injection"] - THREE_ARM_EFFECTS["exosome micro-needling"]  # 6
    assert c.effect.ci[0] < known < c.effect.ci[1] and c.effect.estimate == pytest.approx(known, abs=2.5)
    assert c.effect.n == 120 and c.effect.n_missing == 0 and c.effect.df == 176
    # one comparison: its family adjustment changes nothing
    assert c.p_adjusted == pytest.approx(c.effect.p_value) and c.ci_simultaneous == pytest.approx(c.effect.ci)
    assert "between active arms" in res.adjustment and "1 comparison " in res.adjustment
    assert json.loads(res.to_json())["contrasts"][0]["effect"]["contrast"].startswith("exosome injection")


def test_active_arms_against_each_other_equal_a_refit_with_another_reference_arm():
    """Independent check: with an active arm as the reference of the factor, the coefficient of
    another active arm is their difference, with its own interval, p and Bonferroni interval;
    the Holm p-values come from statsmodels' multipletests."""
    effects = {"placebo": 0.0, "A injection": 12.0, "B micro-needling": 6.0, "C topical": 3.0}
    df = three_arm_study(n_per_arm=20, seed=5, effects=effects)
    res = a.ancova_between_active_arms(df, visit_week=24)
    assert [c.effect.contrast for c in res.contrasts] == [
        "A injection - B micro-needling", "A injection - C topical", "B micro-needling - C topical"]
    at = df[df["visit_week"] == 24].assign(change=lambda d: d["value"] - d["baseline"])
    raw = []
    for c in res.contrasts:
        first, second = c.effect.contrast.split(" - ")
        fit = smf.ols(f"change ~ C(arm, Treatment('{second}')) + baseline", data=at).fit()
        name = f"C(arm, Treatment('{second}'))[T.{first}]"
        assert c.effect.estimate == pytest.approx(fit.params[name], abs=1e-9)
        assert c.effect.ci == pytest.approx(tuple(fit.conf_int(alpha=0.05).loc[name]), abs=1e-9)
        assert c.ci_simultaneous == pytest.approx(tuple(fit.conf_int(alpha=0.05 / 3).loc[name]), abs=1e-9)
        assert c.effect.p_value == pytest.approx(fit.pvalues[name], rel=1e-9)
        assert c.effect.df == fit.df_resid == 80 - 5
        raw.append(fit.pvalues[name])
        known = effects[first] - effects[second]
        assert c.ci_simultaneous[0] < known < c.ci_simultaneous[1]
        assert c.effect.n == 40
    from statsmodels.stats.multitest import multipletests

    assert [c.p_adjusted for c in res.contrasts] == pytest.approx(list(multipletests(raw, method="holm")[1]),
                                                                  rel=1e-12)
    assert "3 comparisons" in res.adjustment
    # the comparisons with the control come from the same model: same residual degrees of freedom
    assert a.ancova_against_control(df, visit_week=24).df == res.df


def test_active_arms_against_each_other_refuse_what_they_cannot_answer(parallel_study, split_study):
    with pytest.raises(DatasetError, match="at least two"):
        a.ancova_between_active_arms(parallel_study)
    with pytest.raises(DatasetError, match="parallel"):
        a.ancova_between_active_arms(split_study)
    with pytest.raises(DatasetError, match="no visit at week 7"):
        a.ancova_between_active_arms(three_arm_study(n_per_arm=5), visit_week=7)


def test_active_arms_against_each_other_without_residual_spread_say_so():
    df = three_arm_study(n_per_arm=4)
    df["value"] = df["baseline"] + df["arm"].map({"placebo": 1.0, "exosome injection": 9.0,
                                                  "exosome micro-needling": 4.0})
    c = a.ancova_between_active_arms(df).contrasts[0]
    assert c.effect.estimate == pytest.approx(5.0) and c.effect.ci == (None, None) and c.p_adjusted is None
    assert "no residual spread" in c.effect.note
