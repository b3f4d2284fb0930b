"""Voiding an image and analysing it again with another device profile keep the old result;
excluding a measurement takes it out of the series with a reason."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from anagen.assessments.models import AnalysisStatus, DeviceProfile, Measurement
from anagen.assessments.services import (
    measurement_exclude,
    measurement_include,
    trichogram_analysis_correct,
    trichogram_analysis_rerun,
    trichogram_image_upload,
    trichogram_image_void,
)
from anagen.core.errors import ActionError, Conflict

from .conftest import upload


@pytest.fixture
def half_scale(clinic):
    return DeviceProfile.objects.create(clinic=clinic, name="Loupe at 50 px/mm", engine_profile="default",
                                        px_per_mm=50.0, vellus_threshold_um=40.0)


def test_rerun_with_another_profile_keeps_the_old_result_and_the_series_uses_the_new(analysed, clinician,
                                                                                    half_scale):
    a = analysed.analysis
    first = a.automatic
    trichogram_analysis_correct(actor=clinician, analysis=a, removed=[first["hairs"][0]["id"]])
    old_area = Measurement.objects.get(visit=analysed.visit).field_area_cm2
    a = trichogram_analysis_rerun(actor=clinician, analysis=a, device_profile=half_scale,
                                  reason="Photographed with the Room 3 loupe, not the dermoscope")
    assert a.status == AnalysisStatus.DONE and a.px_per_mm == 50.0
    assert a.corrected is None and a.corrections is None
    (earlier,) = a.previous
    assert earlier["automatic"] == first and earlier["corrected"]["hair_count"] == first["hair_count"] - 1
    assert earlier["px_per_mm"] == 100.0 and earlier["reason"].startswith("Photographed with")
    assert earlier["replaced_by"] == str(clinician) and earlier["overlay"]
    m = Measurement.objects.get(visit=analysed.visit)
    # Half the pixels per mm: the same pixels cover four times the area.
    assert m.field_area_cm2 == pytest.approx(old_area * 4) and not m.is_corrected
    analysed.refresh_from_db()
    assert analysed.device_profile == half_scale


def test_rerun_needs_a_reason_a_writer_and_a_finished_analysis(analysed, clinician, coordinator, half_scale,
                                                              clinic_b):
    a = analysed.analysis
    with pytest.raises(ActionError, match="Give the reason"):
        trichogram_analysis_rerun(actor=clinician, analysis=a, device_profile=half_scale, reason=" ")
    with pytest.raises(PermissionDenied):
        trichogram_analysis_rerun(actor=coordinator, analysis=a, device_profile=half_scale, reason="x")
    other = DeviceProfile.objects.create(clinic=clinic_b, name="Theirs", px_per_mm=80.0)
    with pytest.raises(ActionError, match="another clinic"):
        trichogram_analysis_rerun(actor=clinician, analysis=a, device_profile=other, reason="x")
    a.refresh_from_db()
    assert a.previous == [] and a.px_per_mm == 100.0


def test_a_voided_image_stays_but_no_longer_counts(visit, device, clinician, scalp_png, other_scalp_png):
    older, _ = trichogram_image_upload(actor=clinician, visit=visit, file=upload(scalp_png, "a.png"))
    newer, _ = trichogram_image_upload(actor=clinician, visit=visit, file=upload(other_scalp_png, "b.png"))
    assert Measurement.objects.get(visit=visit).source_image == newer
    with pytest.raises(ActionError, match="Give the reason"):
        trichogram_image_void(actor=clinician, image=newer, reason="")
    trichogram_image_void(actor=clinician, image=newer, reason="Wrong patient's scalp")
    newer.refresh_from_db()
    assert newer.void_reason == "Wrong patient's scalp" and newer.voided_by == clinician
    assert newer.analysis.automatic is not None  # the result is kept
    m = Measurement.objects.get(visit=visit)
    older.analysis.refresh_from_db()
    assert m.source_image == older and m.hair_count == older.analysis.automatic["hair_count"]
    with pytest.raises(Conflict):
        trichogram_image_void(actor=clinician, image=newer, reason="again")
    with pytest.raises(Conflict, match="voided"):
        trichogram_analysis_rerun(actor=clinician, analysis=newer.analysis, device_profile=device, reason="x")
    trichogram_image_void(actor=clinician, image=older, reason="Blurred")
    m.refresh_from_db()
    assert m.hair_count is None and m.source_image is None


def test_excluding_a_measurement_needs_a_reason_and_can_be_undone(analysed, clinician, coordinator):
    m = Measurement.objects.get(visit=analysed.visit)
    with pytest.raises(ActionError, match="Give the reason"):
        measurement_exclude(actor=clinician, measurement=m, reason="")
    with pytest.raises(PermissionDenied):
        measurement_exclude(actor=coordinator, measurement=m, reason="not mine to judge")
    m = measurement_exclude(actor=clinician, measurement=m, reason="Tattoo dot missed: another spot")
    assert m.excluded and m.excluded_by == clinician and m.hair_count is not None
    with pytest.raises(Conflict):
        measurement_exclude(actor=clinician, measurement=m, reason="again")
    m = measurement_include(actor=clinician, measurement=m)
    assert not m.excluded and m.exclusion_reason == ""


def test_the_history_records_who_excluded_and_why(analysed, clinician):
    from auditlog.models import LogEntry

    m = Measurement.objects.get(visit=analysed.visit)
    measurement_exclude(actor=clinician, measurement=m, reason="Another spot")
    entry = LogEntry.objects.get_for_object(m).order_by("-timestamp").first()
    assert entry.changes_dict["exclusion_reason"][1] == "Another spot"


def test_pages_flag_exclude_void_and_reanalyse(login, analysed, clinician, coordinator, half_scale, clinician_b):
    client = login(clinician)
    visit = analysed.visit
    r = client.post(f"/assessments/visits/{visit.pk}/exclusion", {"reason": ""}, follow=True)
    assert "Give the reason" in r.content.decode()
    r = client.post(f"/assessments/visits/{visit.pk}/exclusion", {"reason": "Another spot"}, follow=True)
    body = r.content.decode()
    assert "excluded from the series" in body and "Another spot" in body and "Put back into the series" in body
    r = client.post(f"/assessments/images/{analysed.pk}/reanalyse", {"device_profile": half_scale.pk,
                                                                     "reason": "20x loupe"}, follow=True)
    body = r.content.decode()
    assert "Earlier results of this image" in body and "20x loupe" in body
    r = client.post(f"/assessments/images/{analysed.pk}/void", {"reason": "Blurred"}, follow=True)
    assert "voided" in r.content.decode() and "Blurred" in r.content.decode()
    # A coordinator reads but may not void; another clinic's clinician does not find the image.
    assert login(coordinator).post(f"/assessments/images/{analysed.pk}/void", {"reason": "x"}).status_code == 403
    assert login(clinician_b).post(f"/assessments/images/{analysed.pk}/void", {"reason": "x"}).status_code == 404
