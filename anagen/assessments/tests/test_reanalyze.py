"""Batch re-analysis with the installed engine: old results kept, resumable, scoped."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from anagen.assessments.models import AnalysisStatus, TrichogramAnalysis
from anagen.trichoscopy import ENGINE_VERSION


def _as_if_old_engine(image, version="1.1.0"):
    TrichogramAnalysis.objects.filter(image=image).update(engine_version=version)


def test_reanalyze_runs_old_results_again_and_keeps_them(analysed, capsys):
    analysis = analysed.analysis
    old_count = analysis.automatic["hair_count"] if "hair_count" in (analysis.automatic or {}) else None
    _as_if_old_engine(analysed)
    call_command("reanalyze", "--workers", "0")
    out = capsys.readouterr().out
    analysis.refresh_from_db()
    assert analysis.status == AnalysisStatus.DONE and analysis.engine_version == ENGINE_VERSION
    assert len(analysis.previous) == 1
    kept = analysis.previous[0]
    assert kept["engine_version"] == "1.1.0" and kept["reason"] == f"re-analysed with engine {ENGINE_VERSION}"
    assert kept["replaced_by"] == "anagen reanalyze"
    if old_count is not None:
        assert kept["automatic"]["hair_count"] == old_count
    assert "1 image(s) to re-analyse" in out and "Re-analysed 1 image(s)" in out and "0 failed" in out
    assert type(analysed.visit).objects.get(pk=analysed.visit_id).measurement.engine_version == ENGINE_VERSION

    # Run again: nothing left to do, the result is not analysed a third time.
    call_command("reanalyze", "--workers", "0")
    out = capsys.readouterr().out
    assert "0 image(s) to re-analyse" in out and "1 already analysed with this version (skipped)" in out
    analysis.refresh_from_db()
    assert len(analysis.previous) == 1


def test_reanalyze_is_scoped_to_a_clinic_and_an_engine_version(analysed, clinic_b, capsys):
    _as_if_old_engine(analysed, "1.0.0")
    call_command("reanalyze", "--clinic", clinic_b.slug)
    assert "0 image(s) to re-analyse" in capsys.readouterr().out
    call_command("reanalyze", "--engine-version", "1.1.0")
    assert "0 image(s) to re-analyse" in capsys.readouterr().out
    call_command("reanalyze", "--clinic", analysed.visit.clinic.slug, "--engine-version", "1.0.0")
    assert "Re-analysed 1 image(s)" in capsys.readouterr().out


def test_a_voided_or_running_analysis_is_left_alone(analysed):
    from anagen.assessments.services import trichogram_analysis_reanalyse

    TrichogramAnalysis.objects.filter(image=analysed).update(status=AnalysisStatus.RUNNING, engine_version="0.9")
    assert trichogram_analysis_reanalyse(analysis_id=analysed.analysis.pk, engine_version=ENGINE_VERSION) is False


@pytest.mark.parametrize("args, message", [
    (["--clinic", "nowhere"], "No clinic with code 'nowhere'"),
    (["--study", "999999"], "No study with id 999999"),
    (["--engine-version", ENGINE_VERSION], "is the installed engine version"),
    (["--workers", "-1"], "--workers must be between 0 and 64"),
])
def test_reanalyze_refuses_bad_input_with_a_message(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("reanalyze", *args)
