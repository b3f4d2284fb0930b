"""The demo's completed split-scalp micrograft study (issue item 11): built once for the module
through the demo builder's own function (clinics, staff and this study only; the whole demo is
too slow for a test), then checked as its users would meet it: locked, analysed, read blind,
and still blind where it must be.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test.utils import override_settings

from anagen.demo.split_study import READ_SUBJECTS, REGISTRY_ID, TRUE_EFFECT, simulated_values

from .test_blinding import leaks

pytestmark = pytest.mark.django_db

SEED = 2026


@pytest.fixture(scope="module")
def demo_study(django_db_setup, django_db_blocker, tmp_path_factory):
    from anagen.demo.builder import load_split_scalp_study

    media = tmp_path_factory.mktemp("demo-study-media")
    with django_db_blocker.unblock(), override_settings(
            MEDIA_ROOT=str(media), PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        with transaction.atomic():
            load_split_scalp_study(seed=SEED, log=lambda _: None)
            yield str(media)
            transaction.set_rollback(True)


@pytest.fixture
def study(demo_study, settings):
    from anagen.studies.models import Study

    settings.MEDIA_ROOT = demo_study  # the coded images lie where the module's demo put them

    return Study.objects.get(registry_id=REGISTRY_ID)


def _user(email):
    from anagen.accounts.models import User

    return User.objects.get(email=email)


def test_the_study_is_a_locked_split_scalp_study_with_thirty_subjects_at_both_clinics(study):
    from anagen.studies import lock

    assert study.design == "split_scalp" and lock.is_locked(study)
    version = study.versions.get()
    assert version.is_approved
    assert set(version.signatures.values_list("meaning", "signer__email")) == {
        ("statistical_approval", "statistician@anagen.example"), ("clinical_approval", "clinician@anagen.example")}
    randomized = study.subjects.filter(allocation__isnull=False)
    assert randomized.count() == 30
    assert set(randomized.values_list("site__slug", flat=True)) == {"birmingham", "solihull"}
    assert study.subjects.filter(status="screen_failed").count() == 2
    for subject in randomized:
        assert subject.consent.kind == "research" and subject.eligibility["decision"] == "eligible"
    evaluators = set(study.members.filter(role="evaluator").values_list("user__email", flat=True))
    assert evaluators == {"evaluator@anagen.example", "evaluator2@anagen.example"}
    # The last visit of the 58 weeks lies in the past, and so does the lock.
    event = lock.last_event(study)
    assert event.by.email == "statistician@anagen.example"


def test_the_allocations_follow_the_recorded_seed(study):
    from anagen.evidence.randomization import verify_sequence
    from anagen.studies.randomization import _spec

    allocations = list(study.allocations.select_related("subject").order_by("sequence_number"))
    spec = _spec(study, study.versions.get().content)
    assert verify_sequence(spec, [(a.subject.factors, a.arm_code) for a in allocations]) == []
    assert {a.arm_code for a in allocations} == {"L", "R"}


def test_the_records_hold_the_simulated_values_on_the_randomized_sides(study):
    from anagen.studies.datasets import build

    data = build(study)
    simulated = simulated_values(SEED + 6, 30)
    frame = data.frame[data.frame["visit_week"] == 23].set_index(["subject", "side"])
    checked = read_values = 0
    for n, allocation in enumerate(study.allocations.select_related("subject").order_by("sequence_number")):
        active = "left" if allocation.arm_code == "L" else "right"
        for side in ("left", "right"):
            row = frame.loc[(allocation.subject.code, side)]
            truth = simulated[n]["active" if side == active else "control"]
            assert row["side_arm"] == ("Hair-follicle micrografts" if side == active else "Saline (placebo)")
            # A half whose photograph was read blind carries the readers' count (the drawn density
            # give or take the counter's error); every other value is the simulated one.
            read_base = row["baseline_source"] != "clinic measurement"
            assert row["baseline"] == pytest.approx(truth[0], rel=0.25 if read_base else 1e-6)
            if row["value"] == row["value"]:  # not missing
                read = row["value_source"] != "clinic measurement"
                assert row["value"] == pytest.approx(truth[1][23], rel=0.25 if read else 1e-6)
                checked += 1
                read_values += read + read_base
    assert checked == 2 * 29  # one subject withdrew before week 23
    assert read_values == 8  # the left halves of four subjects, at baseline and week 23


def test_the_primary_analysis_recovers_the_simulated_effect_and_equals_the_evidence_library(study):
    from anagen.evidence import analysis
    from anagen.studies.analysis_services import compute
    from anagen.studies.datasets import build

    res = compute(study, figures=False)
    assert res.problems == [] and not res.interim
    effect = res.effect
    assert effect.visit_week == 23 and effect.n == 29
    assert effect.ci[0] < TRUE_EFFECT[23] < effect.ci[1]
    assert effect.ci[0] > 0  # the study shows the effect it was simulated with
    data = build(study)
    reference = analysis.primary_analysis(data.frame, visit_week=23, active="Hair-follicle micrografts",
                                          control="Saline (placebo)", endpoint="density_per_cm2").results[0]
    assert effect.estimate == pytest.approx(reference.estimate, abs=1e-9)
    assert effect.ci == pytest.approx(reference.ci, abs=1e-9)
    assert effect.p_value == pytest.approx(reference.p_value, abs=1e-9)


def test_consort_counts_one_withdrawal_and_the_listing_flags_the_code_break(study):
    from auditlog.models import LogEntry

    from anagen.studies.analysis_services import compute
    from anagen.studies.models import CodeBreak

    res = compute(study, figures=False)
    consort = res.consort
    assert consort.assessed == 32 and sum(consort.excluded.values()) == 2 and consort.randomized == 30
    assert consort.participants_lost == {"withdrawn": 1} and consort.participants_analysed == 29
    for arm in consort.arms:
        assert arm.allocated == 30 and sum(arm.discontinued.values()) == 1 and arm.analysed == 29
        # Every half's baseline syringe was given: received per side, from the study syringes.
        assert arm.received == 30 and arm.not_received == {}
    assert {r.received_rule for r in res.data.subjects} == {"syringe"}
    (cb,) = CodeBreak.objects.filter(subject__study=study)
    assert len(cb.reason) > 20 and cb.broken_by.email.startswith("clinician")
    assert LogEntry.objects.get_for_object(cb).get().actor == cb.broken_by
    kinds = {(row["subject"], row["kind"]) for row in res.listing}
    assert (cb.subject.code, "Emergency code-break") in kinds
    assert sum(1 for _, k in kinds if k == "Withdrawn") == 1
    assert sum(1 for _, k in kinds if k == "Visit outside every protocol window") >= 2
    assert any(k.startswith("Protocol deviation: Procedure") for _, k in kinds)
    assert res.data.frame.groupby("subject")["unblinded"].any().sum() == 1


def test_queries_were_answered_and_closed_and_the_audit_trail_names_the_actors(study):
    from auditlog.models import LogEntry

    from anagen.studies.models import DataQuery, SideMeasurement

    queries = list(DataQuery.objects.filter(study=study))
    assert len(queries) >= 2 and all(q.status == "closed" and q.answer for q in queries)
    corrected = SideMeasurement.objects.filter(subject__study=study)
    changed = [m for m in corrected if LogEntry.objects.get_for_object(m).filter(action=LogEntry.Action.UPDATE)]
    assert len(changed) == 1  # the mistyped value, corrected after the query
    entries = LogEntry.objects.get_for_objects(corrected)
    assert entries.exists() and not entries.filter(actor__isnull=True).exists()


def test_two_evaluators_signed_blinded_readings_and_the_agreement_table_is_filled(study, client):
    from anagen.studies.models import CodedImage
    from anagen.studies.reading_selectors import agreement_of

    coded = list(CodedImage.objects.filter(study=study))
    assert len(coded) == 2 * READ_SUBJECTS
    for c in coded:
        readers = set(c.readings.filter(status="signed").values_list("reader__email", flat=True))
        assert readers == {"evaluator@anagen.example", "evaluator2@anagen.example"}
    agreement = agreement_of(study)
    assert agreement.error == "" and agreement.icc is not None and len(agreement.pairs) == len(coded)
    evaluator = _user("evaluator@anagen.example")
    client.force_login(evaluator, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/studies/reading/").status_code == 200
    assert client.get(f"/studies/reading/{coded[0].code}/").status_code == 200
    assert client.get(f"/studies/reading/{coded[0].code}/image.png").status_code == 200


def test_the_statistician_sees_the_results_consort_and_report(study, client):
    statistician = _user("statistician@anagen.example")
    client.force_login(statistician, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(f"/studies/{study.pk}/results/")
    assert page.status_code == 200 and b"INTERIM" not in page.content
    assert b"Hair-follicle micrografts" in page.content
    svg = client.get(f"/studies/{study.pk}/results/consort.svg")
    assert svg.status_code == 200 and svg["Content-Type"].startswith("image/svg")
    pdf = client.get(f"/studies/{study.pk}/results/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(f"/studies/{study.pk}/agreement").status_code == 200


@pytest.mark.parametrize("email", ["evaluator@anagen.example", "evaluator2@anagen.example",
                                   "coordinator@anagen.example", "clinician2@anagen.example"])
def test_no_blinded_member_of_the_demo_study_sees_an_arm_or_side(study, email, client, api_client):
    # After the lock the results and the full exports (dataset, dictionary, ODM) are open to
    # the investigators by design (the lock unblinds the analysis: analysis_services.export_full);
    # everything else must stay blind, for every subject whose code is intact.
    user = _user(email)
    subject = (study.subjects.filter(allocation__isnull=False, unblinded_at__isnull=True, site__slug="solihull")
               .select_related("allocation").order_by("code").first())
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    found = leaks(client, api_client(user), study, subject, subject.allocation,
                  skip=lambda url: "/results" in url or (email.startswith("clinician")
                                                          and url.endswith(("dataset.csv", "dictionary.csv", "odm.xml"))))
    assert found == []
