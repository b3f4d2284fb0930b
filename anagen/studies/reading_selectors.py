"""Blinded reading, the reads: the evaluator's queue, one coded image, and reader agreement.

Access: a coded image belongs to a study; a user off its team gets 404 (the study is not
disclosed), a team member who is not an evaluator 403. Nothing here follows
``CodedImage.source``: what a reader gets is the code, the pixels and the engine's result.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from . import blinding, reading_services
from .models import Study, StudyRole
from .models_reading import Adjudication, CodedImage, Reading, ReadingStatus


def reader_studies(user) -> list[Study]:
    if not (user and user.is_authenticated):
        return []
    return list(Study.objects.filter(members__user=user, members__role=StudyRole.EVALUATOR).order_by("title"))


@dataclass(frozen=True)
class QueueItem:
    code: str
    study_title: str
    task: str  # "read", "draft" (started, not signed), "adjudicate"


def queue(*, user) -> list[QueueItem]:
    """What the evaluator has to do, in the random presentation order (mixing subjects and visits).

    An image is offered while it has fewer readers than the plan asks for, or when this reader
    has a draft on it; an open adjudication is offered to the study's other evaluators.
    """
    studies = reader_studies(user)
    if not studies:
        return []
    plans = {s.pk: reading_services.plan_for(s) for s in studies}
    items: list[tuple[int, QueueItem]] = []
    coded = (CodedImage.objects.filter(study__in=studies).select_related("study")
             .prefetch_related("readings").order_by("order_key"))
    open_adjudications = set(Adjudication.objects.filter(coded_image__study__in=studies, signed_at__isnull=True)
                             .values_list("coded_image_id", flat=True))
    for c in coded:
        readings = list(c.readings.all())
        mine = next((r for r in readings if r.reader_id == user.pk), None)
        if mine is not None:
            if not mine.is_signed:
                items.append((c.order_key, QueueItem(c.code, c.study.title, "draft")))
            continue
        if c.pk in open_adjudications:
            items.append((c.order_key, QueueItem(c.code, c.study.title, "adjudicate")))
        elif len(readings) < plans[c.study_id].readers_per_image:
            items.append((c.order_key, QueueItem(c.code, c.study.title, "read")))
    return [item for _, item in sorted(items, key=lambda p: p[0])]


def done_count(*, user) -> int:
    return Reading.objects.filter(reader=user, status=ReadingStatus.SIGNED).count()


def coded_get(*, user, code: str) -> CodedImage:
    """The coded image for a reader of its study: 404 off the team, 403 on it but not an evaluator."""
    try:
        coded = reading_services.coded_image_for(code)
    except reading_services.NotFound:
        raise Http404("No coded image has that code.") from None
    role = blinding.study_role(user, coded.study)
    if role is None:
        raise Http404("No coded image has that code.")
    if role != StudyRole.EVALUATOR:
        raise PermissionDenied("Only the study's evaluators read coded images.")
    return coded


def my_reading(*, user, coded: CodedImage) -> Reading | None:
    return coded.readings.filter(reader=user).first()


# --- agreement ---------------------------------------------------------------------------------

AGREEMENT_ROLES = (StudyRole.STATISTICIAN, StudyRole.UNBLINDED_STATISTICIAN)
METRICS = {"hair_count": "Hair count", "density_per_cm2": "Density (hairs/cm²)"}


def check_agreement_access(user, study: Study) -> None:
    role = blinding.study_role(user, study)
    if role is None:
        raise Http404("No such study, or you are not on its team.")
    if role not in AGREEMENT_ROLES:
        raise PermissionDenied("Reader agreement is for the study's statisticians.")


@dataclass(frozen=True)
class Agreement:
    metric: str
    pairs: list[tuple[str, float, float]]  # code, first signed reading, second signed reading
    icc: object | None  # anagen.evidence.agreement.IccResult
    bland_altman: object | None  # anagen.evidence.agreement.BlandAltman
    error: str
    coded: int
    signed_readings: int
    adjudications_open: int
    adjudications_signed: int


def double_readings(study: Study, metric: str = "hair_count") -> list[tuple[str, float, float]]:
    """``(code, first, second)`` for every coded image with at least two signed readings, in code order.

    The first and second readings are the first two signed (by time): "reader 1" and "reader 2"
    are reading positions, not people.
    """
    if metric not in METRICS:
        raise ValueError(f"metric is one of {', '.join(METRICS)}")
    out = []
    signed = (Reading.objects.filter(coded_image__study=study, status=ReadingStatus.SIGNED)
              .select_related("coded_image").order_by("coded_image__code", "signed_at", "id"))
    by_code: dict[str, list[Reading]] = {}
    for r in signed:
        by_code.setdefault(r.coded_image.code, []).append(r)
    for code, readings in by_code.items():
        if len(readings) >= 2:
            a, b = getattr(readings[0], metric), getattr(readings[1], metric)
            if a is not None and b is not None:
                out.append((code, float(a), float(b)))
    return out


def agreement(*, user, study: Study, metric: str = "hair_count") -> Agreement:
    """ICC (all six Shrout & Fleiss forms) and Bland-Altman limits over the signed double readings,
    from :mod:`anagen.evidence.agreement`."""
    check_agreement_access(user, study)
    return agreement_of(study, metric)


def agreement_of(study: Study, metric: str = "hair_count") -> Agreement:
    """:func:`agreement` without the access check, for pages that have made their own (the study
    results: readings carry codes and counts, never an arm)."""
    from anagen.evidence.agreement import bland_altman, icc

    if metric not in METRICS:
        metric = "hair_count"
    pairs = double_readings(study, metric)
    icc_result = ba = None
    error = ""
    if len(pairs) >= 2:
        try:
            icc_result = icc([[a, b] for _, a, b in pairs])
            ba = bland_altman([a for _, a, _ in pairs], [b for _, _, b in pairs])
        except (ValueError, ZeroDivisionError, FloatingPointError) as exc:
            error = str(exc)
    else:
        error = f"Agreement needs at least 2 images read twice and signed; there {'is' if len(pairs) == 1 else 'are'} {len(pairs)}."
    adjudications = Adjudication.objects.filter(coded_image__study=study)
    return Agreement(metric=metric, pairs=pairs, icc=icc_result, bland_altman=ba, error=error,
                     coded=CodedImage.objects.filter(study=study).count(),
                     signed_readings=Reading.objects.filter(coded_image__study=study, status=ReadingStatus.SIGNED).count(),
                     adjudications_open=adjudications.filter(signed_at__isnull=True).count(),
                     adjudications_signed=adjudications.filter(signed_at__isnull=False).count())
