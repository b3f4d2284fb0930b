"""A parallel study with three arms (exosome injection, exosome micro-needling, saline placebo):
the results compare each active arm with the placebo, and the active arms with each other, through
the evidence library, on the page, in the PDF, the CSV tables and the API, and recover the effects
the records were written with; the forest plot by sex has each active arm against the placebo."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import numpy as np
import pytest
from django.utils import timezone

from .conftest import CRITERIA, CONSENT_VERSION, sign_off

pytestmark = pytest.mark.django_db

ARMS3 = [{"code": "EI", "name": "Exosome injection", "is_placebo": False},
         {"code": "EM", "name": "Exosome micro-needling", "is_placebo": False},
         {"code": "PL", "name": "Saline placebo", "is_placebo": True}]
EFFECTS = {"EI": 20.0, "EM": 8.0, "PL": 0.0}  # change at week 23 against placebo, hairs/cm²
WEEKS = (4, 12, 23, 44, 58)


@pytest.fixture
def three_arm(statistician, clinician, unblinded_statistician, clinic, make_patient):
    """36 randomized subjects (men and women in turn) whose week-23 change is 2 + the arm's effect
    + noise (SD 3)."""
    from anagen.assessments.models import AssessmentVisit, Measurement
    from anagen.studies import services
    from anagen.studies.models import Allocation, Subject
    from anagen.studies.randomization import subject_randomize

    study = services.study_create(actor=statistician, title="Exosomes, three arms", sites=[clinic], arms=ARMS3,
                                  registry_id="ISRCTN00000003", target_enrolment=36,
                                  research_consent_version=CONSENT_VERSION, criteria=CRITERIA,
                                  primary_endpoint="Change in target-area density at week 23")
    services.member_add(actor=statistician, study=study, user=clinician, role="investigator")
    services.member_add(actor=statistician, study=study, user=unblinded_statistician, role="unblinded_statistician")
    study = sign_off(study, statistician, clinician)
    # A fixed allocation seed (a new study draws one with `secrets`), so the arms, and with them
    # the effects' confidence intervals, are the same on every run.
    from anagen.studies.models import RandomizationSecret

    RandomizationSecret.objects.filter(study=study).update(seed=20261203)
    rng = np.random.default_rng(7)
    anchor = timezone.localdate() - timedelta(days=420)
    for i in range(36):
        patient = (make_patient(clinic, sex="female", diagnosis="female_aga") if i % 2 else make_patient(clinic))
        subject = services.subject_enrol(actor=clinician, study=study, patient=patient)
        allocation = subject_randomize(actor=clinician, subject=subject)
        Allocation.objects.filter(pk=allocation.pk).update(
            randomized_at=timezone.make_aware(datetime.combine(anchor, time(10))))
        Subject.objects.filter(pk=subject.pk).update(
            screened_at=timezone.make_aware(datetime.combine(anchor - timedelta(days=1), time(10))))
        baseline = rng.normal(150, 15)
        person = rng.normal(0, 3)
        visits = {0: baseline}
        for w in WEEKS:
            visits[w] = baseline + (2.0 + EFFECTS[allocation.arm_code]) * w / 23 + person + rng.normal(0, 1)
        for w, value in visits.items():
            visit = AssessmentVisit.objects.create(patient=subject.patient, clinic=clinic,
                                                   visit_date=anchor + timedelta(days=7 * w), is_baseline=w == 0)
            Measurement.objects.create(visit=visit, hair_count=int(round(value * 100)), field_area_cm2=100.0)
    return study


def test_each_active_arm_is_compared_with_the_placebo_and_recovers_its_effect(three_arm):
    from anagen.studies.analysis_services import compute

    res = compute(three_arm, figures=False)
    assert res.against_control is not None and res.against_control.control == "Saline placebo"
    got = {c.effect.contrast: c for c in res.against_control.contrasts}
    assert set(got) == {"Exosome injection - Saline placebo", "Exosome micro-needling - Saline placebo"}
    for code, name in (("EI", "Exosome injection"), ("EM", "Exosome micro-needling")):
        c = got[f"{name} - Saline placebo"]
        assert c.effect.ci[0] < EFFECTS[code] < c.effect.ci[1], (name, c.effect)
        assert c.ci_simultaneous[0] <= c.effect.ci[0] and c.p_adjusted >= c.effect.p_value
    # The primary table is the joint model's contrasts, each noting its multiplicity adjustment.
    assert [e.contrast for e in res.primary.results] == [c.effect.contrast for c in res.against_control.contrasts]
    assert all("Holm-adjusted p" in e.note for e in res.primary.results)
    # Every arm in the CONSORT flow, the baseline table and the adverse events.
    assert [a.name for a in res.consort.arms] == ["Saline placebo", "Exosome injection", "Exosome micro-needling"]
    assert sum(a.allocated for a in res.consort.arms) == 36
    assert res.baseline["columns"] == ["Saline placebo", "Exosome injection", "Exosome micro-needling", "All subjects"]
    assert [r["arm"] for r in res.adverse_events["rows"]] == res.baseline["columns"][:3]
    # The mixed model over all visits, for each active arm.
    assert {e.contrast for e in res.supporting.effects} == set(got)


def test_the_page_pdf_csv_and_api_show_each_arm_against_the_placebo(three_arm, login, api_client,
                                                                    unblinded_statistician):
    client = login(unblinded_statistician)
    page = client.get(f"/studies/{three_arm.pk}/results/").content.decode()
    assert "Each active arm against Saline placebo" in page and "p (Holm)" in page
    assert "Exosome micro-needling - Saline placebo" in page and "Bonferroni" in page
    csv_text = client.get(f"/studies/{three_arm.pk}/results/effects.csv").content.decode()
    assert "Exosome injection - Saline placebo" in csv_text and "Holm-adjusted p" in csv_text
    pdf = client.get(f"/studies/{three_arm.pk}/results/report.pdf?uncompressed=1")
    from anagen.outcomes.tests.pdftext import pdf_text

    text = pdf_text(pdf.content)
    assert "Each active arm against Saline placebo" in text and "Exosome micro-needling" in text
    body = api_client(unblinded_statistician).get(f"/api/v1/studies/{three_arm.pk}/results").json()
    contrasts = body["against_control"]["contrasts"]
    assert len(contrasts) == 2 and all(c["p_adjusted"] is not None for c in contrasts)


def test_the_active_arms_are_compared_with_each_other_and_recover_their_difference(three_arm):
    from anagen.studies.analysis_services import compute

    res = compute(three_arm, figures=False)
    for between in (res.between_active, res.between_active_pp):
        assert between is not None and between.control == "Saline placebo"
        assert [c.effect.contrast for c in between.contrasts] == ["Exosome injection - Exosome micro-needling"]
    c = res.between_active.contrasts[0]
    known = EFFECTS["EI"] - EFFECTS["EM"]  # 12 hairs/cm² at week 23
    assert c.effect.ci[0] < known < c.effect.ci[1], c.effect
    assert c.ci_simultaneous[0] < known < c.ci_simultaneous[1]
    # The same model as the comparisons with the placebo: the difference of their estimates.
    against = {x.effect.contrast: x.effect.estimate for x in res.against_control.contrasts}
    assert c.effect.estimate == pytest.approx(against["Exosome injection - Saline placebo"]
                                              - against["Exosome micro-needling - Saline placebo"], abs=1e-9)
    assert c.effect.df == res.against_control.df and c.effect.visit_week == 23
    assert c.effect.n == sum(x.n_analysed for x in res.between_active.counts
                             if x.arm != "Saline placebo")
    assert "between active arms" in res.between_active.adjustment


def test_the_page_pdf_csv_and_api_show_the_active_arms_against_each_other(three_arm, login, api_client,
                                                                          unblinded_statistician):
    client = login(unblinded_statistician)
    page = client.get(f"/studies/{three_arm.pk}/results/").content.decode()
    assert "Active arms compared with each other" in page
    assert "Exosome injection - Exosome micro-needling" in page
    assert "Each active arm against Saline placebo, by sex" in page  # the forest plot's SVG, inline
    assert "Exosome micro-needling: sex F" in page
    csv_text = client.get(f"/studies/{three_arm.pk}/results/effects.csv").content.decode()
    rows = [r for r in csv_text.splitlines() if "Exosome injection - Exosome micro-needling" in r]
    assert len(rows) == 2 and all("Holm-adjusted p" in r for r in rows)  # ITT and per protocol
    from anagen.outcomes.tests.pdftext import pdf_text

    text = pdf_text(client.get(f"/studies/{three_arm.pk}/results/report.pdf?uncompressed=1").content)
    assert "Active arms compared with each other" in text
    body = api_client(unblinded_statistician).get(f"/api/v1/studies/{three_arm.pk}/results").json()
    for key in ("between_active_arms", "between_active_arms_per_protocol"):
        (contrast,) = body[key]["contrasts"]
        assert contrast["effect"]["contrast"] == "Exosome injection - Exosome micro-needling"
        assert contrast["p_adjusted"] is not None and contrast["ci_simultaneous"][0] is not None


def test_the_forest_plot_by_sex_has_each_active_arm_against_the_placebo(three_arm):
    from anagen.studies.analysis_services import compute

    res = compute(three_arm)
    assert "forest" in res.figures and not any("Forest plot" in p for p in res.problems)
    svg = res.figures["forest"].svg()
    for label in ("Exosome injection: all subjects", "Exosome injection: sex F", "Exosome injection: sex M",
                  "Exosome micro-needling: sex F", "Exosome micro-needling: sex M",
                  "Each active arm against Saline placebo, by sex"):
        assert label in svg, label
    png = res.figures["forest"].png()
    assert png.startswith(b"\x89PNG") and len(png) > 10000
    from pathlib import Path

    out = Path(__file__).resolve().parents[3] / "test-artifacts" / "studies"
    out.mkdir(parents=True, exist_ok=True)
    (out / "forest_three_arms.png").write_bytes(png)

