"""Blinded results tables (issue item 10): the per-table CSVs follow the dataset export's rule.
Whoever may see the results gets them by arm; the blinded study statistician (and the
investigators) before the lock get them pooled, with no arm, unchanged when an arm changes; the
analyses (a comparison of the arms) not at all; every other role 403."""

from __future__ import annotations

import csv
import io

import pytest

from .test_analysis import split_study, write_study  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

POOLED_TABLES = ("baseline", "change", "adverse-events", "listing")
ARM_NAMES = ("Saline placebo", "Micrograft suspension")


def _get(client, study, table):
    return client.get(f"/studies/{study.pk}/results/{table}.csv")


def _rows(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def _swap_every_arm(study):
    from anagen.studies.models import Allocation

    codes = {a.arm_code for a in Allocation.objects.filter(study=study)} | (
        {"L", "R"} if study.design == "split_scalp" else set(study.arms.values_list("code", flat=True)))
    first, second = sorted(codes)[:2]
    for allocation in Allocation.objects.filter(study=study):
        Allocation.objects.filter(pk=allocation.pk).update(arm_code=second if allocation.arm_code == first else first)


@pytest.fixture
def parallel(quality_team, clinician, make_patient, clinic):
    write_study(quality_team, clinician, make_patient, clinic, n=8)
    return quality_team


@pytest.fixture
def split(split_study, clinician, make_patient, clinic):
    write_study(split_study, clinician, make_patient, clinic, n=6)
    return split_study


@pytest.mark.parametrize("design", ["parallel", "split"])
def test_blinded_members_get_pooled_tables_that_do_not_change_with_the_arms(design, request, login, statistician,
                                                                            clinician):
    from anagen.studies.deviations import MASKED, deviation_report
    from anagen.studies.models import Subject

    study = request.getfixturevalue(design)
    subject = Subject.objects.get(study=study, code="S-001")
    deviation_report(actor=clinician, subject=subject, category="wrong_treatment",
                     description="Given the placebo syringe by mistake", reveals_allocation=True)
    client = login(statistician)
    before = {}
    for table in POOLED_TABLES:
        r = _get(client, study, table)
        assert r.status_code == 200, table
        assert "-blinded-" in r["Content-Disposition"]
        text = r.content.decode()
        for name in ARM_NAMES:
            assert name not in text, (table, name)
        assert "arm" not in _rows(r)[0]
        before[table] = r.content
    rows = {t: _rows(_get(client, study, t)) for t in POOLED_TABLES}
    assert rows["baseline"][0] == ["characteristic", "All subjects"]
    assert rows["baseline"][1] == ["Subjects", str(8 if design == "parallel" else 6)]
    units = 8 if design == "parallel" else 12  # split-scalp: the halves, pooled
    assert [(r[0], r[2]) for r in rows["change"][1:]] == [("All subjects", str(units))] * 5
    assert any(r[0] == "S-001" and r[2] == MASKED for r in rows["listing"])
    assert "placebo syringe" not in before["listing"].decode()
    assert _get(client, study, "effects").status_code == 403
    _swap_every_arm(study)
    for table in POOLED_TABLES:
        assert _get(client, study, table).content == before[table], table


def test_the_pooled_change_is_the_evidence_library_over_all_subjects(parallel, login, statistician):
    from anagen.evidence import analysis
    from anagen.studies.datasets import build

    frame = build(parallel).frame.assign(arm="All subjects")
    expected = analysis.change_by_visit(frame).rows
    rows = _rows(_get(login(statistician), parallel, "change"))[1:]
    assert [float(r[4]) for r in rows] == pytest.approx([r.mean for r in expected], abs=1e-4)


def test_the_unblinded_get_tables_by_arm_and_other_roles_none(parallel, login, unblinded_statistician, evaluator,
                                                              coordinator, pharmacist):
    r = _get(login(unblinded_statistician), parallel, "baseline")
    assert r.status_code == 200 and "-interim-" in r["Content-Disposition"]
    assert all(name in r.content.decode() for name in ARM_NAMES)
    for user in (evaluator, coordinator, pharmacist):
        for table in (*POOLED_TABLES, "effects"):
            assert _get(login(user), parallel, table).status_code == 403, (user, table)


def test_the_exports_page_offers_the_pooled_tables_to_blinded_members(parallel, login, statistician,
                                                                     unblinded_statistician):
    page = login(statistician).get(f"/studies/{parallel.pk}/exports").content.decode()
    assert f"/studies/{parallel.pk}/results/change.csv" in page
    assert f"/studies/{parallel.pk}/results/effects.csv" not in page
    page = login(unblinded_statistician).get(f"/studies/{parallel.pk}/exports").content.decode()
    assert f"/studies/{parallel.pk}/results/effects.csv" in page
