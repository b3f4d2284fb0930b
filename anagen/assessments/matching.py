"""Matching a follow-up target-area image to the patient's baseline, hair by hair.

When a follow-up target-area image has been analysed, :func:`visit_match_after_analysis` finds
the patient's baseline image of the target area (the latest finished, not voided target-area
image of the latest baseline visit on or before the follow-up), registers the two and matches
their hairs with :func:`anagen.trichoscopy.match_visits`, and stores a :class:`VisitMatch`:
kept, lost and new hairs with their confidence, the matched change and the change of the two
independent counts over the field both images cover.

The clinician then confirms or rejects each lost and new hair side by side
(:func:`visit_match_confirm`); the visit's change from baseline is the matched one (confirmed
once reviewed), and the timeline and the progress report say so.

Matching never makes an analysis fail: when it cannot be done (no baseline, an unreadable
baseline file, images of different sizes) the follow-up simply has no match and its change is
the change of the independent counts.
"""

from __future__ import annotations

import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from anagen.core.errors import ActionError, Conflict

from .models import AnalysisStatus, ImageKind, TrichogramAnalysis, VisitMatch

log = logging.getLogger(__name__)


def baseline_analysis_for(analysis: TrichogramAnalysis) -> TrichogramAnalysis | None:
    """The baseline target-area analysis a follow-up analysis is matched to, or None."""
    image = analysis.image
    visit = image.visit
    if image.kind != ImageKind.TARGET or visit.is_baseline or image.voided_at is not None:
        return None
    baseline_visit = (type(visit).objects.filter(patient_id=visit.patient_id, is_baseline=True,
                                                 visit_date__lte=visit.visit_date)
                      .exclude(pk=visit.pk).order_by("-visit_date", "-id").first())
    if baseline_visit is None:
        return None
    return (TrichogramAnalysis.objects.filter(image__visit=baseline_visit, image__kind=ImageKind.TARGET,
                                              image__voided_at__isnull=True, status=AnalysisStatus.DONE)
            .select_related("image").order_by("-image__uploaded_at", "-image_id").first())


def _pixels(name: str):
    from anagen.trichoscopy import read_image

    with default_storage.open(name, "rb") as fh:
        return read_image(fh)


def visit_match_create(*, analysis: TrichogramAnalysis) -> VisitMatch | None:
    """Match a finished follow-up analysis to its baseline and store the result (None when
    there is no baseline to match). Replaces an earlier match of the same analysis."""
    from anagen.trichoscopy import ImageAnalysis, match_visits

    from .services import engine_profile_for

    analysis = TrichogramAnalysis.objects.select_related("image__visit").get(pk=analysis.pk)
    if analysis.status != AnalysisStatus.DONE or not analysis.automatic:
        return None
    baseline = baseline_analysis_for(analysis)
    if baseline is None:
        return None
    result = match_visits(
        ImageAnalysis.from_dict(baseline.effective), ImageAnalysis.from_dict(analysis.effective),
        engine_profile_for(analysis),
        baseline_image=_pixels(baseline.image.file.name), followup_image=_pixels(analysis.image.file.name),
    )
    data = result.to_dict()
    with transaction.atomic():
        match, _created = VisitMatch.objects.update_or_create(
            followup_analysis=analysis,
            defaults=dict(
                baseline_analysis=baseline, engine_version=result.engine_version, result=data,
                kept=result.kept, lost=len(result.lost), new=len(result.new),
                baseline_count=result.baseline_count, followup_count=result.followup_count,
                matched_change=result.matched_change, count_change=result.count_change,
                overlap_area_cm2=result.overlap_area_cm2, rejected_lost=[], rejected_new=[],
                confirmed_change=None, confirmed_by=None, confirmed_at=None,
            ),
        )
    return match


def _followups_of(baseline: TrichogramAnalysis) -> list[TrichogramAnalysis]:
    """Follow-up target analyses whose baseline is ``baseline`` (the latest of each later visit)."""
    visit = baseline.image.visit
    out = []
    later = (type(visit).objects.filter(patient_id=visit.patient_id, is_baseline=False, visit_date__gte=visit.visit_date)
             .order_by("visit_date", "id"))
    for v in later:
        latest = (TrichogramAnalysis.objects.filter(image__visit=v, image__kind=ImageKind.TARGET,
                                                    image__voided_at__isnull=True, status=AnalysisStatus.DONE)
                  .select_related("image__visit").order_by("-image__uploaded_at", "-image_id").first())
        if latest is not None and (found := baseline_analysis_for(latest)) is not None and found.pk == baseline.pk:
            out.append(latest)
    return out


def visit_match_after_analysis(analysis_id: int) -> VisitMatch | None:
    """Called by the analysis job once an image's result is stored; never raises.

    A follow-up is matched to its baseline. A baseline image analysed after its follow-ups
    (uploaded late, or analysed again) has those follow-ups matched to it instead.
    """
    try:
        analysis = TrichogramAnalysis.objects.select_related("image__visit").filter(pk=analysis_id).first()
        if analysis is None:
            return None
        if analysis.image.visit.is_baseline and analysis.image.kind == ImageKind.TARGET:
            for followup in _followups_of(analysis):
                visit_match_create(analysis=followup)
            return None
        return visit_match_create(analysis=analysis)
    except Exception:  # noqa: BLE001 - a failed match leaves the analysis and its counts as they are
        log.exception("matching analysis %s to its baseline failed", analysis_id)
        return None


def visit_matches_refresh(*, analysis: TrichogramAnalysis) -> list[VisitMatch]:
    """Match again what a corrected analysis takes part in (as follow-up, or as the baseline of
    other images): the hair numbers changed, so an earlier review no longer applies and is
    cleared. Never raises."""
    done = []
    targets = [analysis.pk] + list(VisitMatch.objects.filter(baseline_analysis=analysis)
                                   .values_list("followup_analysis_id", flat=True))
    for pk in targets:
        if pk == analysis.pk and not VisitMatch.objects.filter(followup_analysis_id=pk).exists():
            continue
        match = visit_match_after_analysis(pk)
        if match is not None:
            done.append(match)
    return done


def _ids(values, known: set[int], what: str) -> list[int]:
    try:
        ids = sorted({int(v) for v in values or ()})
    except (TypeError, ValueError):
        raise ActionError(f"{what} are given by their hair numbers.", field=what.lower().replace(" ", "_")) from None
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ActionError(f"No {what.lower()} numbered {', '.join(map(str, unknown))} in this match; "
                          "use the numbers shown on the images.", field=what.lower().replace(" ", "_"))
    return ids


@transaction.atomic
def visit_match_confirm(*, actor, match: VisitMatch, rejected_lost=(), rejected_new=()) -> VisitMatch:
    """The clinician's review: every lost and new hair is confirmed except the rejected ones.

    A rejected lost hair is one the clinician sees at follow-up (kept); a rejected new hair is one
    already there at baseline. The confirmed change is new minus lost after the review. Saving
    again replaces the previous review.
    """
    from anagen.trichoscopy.matching import confirmed_change

    from .services import _check_writer

    match = VisitMatch.objects.select_for_update().select_related("followup_analysis__image__visit").get(pk=match.pk)
    _check_writer(actor, match.followup_analysis.image.visit)
    if match.followup_analysis.image.voided_at is not None:
        raise Conflict("The follow-up image has been voided; its match can no longer be reviewed.")
    lost = _ids(rejected_lost, {f["hair_id"] for f in match.result.get("lost_hairs", [])}, "Rejected lost")
    new = _ids(rejected_new, {f["hair_id"] for f in match.result.get("new_hairs", [])}, "Rejected new")
    match.rejected_lost = lost
    match.rejected_new = new
    match.confirmed_change = confirmed_change(match.result, lost, new)
    match.confirmed_by = actor
    match.confirmed_at = timezone.now()
    match.save()
    return match
