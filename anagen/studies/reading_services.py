"""Blinded reading, the writes: coding study images, readings, signing, adjudication, the plan.

- :func:`reading_code_images` copies each analysed target-area image of a study subject's visit
  into a :class:`~anagen.studies.models_reading.CodedImage`: pixels only (re-encoded as PNG
  without any metadata), a file name that is the random code, a random presentation order.
  It is the only reader of ``CodedImage.source``.
- :func:`reading_save` stores an evaluator's draft correction of the engine's result (the
  trichoscopy engine's ``apply_corrections``, the same checks as a clinician's correction).
- :func:`reading_sign` signs it (password re-entered, meaning "blinded reading"); when the
  image's readings are all signed and two differ by more than the plan's margin, an
  :class:`~anagen.studies.models_reading.Adjudication` opens for another evaluator of the study.
- :func:`adjudication_sign` records the adjudicator's final value, signed the same way.
- :func:`final_counts` hands each read image's final count to the analysis
  (:mod:`anagen.studies.datasets`), keyed by the original image, and :func:`final_signatures`
  who signed that final count and when (for the ODM export's audit record of the value): the
  only other readers of ``CodedImage.source``, on the server, never shown to a reader.

Every message a reader can see names the code only, never a patient, date, visit, side or arm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace as dc_replace
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from anagen.core.errors import ActionError, Conflict, NotFound

from . import blinding
from .models import Study, StudyRole, Subject, SubjectStatus
from .models_reading import Adjudication, CodedImage, Reading, ReadingPlan, ReadingStatus
from .reading import final_count, is_code, needs_adjudication, new_code, new_order_key, strip_to_png

log = logging.getLogger(__name__)

READING_MEANING = "Blinded reading: I counted this coded image without knowing whose it is, when or which arm"
ADJUDICATION_MEANING = "Adjudication: the final count of this coded image, read blinded"
# Study roles that start the coding of a study's images and set the reading plan.
CODING_ROLES = (StudyRole.STATISTICIAN, StudyRole.UNBLINDED_STATISTICIAN, StudyRole.COORDINATOR)
PLAN_ROLES = (StudyRole.STATISTICIAN, StudyRole.UNBLINDED_STATISTICIAN)
# Subjects whose visits are read: randomized, including those who left afterwards.
READ_STATUSES = (SubjectStatus.RANDOMIZED, SubjectStatus.WITHDRAWN, SubjectStatus.LOST)


def _check(actor, study: Study, roles, what: str) -> None:
    role = blinding.study_role(actor, study)
    if role is None:
        raise NotFound("No such study, or you are not on its team.")
    if role not in roles:
        raise PermissionDenied(f"Only a study {' or '.join(StudyRole(r).label for r in roles)} may {what}.")


def check_reader(actor, study: Study) -> None:
    _check(actor, study, (StudyRole.EVALUATOR,), "read coded images")


def plan_for(study: Study) -> ReadingPlan:
    plan = ReadingPlan.objects.filter(study=study).first()
    return plan or ReadingPlan(study=study)  # the defaults, not stored until changed


@transaction.atomic
def reading_plan_update(*, actor, study: Study, readers_per_image, margin_pct, margin_hairs) -> ReadingPlan:
    """Readers per image (1 to 5) and the adjudication margin (per cent of the mean, and hairs)."""
    _check(actor, study, PLAN_ROLES, "set the reading plan")
    try:
        readers, pct, hairs = int(readers_per_image), float(margin_pct), int(margin_hairs)
    except (TypeError, ValueError):
        raise ActionError("Readers per image and the margin in hairs are whole numbers; the margin in per cent "
                          "a number.", field="readers_per_image") from None
    if not 1 <= readers <= 5:
        raise ActionError("Between 1 and 5 readers per image.", field="readers_per_image")
    if not 0 <= pct <= 100:
        raise ActionError("The margin in per cent lies between 0 and 100.", field="margin_pct")
    if not 0 <= hairs <= 1000:
        raise ActionError("The margin in hairs lies between 0 and 1000.", field="margin_hairs")
    plan, _ = ReadingPlan.objects.select_for_update().get_or_create(study=study)
    plan.readers_per_image, plan.margin_pct, plan.margin_hairs = readers, pct, hairs
    plan.save()
    return plan


# --- coding ------------------------------------------------------------------------------------


def _study_images(study: Study):
    """The analysed, not voided, target-area images of the study subjects' visits since screening."""
    from anagen.assessments.models import AnalysisStatus, ImageKind, TrichogramImage

    images = []
    for subject in Subject.objects.filter(study=study, status__in=READ_STATUSES).order_by("pk"):
        images.extend(TrichogramImage.objects.filter(
            visit__patient_id=subject.patient_id, visit__visit_date__gte=timezone.localtime(subject.screened_at).date(),
            kind=ImageKind.TARGET, voided_at__isnull=True, analysis__status=AnalysisStatus.DONE,
            analysis__automatic__isnull=False).select_related("analysis"))
    return images


def code_image(*, study: Study, image) -> CodedImage:
    """One coded copy of ``image`` for ``study`` (the stored one when it is coded already)."""
    from anagen.trichoscopy import read_image

    existing = CodedImage.objects.filter(study=study, source=image).first()
    if existing:
        return existing
    analysis = image.analysis
    with default_storage.open(image.file.name, "rb") as fh:
        pixels = read_image(fh.read())  # from bytes: no file name travels into any message
    png = strip_to_png(pixels)
    for _ in range(5):
        code = new_code()
        if not CodedImage.objects.filter(code=code).exists():
            break
    else:  # pragma: no cover - 31^8 codes
        raise Conflict("Could not draw a fresh image code; try again.")
    name = default_storage.save(f"reading/{code}.png", ContentFile(png))
    try:
        with transaction.atomic():
            return CodedImage.objects.create(
                study=study, code=code, source=image, file=name, width=int(pixels.shape[1]),
                height=int(pixels.shape[0]), automatic=analysis.automatic, profile_name=analysis.profile_name,
                px_per_mm=analysis.px_per_mm, vellus_threshold_um=analysis.vellus_threshold_um,
                order_key=new_order_key())
    except Exception:
        default_storage.delete(name)
        existing = CodedImage.objects.filter(study=study, source=image).first()
        if existing:  # coded at the same moment by someone else
            return existing
        raise


def reading_code_images(*, actor, study: Study) -> list[CodedImage]:
    """Code every analysed target-area image of the study's visits not coded yet; the new ones.

    Run by the study's statistician or coordinator (and by the demo). Each image is its own
    transaction: a failure leaves the images coded before it in the queue.
    """
    _check(actor, study, CODING_ROLES, "send images to the reading queue")
    made = []
    for image in _study_images(study):
        if CodedImage.objects.filter(study=study, source=image).exists():
            continue
        try:
            made.append(code_image(study=study, image=image))
        except IntegrityError:
            continue
    return made


# --- reading -----------------------------------------------------------------------------------


def engine_profile(coded: CodedImage):
    from anagen.trichoscopy import load_profile

    base = load_profile(coded.profile_name or None)
    return dc_replace(base, px_per_mm=coded.px_per_mm, vellus_threshold_um=coded.vellus_threshold_um, source=None)


def coded_pixels(coded: CodedImage):
    from anagen.trichoscopy import read_image

    with default_storage.open(coded.file.name, "rb") as fh:
        return read_image(fh.read())


def capacity_left(coded: CodedImage, actor) -> bool:
    plan = plan_for(coded.study)
    others = coded.readings.exclude(reader=actor).count()
    return others < plan.readers_per_image


def _correct(coded: CodedImage, added, removed):
    from anagen.assessments.services import checked_correction
    from anagen.trichoscopy import ImageAnalysis

    return checked_correction(ImageAnalysis.from_dict(coded.automatic), added, removed, engine_profile(coded))


@transaction.atomic
def reading_save(*, actor, coded: CodedImage, added=(), removed=()) -> Reading:
    """Store (or replace) the actor's draft reading: the engine's result with their corrections."""
    coded = CodedImage.objects.select_for_update().select_related("study").get(pk=coded.pk)
    check_reader(actor, coded.study)
    reading = coded.readings.filter(reader=actor).first()
    if reading and reading.is_signed:
        raise Conflict(f"Your reading of {coded.code} is signed; it cannot change.", code="signed")
    if reading is None and not capacity_left(coded, actor):
        raise Conflict(f"{coded.code} has all its readers already; take the next image in your queue.", code="full")
    segments, removed_ids, corrected = _correct(coded, added, removed)
    values = {"added": [list(s) for s in segments], "removed": removed_ids, "result": corrected.to_dict(),
              "hair_count": corrected.hair_count, "field_area_cm2": corrected.field_area_cm2,
              "density_per_cm2": corrected.density_per_cm2}
    if reading is None:
        return Reading.objects.create(coded_image=coded, reader=actor, **values)
    for key, value in values.items():
        setattr(reading, key, value)
    reading.save()
    return reading


def _check_password(actor, password: str) -> None:
    if not password or not actor.check_password(password):
        raise ActionError("The password is not correct: re-enter your own password to sign.", field="password",
                          code="bad_password")


@transaction.atomic
def reading_sign(*, actor, coded: CodedImage, password: str) -> Reading:
    """Sign the actor's reading (an unchanged engine result is saved as the reading first).

    Once the image's readings are all in and signed, any two that differ by more than the
    plan's margin open an adjudication.
    """
    coded = CodedImage.objects.select_for_update().select_related("study").get(pk=coded.pk)
    check_reader(actor, coded.study)
    _check_password(actor, password)
    reading = coded.readings.filter(reader=actor).first()
    if reading is None:
        reading = reading_save(actor=actor, coded=coded)
    if reading.is_signed:
        raise Conflict(f"Your reading of {coded.code} is already signed.", code="signed")
    reading.status = ReadingStatus.SIGNED
    reading.signed_at = timezone.now()
    reading.save()
    _open_adjudication_if_needed(coded)
    return reading


def _open_adjudication_if_needed(coded: CodedImage) -> Adjudication | None:
    plan = plan_for(coded.study)
    signed = list(coded.readings.filter(status=ReadingStatus.SIGNED).order_by("signed_at", "id"))
    if len(signed) < max(2, plan.readers_per_image) or has_adjudication(coded):
        return None
    counts = [r.hair_count for r in signed]
    worst = max(((a, b) for i, a in enumerate(counts) for b in counts[i + 1:]), key=lambda p: abs(p[0] - p[1]))
    if not needs_adjudication(*worst, margin_pct=plan.margin_pct, margin_hairs=plan.margin_hairs):
        return None
    reason = (f"The readings counted {', '.join(map(str, counts))} hairs: a difference of {abs(worst[0] - worst[1])}, "
              f"more than the margin ({plan.margin_pct:g} % of the mean or {plan.margin_hairs} hairs).")
    return Adjudication.objects.create(coded_image=coded, reason=reason)


def has_adjudication(coded: CodedImage) -> bool:
    return Adjudication.objects.filter(coded_image=coded).exists()


def can_adjudicate(user, coded: CodedImage) -> bool:
    """An evaluator of the study who did not read this image."""
    return (blinding.study_role(user, coded.study) == StudyRole.EVALUATOR
            and not coded.readings.filter(reader=user).exists())


@transaction.atomic
def adjudication_sign(*, actor, coded: CodedImage, hair_count, password: str, note: str = "") -> Adjudication:
    coded = CodedImage.objects.select_for_update().select_related("study").get(pk=coded.pk)
    check_reader(actor, coded.study)
    adjudication = Adjudication.objects.filter(coded_image=coded).first()
    if adjudication is None:
        raise NotFound(f"{coded.code} has no adjudication to sign.")
    if not can_adjudicate(actor, coded):
        raise PermissionDenied("You read this image: another evaluator of the study adjudicates it.")
    if adjudication.is_signed:
        raise Conflict(f"The adjudication of {coded.code} is already signed.", code="signed")
    try:
        count = int(hair_count)
    except (TypeError, ValueError):
        raise ActionError("Give the final hair count as a whole number.", field="hair_count") from None
    if not 0 <= count <= 100000:
        raise ActionError("The final hair count is a whole number of 0 or more.", field="hair_count")
    note = (note or "").strip()
    if len(note) > 2000:
        raise ActionError("Keep the note under 2000 characters.", field="note")
    _check_password(actor, password)
    area = (coded.automatic or {}).get("field_area_cm2")
    adjudication.adjudicator = actor
    adjudication.hair_count = count
    adjudication.density_per_cm2 = count / area if area else None
    adjudication.note = note
    adjudication.signed_at = timezone.now()
    adjudication.save()
    return adjudication


def final_counts(study: Study) -> dict[int, tuple[float, str]]:
    """``{original image id: (hair count, source)}`` for the study's coded images whose blinded
    reading is final (:func:`anagen.studies.reading.final_count`: the signed adjudication, else
    the mean of the signed readings once the plan's readers have all signed). Three queries."""
    plan = plan_for(study)
    signed: dict[int, list[int]] = {}
    for coded_id, count in Reading.objects.filter(coded_image__study=study, status=ReadingStatus.SIGNED).values_list(
            "coded_image_id", "hair_count"):
        signed.setdefault(coded_id, []).append(count)
    adjudications = {coded_id: (count, signed_at) for coded_id, count, signed_at in Adjudication.objects.filter(
        coded_image__study=study).values_list("coded_image_id", "hair_count", "signed_at")}
    out = {}
    for coded_id, source_id in CodedImage.objects.filter(study=study).values_list("pk", "source_id"):
        count, signed_at = adjudications.get(coded_id, (None, None))
        final = final_count(signed.get(coded_id, []), readers_per_image=plan.readers_per_image,
                            adjudicated=count if signed_at is not None else None,
                            adjudication_open=coded_id in adjudications and signed_at is None)
        if final is not None:
            out[source_id] = final
    return out


@dataclass(frozen=True)
class FinalSignature:
    """Who made an image's blinded reading final, and when: the adjudicator and the adjudication's
    signing time, or (a mean of signed readings) the reader whose signature completed it and its
    time, with every signed reading the mean is taken over."""

    source: str  # as the dataset names it: "adjudicated reading", "blinded reading (mean of N)"
    signer: object  # a User
    signed_at: datetime
    adjudication_id: int | None
    readings: tuple[tuple[int, object, datetime], ...]  # (reading pk, reader, signed at), in signing order


def final_signatures(study: Study, image_ids) -> dict[int, FinalSignature]:
    """``{original image id: FinalSignature}`` for those of ``image_ids`` whose blinded reading in
    ``study`` is final; the same rule as :func:`final_counts`."""
    final = final_counts(study)
    wanted = [i for i in image_ids if i in final]
    if not wanted:
        return {}
    coded = dict(CodedImage.objects.filter(study=study, source_id__in=wanted).values_list("pk", "source_id"))
    signed: dict[int, list] = {}
    for r in (Reading.objects.filter(coded_image_id__in=list(coded), status=ReadingStatus.SIGNED)
              .select_related("reader").order_by("signed_at", "pk")):
        signed.setdefault(r.coded_image_id, []).append((r.pk, r.reader, r.signed_at))
    adjudications = {a.coded_image_id: a for a in Adjudication.objects.filter(
        coded_image_id__in=list(coded), signed_at__isnull=False).select_related("adjudicator")}
    out = {}
    for coded_id, image_id in coded.items():
        readings = tuple(signed.get(coded_id, ()))
        adjudication = adjudications.get(coded_id)
        if adjudication is not None:
            out[image_id] = FinalSignature(final[image_id][1], adjudication.adjudicator, adjudication.signed_at,
                                           adjudication.pk, readings)
        elif readings:
            _, last_reader, last_at = readings[-1]
            out[image_id] = FinalSignature(final[image_id][1], last_reader, last_at, None, readings)
    return out


def coded_image_for(code: str) -> CodedImage:
    """Look a code up (shape checked first); NotFound names the code only."""
    if not is_code(code):
        raise NotFound("No coded image has that code.")
    coded = CodedImage.objects.select_related("study").filter(code=code).first()
    if coded is None:
        raise NotFound("No coded image has that code.")
    return coded


def code_on_analysis(analysis_id: int) -> list[CodedImage]:
    """The hook: once a target-area image's analysis is done, code it for every study whose
    randomized subject it belongs to (a visit on or after the subject's screening).

    Connected in ``apps.py`` to the analysis' save, run after the commit; a failure is logged and
    leaves the image for :func:`reading_code_images` to pick up.
    """
    from anagen.assessments.models import AnalysisStatus, ImageKind, TrichogramAnalysis

    analysis = (TrichogramAnalysis.objects.select_related("image__visit")
                .filter(pk=analysis_id, status=AnalysisStatus.DONE, automatic__isnull=False).first())
    if analysis is None or analysis.image.kind != ImageKind.TARGET or analysis.image.voided_at:
        return []
    visit = analysis.image.visit
    made = []
    for subject in Subject.objects.filter(patient_id=visit.patient_id, status__in=READ_STATUSES).select_related("study"):
        if visit.visit_date < timezone.localtime(subject.screened_at).date():
            continue
        try:
            made.append(code_image(study=subject.study, image=analysis.image))
        except Exception:
            log.exception("coding image %s for study %s failed; the study's coding run will retry it",
                          analysis.image_id, subject.study_id)
    return made


def _analysis_saved(sender, instance, **kwargs) -> None:
    if instance.status == "done" and instance.automatic:
        transaction.on_commit(lambda pk=instance.pk: code_on_analysis(pk))
