"""The analysed value of a target-area image read blind is its blinded reading (issue items 6
and 9): the signed adjudication's count, else the mean of the signed readings once all the
plan's readers signed, else the clinic's measurement; each over the measurement's field area,
and the dataset says which."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from anagen.studies.reading import SOURCE_ADJUDICATED, SOURCE_CLINIC, final_count, source_mean

from .reading_fixtures import adjudicator, evaluator2  # noqa: F401  (fixtures)
from .test_analysis import write_study

pytestmark = pytest.mark.django_db

AREA = 100.0  # write_study's field area (cm²): hair_count = density x 100


def test_final_count_rule():
    assert final_count([40, 45], readers_per_image=2) == (42.5, source_mean(2))
    assert final_count([40, 52], readers_per_image=2, adjudicated=47) == (47.0, SOURCE_ADJUDICATED)
    assert final_count([40, 52], readers_per_image=2, adjudication_open=True) is None
    assert final_count([40], readers_per_image=2) is None  # the second reader has not signed
    assert final_count([], readers_per_image=1) is None
    assert final_count([31], readers_per_image=1) == (31.0, source_mean(1))
    assert final_count([30, 33, 36], readers_per_image=3) == (33.0, source_mean(3))


def _visit(study, code, week):
    """The subject's assessment visit ``week`` weeks after randomization (write_study's dates)."""
    from anagen.assessments.models import AssessmentVisit
    from anagen.studies.models import Allocation

    allocation = Allocation.objects.select_related("subject").get(study=study, subject__code=code)
    anchor = timezone.localtime(allocation.randomized_at).date()
    return AssessmentVisit.objects.get(patient_id=allocation.subject.patient_id,
                                       visit_date=anchor + timedelta(days=7 * week))


def read_image(study, code, week, counts, readers, *, signed=True, adjudicated=None, adjudication_open=False):
    """Give the subject's visit a target-area image (the one its measurement counts), coded for
    the study, with a reading per reader (signed or draft) and optionally an adjudication."""
    from anagen.assessments.models import Measurement, TrichogramImage
    from anagen.studies.models import Adjudication, CodedImage, Reading
    from anagen.studies.reading import new_code, new_order_key

    visit = _visit(study, code, week)
    image = TrichogramImage.objects.create(visit=visit, kind="target", file=f"t/{visit.pk}.jpg",
                                           sha256=f"{visit.pk:064d}", width=32, height=24, profile_name="default")
    Measurement.objects.filter(visit=visit).update(source_image=image)
    coded = CodedImage.objects.create(study=study, code=new_code(), source=image, file=f"reading/{visit.pk}.png",
                                      width=32, height=24, automatic={"field_area_cm2": AREA}, profile_name="default",
                                      order_key=new_order_key())
    now = timezone.now()
    for reader, count in zip(readers, counts):
        Reading.objects.create(coded_image=coded, reader=reader, hair_count=count,
                               status="signed" if signed else "draft", signed_at=now if signed else None)
    if adjudicated is not None or adjudication_open:
        Adjudication.objects.create(coded_image=coded, reason="Apart by more than the margin.",
                                    hair_count=adjudicated, signed_at=None if adjudication_open else now)
    return Measurement.objects.get(visit=visit)


def _row(data, code, week):
    frame = data.frame
    rows = frame[(frame["subject"] == code) & (frame["visit_week"] == week)]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.fixture
def parallel(quality_team, clinician, make_patient, clinic):
    return quality_team, write_study(quality_team, clinician, make_patient, clinic, n=16)


def test_two_signed_readings_give_their_mean_and_the_primary_analysis_follows(parallel, evaluator, evaluator2,
                                                                             unblinded_statistician):
    from anagen.evidence import analysis
    from anagen.studies.analysis_services import results_for
    from anagen.studies.datasets import build

    study, written = parallel
    before = results_for(user=unblinded_statistician, study=study, figures=False).effect
    measurement = read_image(study, "S-001", 23, [4100, 4210], [evaluator, evaluator2])
    assert measurement.hair_count not in (4100, 4210)  # the clinic counted otherwise
    data = build(study)
    row = _row(data, "S-001", 23)
    assert row["value"] == pytest.approx(4155 / AREA)
    assert row["value_source"] == "blinded reading (mean of 2)"
    assert row["baseline_source"] == SOURCE_CLINIC
    others = data.frame[~((data.frame["subject"] == "S-001") & (data.frame["visit_week"] == 23))]
    assert set(others["value_source"]) == {SOURCE_CLINIC}
    # The primary analysis is the evidence library's on the values with the reading in place.
    expected = written.copy()
    expected.loc[(expected["subject"] == "S-001") & (expected["visit_week"] == 23), "value"] = 4155 / AREA
    res = results_for(user=unblinded_statistician, study=study, figures=False)
    reference = analysis.ancova(expected, visit_week=23, active="Micrograft suspension", control="Saline placebo")
    assert res.effect.estimate == pytest.approx(reference.estimate, abs=1e-9)
    assert res.effect.ci[0] == pytest.approx(reference.ci[0], abs=1e-9)
    assert res.effect.estimate != pytest.approx(before.estimate, abs=1e-6)


def test_a_signed_adjudication_gives_its_count(parallel, evaluator, evaluator2, adjudicator):
    from anagen.studies.datasets import build

    study, _ = parallel
    read_image(study, "S-002", 23, [3000, 3900], [evaluator, evaluator2], adjudicated=3333)
    read_image(study, "S-003", 0, [2000, 2600], [evaluator, evaluator2], adjudicated=2250)  # a baseline read
    data = build(study)
    row = _row(data, "S-002", 23)
    assert row["value"] == pytest.approx(3333 / AREA) and row["value_source"] == SOURCE_ADJUDICATED
    baseline = data.frame[data.frame["subject"] == "S-003"]
    assert list(baseline["baseline"]) == pytest.approx([2250 / AREA] * len(baseline))
    assert set(baseline["baseline_source"]) == {SOURCE_ADJUDICATED}
    assert next(r for r in data.subjects if r.code == "S-003").baseline[""] == pytest.approx(2250 / AREA)


def test_unsigned_incomplete_or_disputed_readings_leave_the_clinics_value(parallel, evaluator, evaluator2):
    from anagen.studies.datasets import build

    study, written = parallel
    drafts = read_image(study, "S-004", 23, [1111, 1112], [evaluator, evaluator2], signed=False)
    one = read_image(study, "S-005", 23, [2222], [evaluator])  # the plan asks for two readers
    disputed = read_image(study, "S-006", 23, [3000, 3900], [evaluator, evaluator2], adjudication_open=True)
    data = build(study)
    for code, m in (("S-004", drafts), ("S-005", one), ("S-006", disputed)):
        row = _row(data, code, 23)
        assert row["value"] == pytest.approx(m.hair_count / m.field_area_cm2)
        assert row["value_source"] == SOURCE_CLINIC


def test_the_exports_name_the_source_of_each_value(parallel, evaluator, evaluator2, login, unblinded_statistician,
                                                   statistician):
    import csv
    import io

    study, _ = parallel
    read_image(study, "S-001", 23, [4100, 4210], [evaluator, evaluator2])
    for user, blinded in ((unblinded_statistician, False), (statistician, True)):
        text = login(user).get(f"/studies/{study.pk}/results/dataset.csv").content.decode()
        rows = list(csv.DictReader(io.StringIO(text)))
        assert ("arm" in rows[0]) is not blinded
        read = [r for r in rows if r["subject"] == "S-001" and r["visit_week"] == "23"]
        assert read[0]["value_source"] == "blinded reading (mean of 2)" and read[0]["value"] == "41.5500"
        assert {r["value_source"] for r in rows} == {"blinded reading (mean of 2)", SOURCE_CLINIC}
        dictionary = login(user).get(f"/studies/{study.pk}/results/dictionary.csv").content.decode()
        assert "value_source" in dictionary and "baseline_source" in dictionary


def test_split_scalp_takes_the_reading_of_a_halfs_linked_image(team, statistician, clinician, make_patient, clinic,
                                                               evaluator, evaluator2):
    from anagen.assessments.models import TrichogramImage
    from anagen.studies import services
    from anagen.studies.datasets import build
    from anagen.studies.models import CodedImage, Reading, SideMeasurement
    from anagen.studies.quality_services import side_value_record
    from anagen.studies.reading import new_code, new_order_key

    from .conftest import sign_off

    services.study_update(actor=statistician, study=team, design="split_scalp")
    study = sign_off(team, statistician, clinician)
    write_study(study, clinician, make_patient, clinic, n=2)
    frame = build(study).frame
    assert set(frame["value_source"]) == {SOURCE_CLINIC} and set(frame["baseline_source"]) == {SOURCE_CLINIC}
    code = frame["subject"].iloc[0]
    visit = _visit(study, code, 23)
    left = SideMeasurement.objects.get(subject__code=code, subject__study=study, visit=visit, side="left")
    recorded = left.density_per_cm2
    image = TrichogramImage.objects.create(visit=visit, kind="target", file=f"t/{visit.pk}-L.jpg",
                                           sha256=f"{visit.pk:063d}1", width=32, height=24, profile_name="default")
    side_value_record(actor=clinician, subject=left.subject, visit=visit, side="left", density_per_cm2=recorded,
                      image=image)
    assert _side_row(build(study), code, 23, "left")["value"] == pytest.approx(recorded)  # not read yet
    coded = CodedImage.objects.create(study=study, code=new_code(), source=image, file=f"reading/{visit.pk}.png",
                                      width=32, height=24, automatic={"field_area_cm2": 0.5}, profile_name="default",
                                      order_key=new_order_key())
    now = timezone.now()
    for reader, count in ((evaluator, 30), (evaluator2, 34)):
        Reading.objects.create(coded_image=coded, reader=reader, hair_count=count, status="signed", signed_at=now)
    data = build(study)
    row = _side_row(data, code, 23, "left")
    assert row["value"] == pytest.approx(64.0) and row["value_source"] == source_mean(2)
    right = _side_row(data, code, 23, "right")
    assert right["value_source"] == SOURCE_CLINIC


def test_a_halfs_image_must_be_a_target_image_of_that_visit(team, statistician, clinician, make_patient, clinic):
    from anagen.assessments.models import TrichogramImage
    from anagen.core.errors import ActionError
    from anagen.studies import services
    from anagen.studies.models import SideMeasurement
    from anagen.studies.quality_services import side_value_record

    from .conftest import sign_off

    services.study_update(actor=statistician, study=team, design="split_scalp")
    study = sign_off(team, statistician, clinician)
    write_study(study, clinician, make_patient, clinic, n=2)
    left = SideMeasurement.objects.filter(subject__study=study, side="left").select_related("subject", "visit").first()
    other = SideMeasurement.objects.filter(subject__study=study).exclude(visit=left.visit).first().visit
    image = TrichogramImage.objects.create(visit=other, kind="target", file="t/x.jpg", sha256="9" * 64, width=32,
                                           height=24, profile_name="default")
    with pytest.raises(ActionError) as exc:
        side_value_record(actor=clinician, subject=left.subject, visit=left.visit, side="left",
                          density_per_cm2=left.density_per_cm2, image=image)
    assert exc.value.field == "image"
    assert SideMeasurement.objects.get(pk=left.pk).source_image is None


def _side_row(data, code, week, side):
    frame = data.frame
    rows = frame[(frame["subject"] == code) & (frame["visit_week"] == week) & (frame["side"] == side)]
    assert len(rows) == 1
    return rows.iloc[0]
