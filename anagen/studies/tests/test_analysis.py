"""Study results from the records (issue item 9): a simulated study with a known effect is
written through the models; the dataset built from the records must give the evidence library's
own numbers for the simulated data, recover the effect within its interval, and count the
CONSORT boxes as the records say."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from conftest import PASSWORD

from .conftest import ARMS, sign_off

pytestmark = pytest.mark.django_db

WEEKS = (4, 12, 23, 44, 58)
EFFECT = 30.0  # at week 58, reached linearly
EFFECT_23 = EFFECT * 23 / 58  # the primary visit (the protocol's "week 23")


def write_study(study, clinician, make_patient, clinic, *, n=16, seed=5, ended=(), no_values=()):
    """Enrol and randomize ``n`` patients, then write a simulated study's values through the models
    (visits on the protocol's target dates from a randomization 420 days ago). Returns the
    simulated rows actually written, renamed to the subjects' codes and the arms' names."""
    from anagen.assessments.models import AssessmentVisit, Measurement
    from anagen.evidence.simulate import simulate_study
    from anagen.studies import services
    from anagen.studies.models import Allocation, SideMeasurement, Subject
    from anagen.studies.randomization import subject_randomize

    split = study.design == "split_scalp"
    sim = simulate_study(design="split-scalp" if split else "parallel", n_per_arm=n, arms=("placebo", "active"),
                         visit_weeks=WEEKS, effect=EFFECT, control_change=2.0, sd_change=8.0, sd_measurement=2.0,
                         dropout=0.0, deviation=0.0, n_sites=1, seed=seed)
    names = {"placebo": next(a["name"] for a in ARMS if a["is_placebo"]),
             "active": next(a["name"] for a in ARMS if not a["is_placebo"])}
    pool = {arm: list(sim[sim["arm"] == arm]["subject"].unique()) for arm in ("placebo", "active")}
    sims = list(sim["subject"].unique())
    anchor = timezone.localdate() - timedelta(days=420)
    written = []
    for i in range(n):
        subject = services.subject_enrol(actor=clinician, study=study, patient=make_patient(clinic))
        allocation = subject_randomize(actor=clinician, subject=subject)
        Allocation.objects.filter(pk=allocation.pk).update(
            randomized_at=timezone.make_aware(datetime.combine(anchor, time(10))))
        Subject.objects.filter(pk=subject.pk).update(screened_at=timezone.make_aware(
            datetime.combine(anchor - timedelta(days=1), time(10))))
        if split:
            code = sims[i]
            rows = sim[sim["subject"] == code].copy()
            sim_active = rows[rows["side_arm"] == "active"]["side"].iloc[0]
            real_active = "left" if allocation.arm_code == "L" else "right"
            if sim_active != real_active:  # the halves are exchangeable: put the active one where it went
                rows["side"] = rows["side"].map({"left": "right", "right": "left"})
        else:
            arm = "active" if allocation.arm_code == "MG" else "placebo"
            code = pool[arm].pop(0)
            rows = sim[sim["subject"] == code].copy()
        rows["subject"] = subject.code
        rows["arm"] = rows["arm"].map(lambda a: names.get(a, a))
        rows["side_arm"] = rows["side_arm"].map(lambda a: names.get(a, a))
        for c in ("value", "baseline"):
            rows[c] = rows[c].round(2)
        if subject.code in no_values:
            rows["value"] = np.nan
        patient = subject.patient
        base = AssessmentVisit.objects.create(patient=patient, clinic=clinic, visit_date=anchor, is_baseline=True)
        visits = {0: base}
        for w in WEEKS:
            visits[w] = AssessmentVisit.objects.create(patient=patient, clinic=clinic,
                                                       visit_date=anchor + timedelta(days=7 * w))
        units = [("", rows)] if not split else [(s, rows[rows["side"] == s]) for s in ("left", "right")]
        for side, unit in units:
            baseline = float(unit["baseline"].iloc[0])
            values = {0: baseline, **{int(r.visit_week): r.value for r in unit.itertuples()}}
            for w, value in values.items():
                if pd.isna(value):
                    continue
                if split:
                    SideMeasurement.objects.create(subject=subject, visit=visits[w], side=side, density_per_cm2=value,
                                                   recorded_by=clinician, recorded_at=timezone.now())
                else:
                    Measurement.objects.create(visit=visits[w], hair_count=int(round(value * 100)), field_area_cm2=100.0)
        if subject.code in ended:
            services.subject_end(actor=clinician, subject=subject, status="lost_to_follow_up",
                                 on=anchor + timedelta(days=30), reason="Moved abroad")
        written.append(rows)
    return pd.concat(written, ignore_index=True)


@pytest.fixture
def split_study(team, statistician, clinician, unblinded_statistician):
    from anagen.studies import services

    services.study_update(actor=statistician, study=team, design="split_scalp")
    services.member_add(actor=statistician, study=team, user=unblinded_statistician, role="unblinded_statistician")
    return sign_off(team, statistician, clinician)


def _same(a, b):
    assert a.estimate == pytest.approx(b.estimate, abs=1e-9)
    assert a.ci[0] == pytest.approx(b.ci[0], abs=1e-9) and a.ci[1] == pytest.approx(b.ci[1], abs=1e-9)
    assert a.p_value == pytest.approx(b.p_value, rel=1e-9, abs=1e-12)
    assert (a.n, a.n_missing) == (b.n, b.n_missing)


def test_parallel_study_recovers_the_effect_and_equals_the_library(quality_team, clinician, make_patient, clinic,
                                                                  unblinded_statistician):
    from anagen.evidence import analysis
    from anagen.studies.analysis_services import results_for

    expected = write_study(quality_team, clinician, make_patient, clinic, n=16, no_values=("S-003",))
    res = results_for(user=unblinded_statistician, study=quality_team)
    assert res.interim and res.problems == []
    effect = res.effect
    assert effect.method.startswith("ANCOVA")
    assert effect.ci[0] < EFFECT_23 < effect.ci[1]
    reference = analysis.ancova(expected, visit_week=23, active="Micrograft suspension", control="Saline placebo")
    _same(effect, reference)
    assert effect.n == 15 and effect.n_missing == 1
    by_visit = analysis.change_by_visit(expected)
    assert [(r.arm, r.visit_week, r.n) for r in res.change.rows] == [(r.arm, r.visit_week, r.n) for r in by_visit.rows]
    assert res.supporting.effects[-1].visit_week == 58
    assert {"consort", "mean_change", "spaghetti", "forest"} <= set(res.figures)
    # two arms: no joint model over several active arms, no comparison between active arms
    assert res.against_control is None and res.between_active is None and res.between_active_pp is None


def test_split_scalp_study_recovers_the_effect_and_equals_the_library(split_study, clinician, make_patient, clinic,
                                                                     unblinded_statistician):
    from anagen.evidence import analysis
    from anagen.studies.analysis_services import results_for

    expected = write_study(split_study, clinician, make_patient, clinic, n=12)
    res = results_for(user=unblinded_statistician, study=split_study, figures=False)
    paired, wilcoxon = res.primary.results
    assert paired.ci[0] < EFFECT_23 < paired.ci[1]
    kw = dict(visit_week=23, active="Micrograft suspension", control="Saline placebo")
    _same(paired, analysis.paired_difference(expected, **kw))
    _same(wilcoxon, analysis.wilcoxon_signed_rank(expected, **kw))
    counts = res.consort
    assert counts.randomized == 12 and [a.allocated for a in counts.arms] == [12, 12]
    assert counts.participants_analysed == 12


def test_consort_counts_equal_the_records(quality_team, clinician, make_patient, clinic, unblinded_statistician):
    from anagen.studies import services
    from anagen.studies.analysis_services import results_for

    write_study(quality_team, clinician, make_patient, clinic, n=8, ended=("S-002",), no_values=("S-002",))
    services.subject_screen_fail(actor=clinician, study=quality_team, patient=make_patient(clinic, age=80))
    services.subject_enrol(actor=clinician, study=quality_team, patient=make_patient(clinic))  # not randomized
    res = results_for(user=unblinded_statistician, study=quality_team, figures=False)
    c = res.consort
    assert c.assessed == 10 and c.randomized == 8 and sum(c.excluded.values()) == 2
    assert "Enrolled, not randomized" in c.excluded
    assert sum(a.allocated for a in c.arms) == 8
    assert sum(a.analysed for a in c.arms) == 7
    assert sum(sum(a.lost.values()) for a in c.arms) == 1
    assert all(a.received == 0 for a in c.arms)  # no procedure recorded: nobody shown as treated
    assert any(row["kind"] == "Lost to follow-up" and row["subject"] == "S-002" for row in res.listing)


def test_results_are_for_the_unblinded_statistician_until_the_lock(randomized_subject, statistician, clinician,
                                                                   evaluator, pharmacist, coordinator,
                                                                   unblinded_statistician, stranger):
    from django.core.exceptions import PermissionDenied

    from anagen.core.errors import NotFound
    from anagen.studies.analysis_services import can_see_results, results_for
    from anagen.core.errors import ActionError, Conflict
    from anagen.studies.lock import analysis_unblind, study_lock, study_unlock

    study = randomized_subject.study
    assert can_see_results(unblinded_statistician, study)
    for user in (statistician, clinician, evaluator, pharmacist, coordinator):
        with pytest.raises(PermissionDenied):
            results_for(user=user, study=study)
    with pytest.raises(NotFound):
        results_for(user=stranger, study=study)
    with pytest.raises(Conflict):  # the analysis is unblinded on a locked database only
        analysis_unblind(actor=statistician, study=study, password=PASSWORD)
    event = study_lock(actor=statistician, study=study, password=PASSWORD)
    # Locked, not yet released: still closed to the blinded team, with what opens it.
    assert not can_see_results(statistician, study) and not can_see_results(clinician, study)
    with pytest.raises(PermissionDenied, match="signs the unblinding of the analysis"):
        results_for(user=clinician, study=study)
    for user in (clinician, evaluator, coordinator):  # the study's statisticians sign it
        with pytest.raises(PermissionDenied):
            analysis_unblind(actor=user, study=study, password=PASSWORD)
    with pytest.raises(ActionError):
        analysis_unblind(actor=statistician, study=study, password="wrong")
    analysis_unblind(actor=statistician, study=study, password=PASSWORD)
    event.refresh_from_db()
    assert event.unblinded_by == statistician and event.unblinded_at is not None
    from auditlog.models import LogEntry

    assert any("unblinded_at" in e.changes_dict and e.actor == statistician
               for e in LogEntry.objects.get_for_object(event))
    with pytest.raises(Conflict):
        analysis_unblind(actor=statistician, study=study, password=PASSWORD)
    assert can_see_results(statistician, study) and can_see_results(clinician, study)
    assert not results_for(user=statistician, study=study, figures=False).interim
    for user in (evaluator, pharmacist, coordinator):
        assert not can_see_results(user, study)
    # An unlock closes them again; a new lock needs a new signed unblinding.
    study_unlock(actor=statistician, study=study, password=PASSWORD, reason="A late value to correct for S-001.")
    assert not can_see_results(statistician, study) and can_see_results(unblinded_statistician, study)
    study_lock(actor=statistician, study=study, password=PASSWORD)
    assert not can_see_results(clinician, study)
    analysis_unblind(actor=unblinded_statistician, study=study, password=PASSWORD)
    assert can_see_results(clinician, study)
