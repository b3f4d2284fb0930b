"""Background analysis, progress, corrections and the anagen share."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from anagen.assessments import jobs
from anagen.assessments.models import AnalysisStatus, Measurement, TrichogramAnalysis
from anagen.assessments.services import (
    trichogram_analysis_correct,
    trichogram_analysis_retry,
    trichogram_image_upload,
    visit_update,
)
from anagen.core.errors import ActionError, Conflict

from .conftest import upload


def test_an_uploaded_image_is_analysed_with_the_clinics_device(analysed, device):
    from anagen.trichoscopy import ENGINE_VERSION

    a = analysed.analysis
    assert a.status == AnalysisStatus.DONE and a.progress == 100 and a.error == ""
    assert a.engine_version == ENGINE_VERSION
    assert a.profile_name == "default" and a.px_per_mm == 100.0
    assert analysed.device_profile == device
    assert a.automatic["hair_count"] > 0 and a.automatic["px_per_mm"] == 100.0
    assert default_storage.open(a.overlay.name, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    m = Measurement.objects.get(visit=analysed.visit)
    assert m.hair_count == m.hair_count_auto == a.automatic["hair_count"]
    assert m.engine_version == ENGINE_VERSION and not m.is_corrected


def test_progress_goes_through_the_named_steps(visit, device, clinician, scalp_png, monkeypatch):
    seen = []
    original = jobs._progress

    def spy(analysis_id, progress, step, **extra):
        seen.append((progress, step))
        original(analysis_id, progress, step, **extra)

    monkeypatch.setattr(jobs, "_progress", spy)
    image, _ = trichogram_image_upload(actor=clinician, visit=visit, file=upload(scalp_png))
    assert seen == [(10, "reading"), (30, "analysing"), (80, "overlay")]
    image.analysis.refresh_from_db()
    assert (image.analysis.progress, image.analysis.step) == (100, "done")


def test_an_engine_crash_is_stored_as_a_readable_message_and_logged(visit, device, clinician, scalp_png, monkeypatch, caplog):
    import anagen.trichoscopy as engine

    def crash(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(engine, "analyze", crash)
    image, _ = trichogram_image_upload(actor=clinician, visit=visit, file=upload(scalp_png))
    a = TrichogramAnalysis.objects.get(image=image)
    assert a.status == AnalysisStatus.FAILED
    assert "internal error" in a.error and "secret internals" not in a.error and "Traceback" not in a.error
    assert "secret internals" in caplog.text  # the traceback goes to the log
    assert not a.overlay and not Measurement.objects.filter(visit=visit).exists()

    monkeypatch.undo()
    trichogram_analysis_retry(actor=clinician, analysis=a)
    a.refresh_from_db()
    assert a.status == AnalysisStatus.DONE and Measurement.objects.filter(visit=visit).exists()


def test_only_a_failed_analysis_can_be_run_again(analysed, clinician):
    with pytest.raises(Conflict):
        trichogram_analysis_retry(actor=clinician, analysis=analysed.analysis)


def test_a_correction_keeps_the_automatic_values(analysed, clinician):
    a = analysed.analysis
    auto = dict(a.automatic)
    remove = [h["id"] for h in auto["hairs"][:2]]
    trichogram_analysis_correct(actor=clinician, analysis=a, removed=remove, added=[(10, 10, 60, 40)])
    a.refresh_from_db()
    assert a.automatic == auto  # untouched
    assert a.corrected["hair_count"] == auto["hair_count"] - 2 + 1
    assert a.corrections == {"added": [[10.0, 10.0, 60.0, 40.0]], "removed": sorted(remove)}
    assert a.corrected_by == clinician and a.corrected_at is not None
    assert a.corrected_overlay and a.corrected_overlay.name != a.overlay.name
    m = Measurement.objects.get(visit=analysed.visit)
    assert m.is_corrected
    assert m.hair_count == auto["hair_count"] - 1 and m.hair_count_auto == auto["hair_count"]
    assert m.density_per_cm2 == pytest.approx(m.hair_count / m.field_area_cm2)
    assert m.density_per_cm2_auto == pytest.approx(m.hair_count_auto / m.field_area_cm2)


def test_correcting_again_starts_from_the_automatic_result_and_keeps_old_overlays(analysed, clinician):
    a = analysed.analysis
    first_id = a.automatic["hairs"][0]["id"]
    trichogram_analysis_correct(actor=clinician, analysis=a, removed=[first_id])
    a.refresh_from_db()
    first_overlay = a.corrected_overlay.name
    trichogram_analysis_correct(actor=clinician, analysis=a, removed=[])
    a.refresh_from_db()
    assert a.corrected["hair_count"] == a.automatic["hair_count"]
    assert a.corrected_overlay.name != first_overlay and default_storage.exists(first_overlay)


def test_a_correction_naming_an_unknown_hair_is_refused(analysed, clinician):
    with pytest.raises(ActionError, match="No hair numbered 999"):
        trichogram_analysis_correct(actor=clinician, analysis=analysed.analysis, removed=[999])
    analysed.analysis.refresh_from_db()
    assert analysed.analysis.corrected is None


def test_an_added_hair_outside_the_image_is_refused(analysed, clinician):
    with pytest.raises(ActionError, match="outside"):
        trichogram_analysis_correct(actor=clinician, analysis=analysed.analysis, added=[(0, 0, 5000, 10)])


def test_a_regrowth_image_gives_the_anagen_share(visit, device, clinician, regrowth_pngs):
    clipped, later = regrowth_pngs
    trichogram_image_upload(actor=clinician, visit=visit, file=upload(clipped, "clipped.png"))
    image, _ = trichogram_image_upload(actor=clinician, visit=visit, kind="regrowth", file=upload(later, "day3.png"))
    a = TrichogramAnalysis.objects.get(image=image)
    assert a.status == AnalysisStatus.DONE, a.error
    assert a.regrowth["anagen_pct"] is not None
    m = Measurement.objects.get(visit=visit)
    assert m.anagen_pct == a.regrowth["anagen_pct"]
    assert m.source_image.kind == "target"  # counts still come from the clipped image


def test_global_assessments_use_the_seven_point_scale(visit, clinician):
    visit_update(actor=clinician, visit=visit, investigator_global=3, patient_global=-3,
                 adverse_events_since_last_visit="Mild erythema for two days.")
    visit.refresh_from_db()
    assert visit.get_investigator_global_display().endswith("greatly improved")
    assert visit.get_patient_global_display().endswith("greatly worse")
    with pytest.raises(ActionError, match="−3"):
        visit_update(actor=clinician, visit=visit, investigator_global=4)


def test_the_background_measurement_names_who_uploaded_the_image(visit, device, clinician, scalp_png):
    """The analysis runs as a background job; its measurement is attributed to the uploader's request."""
    from auditlog.models import LogEntry

    from anagen.audit.context import acting_as, request_id

    token = request_id.set("upload-req-1")
    try:
        with acting_as(clinician):
            trichogram_image_upload(actor=clinician, visit=visit, file=upload(scalp_png))
    finally:
        request_id.reset(token)
    m = Measurement.objects.get(visit=visit)
    entry = LogEntry.objects.get_for_object(m).order_by("pk").first()
    assert entry.actor == clinician and entry.cid == "upload-req-1"
