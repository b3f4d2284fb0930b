"""Pages of data quality, the lock and the results: who may open them, what they show."""

from __future__ import annotations

import re

import pytest

from conftest import PASSWORD

from .test_analysis import split_study, write_study  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

RESULT_PAGES = ["results/", "results/report.pdf", "results/consort.svg", "results/consort.png"]


@pytest.fixture
def written(quality_team, clinician, make_patient, clinic):
    write_study(quality_team, clinician, make_patient, clinic, n=8)
    return quality_team


def test_results_page_shows_interim_analysis_to_the_unblinded_statistician(written, login, unblinded_statistician):
    client = login(unblinded_statistician)
    r = client.get(f"/studies/{written.pk}/results/")
    assert r.status_code == 200
    text = r.content.decode()
    assert "INTERIM" in text and "ANCOVA" in text and "CONSORT flow" in text
    assert "Saline placebo" in text and "Micrograft suspension" in text
    assert text.count("<svg") >= 4  # CONSORT, mean change, spaghetti, forest
    assert "Reader agreement" in text and "at least 2 images read twice" in text  # no double readings yet
    svg = client.get(f"/studies/{written.pk}/results/consort.svg")
    assert svg["Content-Type"] == "image/svg+xml" and "Randomized (n=8)" in svg.content.decode()
    png = client.get(f"/studies/{written.pk}/results/consort.png")
    assert png.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("persona", ["evaluator", "statistician", "clinician", "pharmacist", "coordinator"])
def test_blinded_and_other_roles_get_403_on_results_before_the_lock(written, login, persona, request):
    client = login(request.getfixturevalue(persona))
    for page in RESULT_PAGES:
        assert client.get(f"/studies/{written.pk}/{page}").status_code == 403, (persona, page)


def test_results_open_to_the_study_statistician_after_the_lock_not_to_the_evaluator(written, login, statistician,
                                                                                     evaluator):
    from anagen.studies.lock import study_lock

    study_lock(actor=statistician, study=written, password=PASSWORD)
    r = login(statistician).get(f"/studies/{written.pk}/results/")
    assert r.status_code == 200 and "INTERIM" not in r.content.decode()
    assert login(evaluator).get(f"/studies/{written.pk}/results/").status_code == 403


def test_pdf_report(written, login, unblinded_statistician, tmp_path):
    r = login(unblinded_statistician).get(f"/studies/{written.pk}/results/report.pdf?uncompressed=1")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert "interim" in r["Content-Disposition"]
    from anagen.outcomes.tests.pdftext import pdf_text

    assert len(re.findall(rb"/Type /Page\b", r.content)) >= 2
    text = pdf_text(r.content)
    assert "INTERIM" in text and "Study report" in text and "ANCOVA" in text
    assert "CONSORT flow" in text and "Adverse events by arm" in text


def test_the_results_page_asks_for_the_report_in_the_background(written, login, unblinded_statistician,
                                                                statistician, evaluator):
    from anagen.audit.models import AuditEvent
    from anagen.jobs.models import PreparedFile

    client = login(unblinded_statistician)
    assert f"/studies/{written.pk}/results/report/prepare" in client.get(f"/studies/{written.pk}/results/").content.decode()
    r = client.post(f"/studies/{written.pk}/results/report/prepare")
    item = PreparedFile.objects.get()
    assert r.status_code == 302 and str(item.key) in r["Location"] and item.is_ready
    assert "Your document is ready" in client.get(r["Location"]).content.decode()
    dl = client.get(f"/jobs/documents/{item.key}/download")
    assert dl.status_code == 200 and b"".join(dl.streaming_content).startswith(b"%PDF")
    assert "interim" in dl["Content-Disposition"]
    assert AuditEvent.objects.get(kind="export").subject == f"study:{written.pk}"
    # The blinded statistician and the evaluator may not ask for it, nor fetch the one made.
    for persona in (statistician, evaluator):
        other = login(persona)
        assert other.post(f"/studies/{written.pk}/results/report/prepare").status_code == 403
        assert other.get(f"/jobs/documents/{item.key}/download").status_code == 404
    assert PreparedFile.objects.count() == 1


def test_dataset_export_full_blinded_and_refused(written, login, unblinded_statistician, statistician, evaluator,
                                                 coordinator):
    full = login(unblinded_statistician).get(f"/studies/{written.pk}/results/dataset.csv").content.decode()
    header = full.splitlines()[0].split(",")
    assert "arm" in header and "Saline placebo" in full and len(full.splitlines()) == 1 + 8 * 5
    blinded = login(statistician).get(f"/studies/{written.pk}/results/dataset.csv")
    assert "blinded" in blinded["Content-Disposition"]
    text = blinded.content.decode()
    assert "arm" not in text.splitlines()[0].split(",") and "placebo" not in text.lower()
    dictionary = login(statistician).get(f"/studies/{written.pk}/results/dictionary.csv").content.decode()
    assert "per_protocol" in dictionary and "side_arm" not in dictionary
    for user in (evaluator, coordinator):
        assert login(user).get(f"/studies/{written.pk}/results/dataset.csv").status_code == 403


def test_quality_page_query_sdv_lock_unlock(randomized_subject, login, statistician, clinician, evaluator):
    from anagen.studies.models import DataQuery, LockEvent

    study, subject = randomized_subject.study, randomized_subject
    url = f"/studies/{study.pk}/quality"
    assert login(evaluator).get(url).status_code == 403
    client = login(statistician)
    assert client.get(url).status_code == 200
    r = client.post(url, {"action": "raise", "subject": subject.pk, "data_point": "density at week 4",
                          "question": "Please confirm."})
    assert r.status_code == 302
    query = DataQuery.objects.get()
    r = client.post(url, {"action": "lock", "password": PASSWORD})
    assert r.status_code == 409 and "not closed" in r.content.decode()
    login(clinician).post(url, {"action": "answer", "query": query.pk, "answer": "Confirmed from the chart."})
    client = login(statistician)
    client.post(url, {"action": "close", "query": query.pk})
    client.post(url, {"action": "sdv", "subject": subject.pk, "data_point": "baseline density"})
    assert client.post(url, {"action": "lock", "password": "wrong"}).status_code == 400
    assert client.post(url, {"action": "lock", "password": PASSWORD}).status_code == 302
    page = client.get(url).content.decode()
    assert "Locked" in page and "baseline density" in page
    r = client.post(url, {"action": "unlock", "password": PASSWORD, "reason": ""})
    assert r.status_code == 400 and "Say why" in r.content.decode()
    client.post(url, {"action": "unlock", "password": PASSWORD, "reason": "Correct a mis-keyed week-4 value."})
    assert list(LockEvent.objects.order_by("at", "id").values_list("action", flat=True)) == ["lock", "unlock"]


def test_sample_size_page(quality_team, login, statistician, evaluator):
    url = f"/studies/{quality_team.pk}/sample-size"
    client = login(statistician)
    r = client.get(url, {"difference": 14.7, "sd": 25.4, "power": 0.8, "alpha": 0.05, "dropout": 0})
    assert r.status_code == 200
    from anagen.evidence.power import sample_size_parallel

    expected = sample_size_parallel(difference=14.7, sd=25.4)
    assert f"<strong>{expected.n_total}</strong>" in r.content.decode()
    assert client.get(url, {"difference": 0, "sd": 25.4, "power": 0.8, "alpha": 0.05, "dropout": 0}).status_code == 400
    assert client.get(url, {"difference": "x"}).status_code == 400
    assert login(evaluator).get(url).status_code == 403


def test_split_scalp_results_count_participants_and_halves(split_study, clinician, make_patient, clinic, login,
                                                           unblinded_statistician):
    write_study(split_study, clinician, make_patient, clinic, n=8)
    client = login(unblinded_statistician)
    text = client.get(f"/studies/{split_study.pk}/results/").content.decode()
    assert "paired" in text and "Wilcoxon" in text and "mixed model" in text
    assert "Baseline density, Saline placebo side" in text
    svg = client.get(f"/studies/{split_study.pk}/results/consort.svg").content.decode()
    assert "16 scalp halves" in svg and "halves=8" in svg and "Analysed as pairs n=8" in svg
    csv_text = client.get(f"/studies/{split_study.pk}/results/dataset.csv").content.decode()
    assert len(csv_text.splitlines()) == 1 + 8 * 2 * 5 and ",left," in csv_text


def test_results_are_cached_until_the_data_change(written, login, unblinded_statistician, monkeypatch, clinician):
    from datetime import timedelta

    from django.utils import timezone

    from anagen.studies import analysis_services
    from anagen.studies.models import Subject
    from anagen.treatments.models import AdverseEvent

    calls = []
    real = analysis_services.compute
    monkeypatch.setattr(analysis_services, "compute", lambda *a, **k: calls.append(1) or real(*a, **k))
    client = login(unblinded_statistician)
    url = f"/studies/{written.pk}/results/"
    first = client.get(url).content.decode()
    second = client.get(url).content.decode()
    assert len(calls) == 1 and second.count("<svg") == first.count("<svg") >= 4
    # a new adverse event changes the data: computed again, and shown
    subject = Subject.objects.filter(study=written).order_by("code").first()
    AdverseEvent.objects.create(patient=subject.patient, clinic=subject.site, description="Scalp erythema",
                                onset_on=timezone.localdate() - timedelta(days=300), severity=1, relation="possible")
    third = client.get(url).content.decode()
    with_event = re.compile(r"<td>1 \(\d+ %\)</td>")  # the adverse-event table's "with an event" cell
    assert len(calls) == 2 and with_event.search(third) and not with_event.search(first)


@pytest.mark.parametrize("table", ["baseline", "effects", "change", "adverse-events", "listing"])
def test_each_results_table_as_csv_for_the_results_rule_only(written, login, unblinded_statistician, statistician,
                                                             evaluator, table):
    r = login(unblinded_statistician).get(f"/studies/{written.pk}/results/{table}.csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv") and "interim" in r["Content-Disposition"]
    lines = r.content.decode().splitlines()
    assert lines and "," in lines[0]
    if table == "effects":
        assert lines[1].startswith("ANCOVA") and len(lines) >= 3
    if table == "change":
        assert len(lines) == 1 + 2 * 5
    assert login(evaluator).get(f"/studies/{written.pk}/results/{table}.csv").status_code == 403
    # The blinded statistician gets the pooled tables (test_blinded_tables), never the analyses.
    blinded = login(statistician).get(f"/studies/{written.pk}/results/{table}.csv")
    assert blinded.status_code == (403 if table == "effects" else 200)


def test_quality_page_records_split_scalp_side_values(split_study, make_patient, clinic, login, clinician,
                                                      statistician):
    from datetime import date

    from anagen.assessments.services import visit_create
    from anagen.studies import services
    from anagen.studies.models import SideMeasurement
    from anagen.studies.randomization import subject_randomize

    subject = services.subject_enrol(actor=clinician, study=split_study, patient=make_patient(clinic))
    subject_randomize(actor=clinician, subject=subject)
    visit = visit_create(actor=clinician, patient=subject.patient, visit_date=date.today())
    url = f"/studies/{split_study.pk}/quality"
    client = login(clinician)
    page = client.get(url).content.decode()
    assert "Per-side values" in page and f"{subject.code}, {date.today():%Y-%m-%d}" in page
    r = client.post(url, {"action": "side_value", "visit": f"{subject.pk}:{visit.pk}", "side": "right",
                          "density_per_cm2": "131.5"})
    assert r.status_code == 302
    assert SideMeasurement.objects.get().density_per_cm2 == 131.5
    r = client.post(url, {"action": "side_value", "visit": f"{subject.pk}:{visit.pk}", "side": "right",
                          "density_per_cm2": "-1"})
    assert r.status_code == 400 and "0 to 1000" in r.content.decode()
    # the statistician sees the values but records none
    page = login(statistician).get(url).content.decode()
    assert "131.5" in page and "Record the side" not in page
