"""Background job: analyse one phototrichogram image with the trichoscopy engine.

Runs through :mod:`anagen.core.tasks` (a queue worker, ``anagen worker``, or inline in tests). Progress is
written as it goes, each step committed at once so the page's progress bar sees it:
queued 0, reading 10, analysing 30, overlay 80, done 100. An error is stored with a message
a person can read; the traceback goes to the log, never to the page.
"""

from __future__ import annotations

import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from .matching import visit_match_after_analysis
from .models import AnalysisStatus, ImageKind, TrichogramAnalysis

log = logging.getLogger(__name__)

INTERNAL_ERROR = ("The analysis stopped because of an internal error (it has been logged). "
                  "Run it again; if it fails again, tell your administrator.")


def _progress(analysis_id: int, progress: int, step: str, **extra) -> None:
    from anagen.jobs.services import progress as job_progress

    TrichogramAnalysis.objects.filter(pk=analysis_id).update(progress=progress, step=step, **extra)
    job_progress(progress)


def _fail(analysis_id: int, message: str) -> None:
    TrichogramAnalysis.objects.filter(pk=analysis_id).update(
        status=AnalysisStatus.FAILED, step="failed", error=message[:2000], finished_at=timezone.now())


def _read(name: str):
    from anagen.trichoscopy import read_image

    with default_storage.open(name, "rb") as fh:
        return read_image(fh)


def trichogram_analysis_run(analysis_id: int) -> str:
    """Analyse once one of the process's analysis slots is free (anagen.trichoscopy.io.analysis_slot):
    a full-resolution image and its analysis hold hundreds of megabytes."""
    from anagen.trichoscopy.io import analysis_slot

    with analysis_slot():
        return _run(analysis_id)


def _run(analysis_id: int) -> str:
    from anagen.trichoscopy import ENGINE_VERSION, ImageError, ProfileError, analyze, compare_regrowth, render_overlay

    from .services import _visit_folder, _Written, engine_profile_for, measurement_refresh

    analysis = (TrichogramAnalysis.objects.select_related("image__visit").filter(pk=analysis_id).first())
    if analysis is None:
        log.warning("analysis %s vanished before it ran", analysis_id)
        return f"analysis {analysis_id} no longer exists"
    image = analysis.image
    written = _Written()
    try:
        _progress(analysis_id, 10, "reading", status=AnalysisStatus.RUNNING, started_at=timezone.now(), error="")
        pixels = _read(image.file.name)
        profile = engine_profile_for(analysis)
        _progress(analysis_id, 30, "analysing")
        regrowth = None
        if image.kind == ImageKind.REGROWTH:
            target = (image.visit.trichogram_images.filter(kind=ImageKind.TARGET)
                      .order_by("-uploaded_at", "-id").first())
            if target is None:
                raise ValueError("this visit has no clipped target-area image to compare the regrowth image with; "
                                 "upload it, then run the analysis again")
            comparison = compare_regrowth(_read(target.file.name), pixels, profile)
            regrowth = comparison.to_dict()
            # The later image's own analysis is shown and corrected like any other.
            result = comparison.after
            regrowth.pop("after", None)
            regrowth.pop("before", None)
            regrowth["target_image_id"] = target.pk
        else:
            result = analyze(pixels, profile)
        _progress(analysis_id, 80, "overlay")
        png = render_overlay(pixels, result, profile)
        overlay = written.save_new(f"{_visit_folder(image.visit)}/overlay-{image.sha256[:16]}-a{analysis_id}.png", png)
        with transaction.atomic():
            analysis = TrichogramAnalysis.objects.select_for_update().get(pk=analysis_id)
            analysis.automatic = result.to_dict()
            analysis.regrowth = regrowth
            analysis.engine_version = result.engine_version or ENGINE_VERSION
            analysis.overlay = overlay
            analysis.status = AnalysisStatus.DONE
            analysis.progress = 100
            analysis.step = "done"
            analysis.error = ""
            analysis.finished_at = timezone.now()
            analysis.save()
            measurement_refresh(visit=image.visit)
        visit_match_after_analysis(analysis_id)
    except (ImageError, ProfileError) as exc:
        written.discard()
        _fail(analysis_id, str(exc))
        return f"analysis {analysis_id} failed: {exc}"
    except ValueError as exc:
        written.discard()
        log.warning("analysis %s refused: %s", analysis_id, exc)
        _fail(analysis_id, f"The image could not be analysed: {exc}.")
        return f"analysis {analysis_id} refused: {exc}"
    except Exception:
        written.discard()
        log.exception("analysis %s of image %s failed", analysis_id, image.pk)
        _fail(analysis_id, INTERNAL_ERROR)
        return f"analysis {analysis_id} failed with an internal error (see the log)"
    return f"analysis {analysis_id} done with engine {analysis.engine_version}"
