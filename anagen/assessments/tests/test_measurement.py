"""Density is always count / area: never typed, never stored, never guessed."""

from __future__ import annotations

from datetime import date

import pytest

from anagen.assessments.forms import CorrectionForm, GlobalAssessmentForm, ImageUploadForm, VisitForm
from anagen.assessments.models import Measurement
from anagen.assessments.selectors import MeasurementPoint, patient_measurements
from anagen.assessments.services import trichogram_image_upload, visit_create

from .conftest import upload


def test_density_is_count_divided_by_area(visit):
    m = Measurement(visit=visit, hair_count=18, field_area_cm2=0.65, hair_count_auto=20)
    assert m.density_per_cm2 == pytest.approx(18 / 0.65)  # 27.7, not 23.3
    assert m.density_per_cm2_auto == pytest.approx(20 / 0.65)


def test_density_is_empty_without_an_area(visit):
    m = Measurement(visit=visit, hair_count=18, field_area_cm2=None)
    assert m.density_per_cm2 is None
    assert Measurement(visit=visit, hair_count=None, field_area_cm2=0.5).density_per_cm2 is None


def test_there_is_no_density_input_anywhere():
    stored = {f.name for f in Measurement._meta.get_fields()}
    assert not any("density" in name for name in stored)
    for form in (VisitForm(), GlobalAssessmentForm(), ImageUploadForm(), CorrectionForm()):
        assert not any("density" in name for name in form.fields)
    from anagen.assessments.api import CorrectionIn, VisitIn, VisitPatch

    for schema in (VisitIn, VisitPatch, CorrectionIn):
        assert not any("density" in name for name in schema.model_fields)


def test_measured_density_equals_the_stored_count_over_the_stored_area(analysed):
    m = Measurement.objects.get(visit=analysed.visit_id)
    assert m.hair_count > 0 and m.field_area_cm2 > 0
    assert m.density_per_cm2 == pytest.approx(m.hair_count / m.field_area_cm2)
    # 240 x 200 px at 100 px/mm is 2.4 x 2.0 mm = 0.048 cm² (less any region the engine leaves out)
    assert 0 < m.field_area_cm2 <= 0.048 + 1e-9


def test_an_uncalibrated_device_gives_counts_but_no_area_or_density(visit, clinician, scalp_png):
    image, _ = trichogram_image_upload(actor=clinician, visit=visit, file=upload(scalp_png))  # no device profile
    m = Measurement.objects.get(visit=visit)
    assert m.hair_count is not None and m.hair_count > 0
    assert m.field_area_cm2 is None and m.density_per_cm2 is None
    assert m.terminal_count is None and m.mean_diameter_um is None
    assert image.analysis.px_per_mm is None


def test_patient_measurements_lists_every_visit_by_date(patient, clinician, analysed):
    later = visit_create(actor=clinician, patient=patient, visit_date=date(2025, 4, 10), weeks_after_last_session=12,
                         investigator_global=2, patient_global=1)
    points = patient_measurements(user=clinician, patient=patient)
    assert [p.visit_id for p in points] == [analysed.visit_id, later.pk]
    first, second = points
    assert isinstance(first, MeasurementPoint)
    assert first.is_baseline and first.hair_count == Measurement.objects.get(visit=analysed.visit_id).hair_count
    assert first.density_per_cm2 == pytest.approx(first.hair_count / first.field_area_cm2)
    assert second.hair_count is None and second.investigator_global == 2 and second.patient_global == 1
    assert second.weeks_after_last_session == 12
