"""Pages of data quality, the lock and the results: who may open them, what they show."""

from __future__ import annotations

import re

import pytest

from conftest import PASSWORD

from .reading_fixtures import evaluator2  # noqa: F401 (fixture)
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
    client = login(statistician)
    r = client.get(f"/studies/{written.pk}/results/")
    assert r.status_code == 403 and "signs the unblinding" in r.content.decode()
    quality = client.get(f"/studies/{written.pk}/quality").content.decode()
    assert "Analysis still blinded" in quality and "Sign the unblinding of the analysis" in quality
    r = client.post(f"/studies/{written.pk}/quality", {"action": "unblind", "password": "wrong"})
    assert r.status_code == 400 and "password is not correct" in r.content.decode()
    assert client.post(f"/studies/{written.pk}/quality", {"action": "unblind", "password": PASSWORD}).status_code == 302
    assert "Analysis unblinded" in client.get(f"/studies/{written.pk}/quality").content.decode()
    r = client.get(f"/studies/{written.pk}/results/")
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
    assert "Per-side values" in page and f"{subject.code}, {date.today():%d/%m/%Y}" in page  # the clinic's format
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


def _target_image(visit, name):
    from anagen.assessments.models import TrichogramImage

    return TrichogramImage.objects.create(visit=visit, kind="target", file=f"t/{name}.jpg", sha256=name.ljust(64, "0"),
                                          width=32, height=24, profile_name="default")


def _offered(page: str, image) -> bool:
    import re

    return re.search(rf'<option value="{image.pk}" data-visit="\d+:{image.visit_id}">Target image', page) is not None


@pytest.fixture
def split_subject(split_study, make_patient, clinic, clinician):
    """A subject of the split-scalp study randomized 23 weeks ago, with today's visit (its week-23
    visit) and a target image of it."""
    from datetime import date, timedelta

    from django.utils import timezone

    from anagen.assessments.services import visit_create
    from anagen.studies import services
    from anagen.studies.models import Allocation, Subject
    from anagen.studies.randomization import subject_randomize

    subject = services.subject_enrol(actor=clinician, study=split_study, patient=make_patient(clinic))
    allocation = subject_randomize(actor=clinician, subject=subject)
    Allocation.objects.filter(pk=allocation.pk).update(randomized_at=timezone.now() - timedelta(weeks=23))
    Subject.objects.filter(pk=subject.pk).update(screened_at=timezone.now() - timedelta(weeks=23, days=1))
    subject.refresh_from_db()
    visit = visit_create(actor=clinician, patient=subject.patient, visit_date=date.today())
    return subject, visit, _target_image(visit, f"own{visit.pk}")


def test_the_side_value_form_links_the_halfs_photograph_and_the_reading_becomes_its_value(
        split_study, split_subject, make_patient, clinic, clinic_b, login, clinician, evaluator, evaluator2):
    from anagen.assessments.models import AssessmentVisit
    from anagen.studies.datasets import build
    from anagen.studies.models import CodedImage, Reading, SideMeasurement
    from anagen.studies.reading import SOURCE_CLINIC, new_code, new_order_key, source_mean

    subject, visit, image = split_subject
    voided = _target_image(visit, f"void{visit.pk}")
    type(voided).objects.filter(pk=voided.pk).update(voided_at=visit.created_at)
    elsewhere = AssessmentVisit.objects.create(patient=subject.patient, clinic=clinic_b, visit_date=visit.visit_date)
    other_clinic = _target_image(elsewhere, f"else{elsewhere.pk}")
    url = f"/studies/{split_study.pk}/quality"
    client = login(clinician)
    page = client.get(url).content.decode()
    assert "Photograph of this half" in page and _offered(page, image)
    assert not _offered(page, voided) and not _offered(page, other_clinic)
    # The visit at the clinic the clinician does not work at is neither offered nor taken.
    assert f'value="{subject.pk}:{visit.pk}"' in page and f'value="{subject.pk}:{elsewhere.pk}"' not in page
    r = client.post(url, {"action": "side_value", "visit": f"{subject.pk}:{elsewhere.pk}", "side": "left",
                          "density_per_cm2": "120"})
    assert r.status_code == 400 and "Choose the subject&#x27;s visit" in r.content.decode()
    assert not SideMeasurement.objects.exists()
    r = client.post(url, {"action": "side_value", "visit": f"{subject.pk}:{visit.pk}", "side": "left",
                          "density_per_cm2": "120", "image": str(image.pk)})
    assert r.status_code == 302
    row = SideMeasurement.objects.get()
    assert row.source_image == image and row.recorded_by == clinician
    assert "Target image uploaded" in client.get(url).content.decode()
    week23 = build(split_study).frame.query("visit_week == 23")
    assert list(week23["value_source"]) == [SOURCE_CLINIC, ""]  # left linked, not read yet; right: no value
    # Once read blind (both readers signed), the analysis takes the reading.
    coded = CodedImage.objects.create(study=split_study, code=new_code(), source=image, file="reading/x.png", width=32,
                                      height=24, automatic={"field_area_cm2": 0.5}, profile_name="default",
                                      order_key=new_order_key())
    for reader, count in ((evaluator, 60), (evaluator2, 64)):
        Reading.objects.create(coded_image=coded, reader=reader, hair_count=count, status="signed",
                               signed_at=row.recorded_at)
    week23 = build(split_study).frame.query("visit_week == 23").set_index("side")
    assert week23.loc["left", "value_source"] == source_mean(2) and week23.loc["left", "value"] == 124.0
    assert week23.loc["right", "value_source"] == ""


def test_the_side_value_form_refuses_another_patients_photograph_with_a_message(
        split_study, split_subject, make_patient, clinic, login, clinician, coordinator, statistician):
    from datetime import date

    from anagen.assessments.services import visit_create
    from anagen.studies import services
    from anagen.studies.models import SideMeasurement

    services.member_add(actor=statistician, study=split_study, user=coordinator, role="coordinator")
    subject, visit, image = split_subject
    stranger = make_patient(clinic)
    theirs = _target_image(visit_create(actor=clinician, patient=stranger, visit_date=date.today()), "theirs")
    url = f"/studies/{split_study.pk}/quality"
    client = login(coordinator)
    assert not _offered(client.get(url).content.decode(), theirs)  # only the subjects' own images
    post = {"action": "side_value", "visit": f"{subject.pk}:{visit.pk}", "side": "right", "density_per_cm2": "98"}
    r = client.post(url, {**post, "image": str(theirs.pk)})
    assert r.status_code == 400
    assert "That photograph is another patient&#x27;s" in r.content.decode()
    for bad in ("999999", "x"):
        r = client.post(url, {**post, "image": bad})
        assert r.status_code == 400 and "No such photograph at a clinic you work at" in r.content.decode()
    assert not SideMeasurement.objects.exists()
    assert client.post(url, {**post, "image": str(image.pk)}).status_code == 302  # the coordinator may record it
    assert SideMeasurement.objects.get().source_image == image


@pytest.mark.parametrize("persona", ["statistician", "unblinded_statistician", "pharmacist", "evaluator",
                                     "clinician_b"])
def test_only_investigators_and_coordinators_link_a_halfs_photograph(split_study, split_subject, login, persona,
                                                                     request):
    from anagen.studies.models import SideMeasurement

    subject, visit, image = split_subject
    url = f"/studies/{split_study.pk}/quality"
    client = login(request.getfixturevalue(persona))
    page = client.get(url)
    if page.status_code == 200:  # on the team: the page, without the form or the photographs
        text = page.content.decode()
        assert "Record the side" not in text and "Photograph of this half" not in text
        assert not _offered(text, image) and "Target image" not in text
    else:
        assert page.status_code in (403, 404)
    r = client.post(url, {"action": "side_value", "visit": f"{subject.pk}:{visit.pk}", "side": "left",
                          "density_per_cm2": "120", "image": str(image.pk)})
    assert r.status_code in (403, 404)
    assert not SideMeasurement.objects.exists()


def test_no_photograph_is_linked_after_the_lock(split_study, split_subject, login, clinician, statistician):
    from anagen.studies.lock import study_lock
    from anagen.studies.models import SideMeasurement

    subject, visit, image = split_subject
    study_lock(actor=statistician, study=split_study, password=PASSWORD)
    r = login(clinician).post(f"/studies/{split_study.pk}/quality", {
        "action": "side_value", "visit": f"{subject.pk}:{visit.pk}", "side": "left", "density_per_cm2": "120",
        "image": str(image.pk)})
    assert r.status_code == 409 and "locked" in r.content.decode().lower()
    assert not SideMeasurement.objects.exists()


def test_a_long_list_of_side_values_is_folded_under_the_form(split_study, split_subject, login, clinician):
    from datetime import timedelta

    from anagen.assessments.models import AssessmentVisit
    from anagen.studies.models import SideMeasurement

    subject, visit, _ = split_subject
    url = f"/studies/{split_study.pk}/quality"
    SideMeasurement.objects.create(subject=subject, visit=visit, side="left", density_per_cm2=120,
                                   recorded_by=clinician, recorded_at=visit.created_at)
    page = login(clinician).get(url).content.decode()
    assert '<details id="side-values" open><summary>1 per-side value recorded</summary>' in page
    assert page.index("Record the side's value") < page.index('id="side-values"')  # the form comes first
    for k in range(1, 11):
        earlier = AssessmentVisit.objects.create(patient=subject.patient, clinic=visit.clinic,
                                                 visit_date=visit.visit_date - timedelta(days=7 * k))
        for side in ("left", "right"):
            SideMeasurement.objects.create(subject=subject, visit=earlier, side=side, density_per_cm2=100 + k,
                                           recorded_by=clinician, recorded_at=visit.created_at)
    page = login(clinician).get(url).content.decode()
    assert '<details id="side-values"><summary>21 per-side values recorded</summary>' in page
