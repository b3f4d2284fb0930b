"""Recording assessment visits: visits, photographs, phototrichogram images and corrections.

Every write of the assessments app goes through here (pages, API, admin actions).

Images: the upload is checked before anything is written (file size first, then the engine's
``read_image``, which refuses non-images and absurd dimensions before decoding). The stored
file's name carries the SHA-256 of its bytes, so a file is never overwritten: the same bytes
uploaded again give back the stored image, a changed file is stored beside it. If anything
fails, the rows are rolled back and the files this call wrote are deleted.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from anagen.core import tasks
from anagen.core.errors import ActionError, Conflict

from .models import (
    AnalysisStatus,
    AssessmentVisit,
    DeviceProfile,
    GlobalPhoto,
    ImageKind,
    Measurement,
    PhotoView,
    TrichogramAnalysis,
    TrichogramImage,
)
from .selectors import WRITE_ROLES, default_device_profile

log = logging.getLogger(__name__)

#: Largest upload accepted, in bytes (a dermoscope photograph is 1 to 10 MB).
DEFAULT_MAX_IMAGE_BYTES = 25 * 1024 * 1024
EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "TIFF": "tif"}
ANALYSIS_JOB = "anagen.assessments.jobs.trichogram_analysis_run"


def max_image_bytes() -> int:
    return int(getattr(settings, "ANAGEN_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES))


def _check_writer(actor, visit: AssessmentVisit) -> None:
    if not (actor and actor.is_authenticated and actor.has_role(*WRITE_ROLES)):
        raise PermissionDenied("Only clinicians record assessments.")
    if not (actor.can_see_clinic(visit.clinic_id) or actor.can_see_clinic(visit.patient.clinic_id)):
        raise PermissionDenied("This visit belongs to a clinic you do not work at.")
    # A visit in a subject's participation in a locked study is study data: it does not change.
    from anagen.studies.lock import check_patient_not_locked

    check_patient_not_locked(visit.patient_id, visit.visit_date)


def _check_global(value, label: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise ActionError(f"{label} must be a whole number from −3 (greatly worse) to +3 (greatly improved).",
                          field=label.lower().replace(" ", "_")) from None
    if not -3 <= value <= 3:
        raise ActionError(f"{label} must be from −3 (greatly worse) to +3 (greatly improved); {value} is outside.",
                          field=label.lower().replace(" ", "_"))
    return value


# --- visits ---------------------------------------------------------------------------------


@transaction.atomic
def visit_create(*, actor, patient, visit_date: date, is_baseline: bool = False,
                 weeks_after_last_session: int | None = None, appointment=None, plan=None, clinic=None,
                 investigator_global: int | None = None, patient_global: int | None = None,
                 adverse_events_since_last_visit: str = "", notes: str = "") -> AssessmentVisit:
    """Open an assessment visit for ``patient`` (at the patient's clinic unless ``clinic`` is given)."""
    clinic = clinic or patient.clinic
    visit = AssessmentVisit(patient=patient, clinic=clinic, visit_date=visit_date)
    _check_writer(actor, visit)
    if not actor.can_see_clinic(clinic.pk):
        raise PermissionDenied("You do not work at this clinic.")
    if visit_date is None:
        raise ActionError("Give the visit date.", field="visit_date")
    if visit_date > timezone.localdate() + timedelta(days=1):
        raise ActionError(f"The visit date {visit_date:%d/%m/%Y} is in the future; record a visit on or after the day it happens.",
                          field="visit_date")
    if appointment is not None and appointment.patient_id != patient.pk:
        raise ActionError("That appointment is another patient's; choose one of this patient's appointments.",
                          field="appointment")
    if plan is not None and plan.patient_id != patient.pk:
        raise ActionError("That treatment plan is another patient's; choose one of this patient's plans.", field="plan")
    if weeks_after_last_session is not None and int(weeks_after_last_session) < 0:
        raise ActionError("Weeks after the last session cannot be negative.", field="weeks_after_last_session")
    if is_baseline and AssessmentVisit.objects.filter(patient=patient, is_baseline=True).exists():
        raise Conflict("This patient already has a baseline visit; record this one as a follow-up.", field="is_baseline")
    last = _last_session(patient, visit_date)
    if weeks_after_last_session is None and last is not None and not is_baseline:
        weeks_after_last_session = (visit_date - last.performed_on).days // 7
    if plan is None and last is not None:
        plan = last.plan
    visit.appointment = appointment
    visit.plan = plan
    visit.is_baseline = bool(is_baseline)
    visit.weeks_after_last_session = weeks_after_last_session
    visit.investigator_global = _check_global(investigator_global, "Investigator global")
    visit.patient_global = _check_global(patient_global, "Patient global")
    visit.adverse_events_since_last_visit = adverse_events_since_last_visit or ""
    visit.notes = notes or ""
    visit.performed_by = actor
    visit.save()
    return visit


def _last_session(patient, visit_date: date):
    """The patient's latest procedure on or before ``visit_date`` (None before any)."""
    from anagen.treatments.models import Procedure

    return (Procedure.objects.filter(patient=patient, performed_on__lte=visit_date)
            .select_related("plan").order_by("-performed_on", "-id").first())


VISIT_EDITABLE = ("visit_date", "weeks_after_last_session", "investigator_global", "patient_global",
                  "adverse_events_since_last_visit", "notes")


@transaction.atomic
def visit_update(*, actor, visit: AssessmentVisit, **fields) -> AssessmentVisit:
    """Record the global assessments, adverse events since the last visit, notes or timing."""
    _check_writer(actor, visit)
    unknown = set(fields) - set(VISIT_EDITABLE)
    if unknown:
        raise ActionError(f"{', '.join(sorted(unknown))} cannot be changed here; editable: {', '.join(VISIT_EDITABLE)}.")
    if "investigator_global" in fields:
        fields["investigator_global"] = _check_global(fields["investigator_global"], "Investigator global")
    if "patient_global" in fields:
        fields["patient_global"] = _check_global(fields["patient_global"], "Patient global")
    if fields.get("visit_date") is not None and fields["visit_date"] > timezone.localdate() + timedelta(days=1):
        raise ActionError("The visit date is in the future.", field="visit_date")
    if "visit_date" in fields and fields["visit_date"] is None:
        raise ActionError("Give the visit date.", field="visit_date")
    weeks = fields.get("weeks_after_last_session")
    if weeks not in (None, "") and int(weeks) < 0:
        raise ActionError("Weeks after the last session cannot be negative.", field="weeks_after_last_session")
    for name, value in fields.items():
        if name in ("adverse_events_since_last_visit", "notes"):
            value = value or ""
        setattr(visit, name, value)
    visit.save()
    return visit


# --- uploads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    sha256: str
    width: int
    height: int
    extension: str
    name: str


def _check_upload(upload) -> CheckedImage:
    """Size limit, then the engine's own checks; an ActionError a person can act on otherwise."""
    from anagen.trichoscopy.io import ImageError, probe_image

    if upload is None:
        raise ActionError("Choose an image file to upload.", field="file")
    name = getattr(upload, "name", None) or "the uploaded file"
    size = getattr(upload, "size", None)
    limit = max_image_bytes()
    if size is not None and size > limit:
        raise ActionError(f"{name}: the file is {size / 1e6:.1f} MB, more than the {limit / 1e6:.0f} MB accepted. "
                          "Export the photograph at the device's normal resolution.", code="too_large", field="file")
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ActionError(f"{name}: the file is more than the {limit / 1e6:.0f} MB accepted.", code="too_large", field="file")
    buffer = io.BytesIO(data)
    buffer.name = name
    try:
        # The engine's checks (non-images, absurd dimensions, truncation, bombs) with a JPEG
        # decoded at 1/8 scale: the full-resolution pixels are only decoded by the analysis.
        info = probe_image(buffer)
    except ImageError as exc:
        raise ActionError(str(exc), code="bad_image", field="file") from None
    fmt = info.format or "JPEG"
    width, height = info.width, info.height
    return CheckedImage(data=data, sha256=hashlib.sha256(data).hexdigest(), width=int(width), height=int(height),
                        extension=EXTENSIONS.get(fmt, "img"), name=name[:255])


def _visit_folder(visit: AssessmentVisit) -> str:
    return f"assessments/{visit.clinic_id}/{visit.patient_id}/{visit.pk}"


class _Written:
    """Files written during one call, deleted again if the call fails."""

    def __init__(self):
        self.names: list[str] = []

    def save(self, name: str, data: bytes) -> str:
        if default_storage.exists(name):
            # The name carries the checksum: the stored bytes are these bytes. Never overwrite.
            return name
        stored = default_storage.save(name, ContentFile(data))
        self.names.append(stored)
        return stored

    def save_new(self, name: str, data: bytes) -> str:
        stored = default_storage.save(name, ContentFile(data))  # storage picks a fresh name if taken
        self.names.append(stored)
        return stored

    def discard(self) -> None:
        for name in self.names:
            try:
                default_storage.delete(name)
            except OSError:
                log.warning("could not delete %s after a failed upload", name)


def global_photo_upload(*, actor, visit: AssessmentVisit, view: str, file) -> tuple[GlobalPhoto, bool]:
    """Store a standardized global photograph of ``view``. Returns ``(photo, created)``.

    The same bytes for the same view give back the stored photograph (``created`` False).
    """
    _check_writer(actor, visit)
    if view not in PhotoView.values:
        raise ActionError(f"Unknown view {view!r}; use one of {', '.join(PhotoView.values)}.", field="view")
    checked = _check_upload(file)
    existing = GlobalPhoto.objects.filter(visit=visit, view=view, sha256=checked.sha256).first()
    if existing:
        return existing, False
    written = _Written()
    try:
        with transaction.atomic():
            name = written.save(f"{_visit_folder(visit)}/photo-{view}-{checked.sha256}.{checked.extension}", checked.data)
            photo = GlobalPhoto.objects.create(visit=visit, view=view, file=name, sha256=checked.sha256,
                                               width=checked.width, height=checked.height,
                                               original_name=checked.name, uploaded_by=actor)
    except Exception:
        written.discard()
        raise
    return photo, True


def _device_profile(visit: AssessmentVisit, device_profile: DeviceProfile | None) -> DeviceProfile | None:
    if device_profile is not None:
        if device_profile.clinic_id != visit.clinic_id:
            raise ActionError("That device profile belongs to another clinic; choose one of this clinic's devices.",
                              field="device_profile")
        if not device_profile.is_active:
            raise ActionError(f"The device profile {device_profile.name} is retired; choose an active one.",
                              field="device_profile")
        return device_profile
    return default_device_profile(visit.clinic_id)


def trichogram_image_upload(*, actor, visit: AssessmentVisit, file, kind: str = ImageKind.TARGET,
                            device_profile: DeviceProfile | None = None) -> tuple[TrichogramImage, bool]:
    """Store a phototrichogram image and queue its analysis. Returns ``(image, created)``.

    ``kind`` "target" is the clipped target area; "regrowth" is the same area 2 to 3 days
    later, compared with the visit's target image to give the anagen share. The image is analysed
    with the clinic's device profile (or ``device_profile``); the same bytes uploaded again give
    back the stored image and its analysis.
    """
    _check_writer(actor, visit)
    if kind not in ImageKind.values:
        raise ActionError(f"Unknown image kind {kind!r}; use target or regrowth.", field="kind")
    device = _device_profile(visit, device_profile)
    if kind == ImageKind.REGROWTH and not visit.trichogram_images.filter(kind=ImageKind.TARGET).exists():
        raise ActionError("Upload the clipped target-area image of this visit first; the regrowth image is compared with it.",
                          code="no_target", field="kind")
    checked = _check_upload(file)
    existing = TrichogramImage.objects.filter(visit=visit, kind=kind, sha256=checked.sha256).first()
    if existing:
        return existing, False
    profile_name = device.engine_profile if device else "default"
    written = _Written()
    try:
        with transaction.atomic():
            name = written.save(f"{_visit_folder(visit)}/{kind}-{checked.sha256}.{checked.extension}", checked.data)
            image = TrichogramImage.objects.create(
                visit=visit, kind=kind, file=name, sha256=checked.sha256, width=checked.width, height=checked.height,
                original_name=checked.name, device_profile=device, profile_name=profile_name, uploaded_by=actor)
            analysis = TrichogramAnalysis.objects.create(
                image=image, status=AnalysisStatus.QUEUED, progress=0, step="queued", profile_name=profile_name,
                px_per_mm=device.px_per_mm if device else None,
                vellus_threshold_um=device.vellus_threshold_um if device else 40.0)
            tasks.enqueue(ANALYSIS_JOB, analysis.pk, actor=actor, clinic_id=visit.clinic_id)
    except IntegrityError:
        # The same bytes arrived twice at once: keep the first.
        written.discard()
        existing = TrichogramImage.objects.filter(visit=visit, kind=kind, sha256=checked.sha256).first()
        if existing is None:
            raise
        return existing, False
    except Exception:
        written.discard()
        raise
    return image, True


@transaction.atomic
def trichogram_analysis_retry(*, actor, analysis: TrichogramAnalysis) -> TrichogramAnalysis:
    """Run a failed analysis again (after the engine or the device profile was fixed)."""
    _check_writer(actor, analysis.image.visit)
    if analysis.status != AnalysisStatus.FAILED:
        raise Conflict("Only a failed analysis can be run again; this one is "
                       f"{analysis.get_status_display().lower()}.")
    TrichogramAnalysis.objects.filter(pk=analysis.pk).update(status=AnalysisStatus.QUEUED, progress=0, step="queued",
                                                             error="")
    tasks.enqueue(ANALYSIS_JOB, analysis.pk, actor=actor, clinic_id=analysis.image.visit.clinic_id)
    analysis.refresh_from_db()
    return analysis


# --- corrections ----------------------------------------------------------------------------


def parse_segments(text: str) -> list[tuple[float, float, float, float]]:
    """Lines of ``x0,y0,x1,y1`` (pixels) into segments; an ActionError naming the bad line."""
    segments = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = [p for p in line.replace(";", ",").replace(" ", ",").split(",") if p]
        try:
            values = tuple(float(p) for p in parts)
        except ValueError:
            values = ()
        if len(values) != 4:
            raise ActionError(f"Line {number} ({line!r}) is not four numbers x0,y0,x1,y1 in pixels.", field="added")
        segments.append(values)
    return segments


@transaction.atomic
def checked_correction(auto, added, removed, profile):
    """A clinician's correction of an automatic result, checked and applied: ``added`` hairs as
    ``(x0, y0, x1, y1)`` inside the image, ``removed`` hairs by their numbers on the overlay, no
    hair counted twice. Returns ``(segments, removed_ids, corrected)``; bad input raises
    :class:`ActionError` naming the field. Used by the clinic's corrections and by blinded reading."""
    from anagen.trichoscopy import apply_corrections
    from anagen.trichoscopy.corrections import added_hair_problems

    height, width = auto.image_shape
    segments = []
    for seg in added or ():
        try:
            x0, y0, x1, y1 = (float(v) for v in seg)
        except (TypeError, ValueError):
            raise ActionError(f"Each added hair needs four numbers x0, y0, x1, y1; got {seg!r}.", field="added") from None
        if not all(0 <= x <= width for x in (x0, x1)) or not all(0 <= y <= height for y in (y0, y1)):
            raise ActionError(f"The added hair {x0:g},{y0:g},{x1:g},{y1:g} lies outside the {width} x {height} image.",
                              field="added")
        if (x0, y0) == (x1, y1):
            raise ActionError(f"The added hair at {x0:g},{y0:g} has no length; give its two ends.", field="added")
        segments.append((x0, y0, x1, y1))
    try:
        removed_ids = sorted({int(i) for i in removed or ()})
    except (TypeError, ValueError):
        raise ActionError("Hairs to remove are given by their numbers on the overlay.", field="removed") from None
    known = {h.id for h in auto.hairs}
    unknown = [i for i in removed_ids if i not in known]
    if unknown:
        raise ActionError(f"No hair numbered {', '.join(map(str, unknown))} in the automatic result; "
                          "use the numbers shown on the overlay.", field="removed")
    problems = added_hair_problems(auto, segments, removed_ids)
    if problems:
        raise ActionError(f"Each hair is counted once: {'; '.join(problems)}. Delete the repeated lines.",
                          field="added", code="overlapping_hairs")
    try:
        corrected = apply_corrections(auto, added=segments, removed=removed_ids, profile=profile)
    except ValueError as exc:
        raise ActionError(f"The correction cannot be applied: {exc}.", field="added") from None
    return segments, removed_ids, corrected


def trichogram_analysis_correct(*, actor, analysis: TrichogramAnalysis, added=(), removed=(),
                                confirm_reason: str = "") -> TrichogramAnalysis:
    """Store a clinician's correction beside the automatic result.

    Added hairs that repeat or overlap each other, or lie on a hair that is kept, are refused.
    A correction that changes the count implausibly (see
    :func:`anagen.trichoscopy.corrections.implausible_change`) is refused with code
    ``needs_confirmation`` unless ``confirm_reason`` says why it is right; the reason is stored
    with the correction (and so in its history).

    ``added`` are hair segments ``(x0, y0, x1, y1)`` in image pixels; ``removed`` are ids of
    automatically found hairs. Corrections always apply to the automatic result (saving again
    replaces the previous correction), which is never changed. The visit's measurement then
    uses the corrected values and keeps the automatic ones beside them.
    """
    from anagen.trichoscopy import ImageAnalysis, read_image, render_overlay
    from anagen.trichoscopy.corrections import implausible_change

    analysis = TrichogramAnalysis.objects.select_for_update().select_related("image__visit__patient").get(pk=analysis.pk)
    image = analysis.image
    _check_writer(actor, image.visit)
    if analysis.status != AnalysisStatus.DONE or not analysis.automatic:
        raise Conflict("The analysis has not finished; correct it once the automatic result is shown.")
    auto = ImageAnalysis.from_dict(analysis.automatic)
    profile = engine_profile_for(analysis)
    segments, removed_ids, corrected = checked_correction(auto, added, removed, profile)
    reasons = implausible_change(auto.hair_count, corrected.hair_count, added_count=len(segments),
                                 field_area_cm2=auto.field_area_cm2)
    confirm_reason = (confirm_reason or "").strip()
    if reasons and not confirm_reason:
        raise ActionError(f"This correction needs a second look: {'; '.join(reasons)}. If it is right, give the "
                          "reason (for example \"image heavily under-counted: dense vertex\") and save again.",
                          field="confirm_reason", code="needs_confirmation")
    if len(confirm_reason) > 500:
        raise ActionError("Keep the reason under 500 characters.", field="confirm_reason")
    from anagen.trichoscopy.io import analysis_slot

    with analysis_slot(), default_storage.open(image.file.name, "rb") as fh:
        png = render_overlay(read_image(fh), corrected, profile)
    written = _Written()
    try:
        name = written.save_new(f"{_visit_folder(image.visit)}/overlay-corrected-{image.sha256[:16]}-a{analysis.pk}.png", png)
        analysis.corrections = {"added": [list(s) for s in segments], "removed": removed_ids}
        if reasons:
            analysis.corrections.update(confirmed_because=confirm_reason, implausible=reasons)
        analysis.corrected = corrected.to_dict()
        analysis.corrected_by = actor
        analysis.corrected_at = timezone.now()
        analysis.corrected_overlay = name
        analysis.save()
        measurement_refresh(visit=image.visit)
        from .matching import visit_matches_refresh

        visit_matches_refresh(analysis=analysis)
    except Exception:
        written.discard()
        raise
    return analysis


def engine_profile_for(analysis: TrichogramAnalysis):
    """The engine ``Profile`` an analysis runs with: the named profile with the clinic's calibration."""
    from dataclasses import replace

    from anagen.trichoscopy import load_profile

    base = load_profile(analysis.profile_name or None)
    return replace(base, px_per_mm=analysis.px_per_mm, vellus_threshold_um=analysis.vellus_threshold_um, source=None)


# --- measurement ----------------------------------------------------------------------------


def measurement_refresh(*, visit: AssessmentVisit) -> Measurement | None:
    """Bring the visit's measurement up to date with its latest finished analyses.

    Counts come from the latest finished target-area image that is not voided (its corrected
    result when there is one, the automatic values kept beside); the anagen share from the
    latest such regrowth image. When every image is voided the counts are emptied.
    """
    done = (TrichogramAnalysis.objects.filter(image__visit=visit, status=AnalysisStatus.DONE,
                                              image__voided_at__isnull=True)
            .select_related("image").order_by("-image__uploaded_at", "-image_id"))
    target = next((a for a in done if a.image.kind == ImageKind.TARGET), None)
    regrowth = next((a for a in done if a.image.kind == ImageKind.REGROWTH and a.regrowth), None)
    m = Measurement.objects.filter(visit=visit).first()
    if target is None and regrowth is None and m is None:
        return None
    m = m or Measurement(visit=visit)
    auto = (target.automatic or {}) if target is not None else {}
    eff = (target.corrected or auto) if target is not None else {}
    m.source_image = target.image if target is not None else None
    m.field_area_cm2 = auto.get("field_area_cm2")
    m.hair_count = eff.get("hair_count")
    m.terminal_count = eff.get("terminal_count")
    m.vellus_count = eff.get("vellus_count")
    m.mean_diameter_um = eff.get("mean_diameter_um")
    m.hair_count_auto = auto.get("hair_count")
    m.terminal_count_auto = auto.get("terminal_count")
    m.vellus_count_auto = auto.get("vellus_count")
    m.mean_diameter_um_auto = auto.get("mean_diameter_um")
    m.is_corrected = target is not None and target.corrected is not None
    m.engine_version = target.engine_version if target is not None else ""
    m.profile_name = target.profile_name if target is not None else ""
    m.anagen_pct = regrowth.regrowth.get("anagen_pct") if regrowth is not None else None
    m.save()
    return m


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(f"Give the reason for {what}; it is kept in the record's history.", field="reason")
    if len(reason) > 500:
        raise ActionError("Keep the reason under 500 characters.", field="reason")
    return reason


@transaction.atomic
def measurement_exclude(*, actor, measurement: Measurement, reason: str) -> Measurement:
    """Leave a measurement out of the patient's series (outcomes, charts, changes) for ``reason``.

    The values stay on the visit, marked as excluded; including it again is
    :func:`measurement_include`.
    """
    m = Measurement.objects.select_for_update().select_related("visit__patient").get(pk=measurement.pk)
    _check_writer(actor, m.visit)
    reason = _reason(reason, "excluding this measurement")
    if m.excluded:
        raise Conflict("This measurement is already excluded from the series.")
    m.excluded, m.exclusion_reason, m.excluded_by, m.excluded_at = True, reason, actor, timezone.now()
    m.save()
    return m


@transaction.atomic
def measurement_include(*, actor, measurement: Measurement) -> Measurement:
    """Put an excluded measurement back into the series (the exclusion stays in the history)."""
    m = Measurement.objects.select_for_update().select_related("visit__patient").get(pk=measurement.pk)
    _check_writer(actor, m.visit)
    if not m.excluded:
        raise Conflict("This measurement is already part of the series.")
    m.excluded, m.exclusion_reason, m.excluded_by, m.excluded_at = False, "", None, None
    m.save()
    return m


@transaction.atomic
def trichogram_image_void(*, actor, image: TrichogramImage, reason: str) -> TrichogramImage:
    """Void an image for ``reason``: it and its results stay visible, but the visit's
    measurement no longer uses them (it falls back to the visit's other images, if any)."""
    image = TrichogramImage.objects.select_for_update().select_related("visit__patient").get(pk=image.pk)
    _check_writer(actor, image.visit)
    reason = _reason(reason, "voiding this image")
    if image.voided_at is not None:
        raise Conflict("This image is already voided.")
    image.voided_at, image.voided_by, image.void_reason = timezone.now(), actor, reason
    image.save()
    measurement_refresh(visit=image.visit)
    analysis = TrichogramAnalysis.objects.filter(image=image).first()
    if analysis is not None:
        from .matching import visit_matches_refresh

        # Follow-ups matched to a voided baseline image are matched to the baseline's other image.
        visit_matches_refresh(analysis=analysis)
    return image


@transaction.atomic
def trichogram_analysis_rerun(*, actor, analysis: TrichogramAnalysis, device_profile: DeviceProfile,
                              reason: str) -> TrichogramAnalysis:
    """Analyse the image again with ``device_profile`` (another magnification or calibration).

    The current result (automatic, corrected, overlays) moves to ``previous`` with who, when
    and why; the new result replaces it once the background analysis finishes, and the visit's
    measurement follows. A correction made on the old result does not carry over: its hair
    numbers belong to the old detection.
    """
    analysis = (TrichogramAnalysis.objects.select_for_update().select_related("image__visit__patient")
                .get(pk=analysis.pk))
    image = analysis.image
    _check_writer(actor, image.visit)
    reason = _reason(reason, "analysing the image again")
    if image.voided_at is not None:
        raise Conflict("This image is voided; upload a new photograph instead of analysing it again.")
    if not analysis.is_finished:
        raise Conflict("The analysis is still running; wait for its result before starting another.")
    device = _device_profile(image.visit, device_profile)
    if device is None:
        raise ActionError("Choose a device profile to analyse the image with.", field="device_profile")
    _requeue_keeping_previous(analysis, image, replaced_by=str(actor), reason=reason, actor=actor, device=device)
    analysis.refresh_from_db()
    return analysis


def _requeue_keeping_previous(analysis: TrichogramAnalysis, image: TrichogramImage, *, replaced_by: str,
                              reason: str, actor=None, device: DeviceProfile | None = None) -> None:
    """Move the current result to ``previous`` (who, when, why, which engine) and queue a new one,
    with ``device``'s profile when given. Called inside the caller's transaction."""
    earlier = list(analysis.previous or [])
    earlier.append({
        "status": analysis.status, "error": analysis.error, "engine_version": analysis.engine_version,
        "profile_name": analysis.profile_name, "px_per_mm": analysis.px_per_mm,
        "vellus_threshold_um": analysis.vellus_threshold_um,
        "device_profile": image.device_profile.name if image.device_profile else None,
        "automatic": analysis.automatic, "regrowth": analysis.regrowth, "corrections": analysis.corrections,
        "corrected": analysis.corrected, "overlay": analysis.overlay.name if analysis.overlay else "",
        "corrected_overlay": analysis.corrected_overlay.name if analysis.corrected_overlay else "",
        "finished_at": analysis.finished_at.isoformat() if analysis.finished_at else None,
        "replaced_at": timezone.now().isoformat(), "replaced_by": replaced_by, "reason": reason,
    })
    if device is not None:
        image.device_profile, image.profile_name = device, device.engine_profile
        image.save()
        analysis.profile_name = device.engine_profile
        analysis.px_per_mm = device.px_per_mm
        analysis.vellus_threshold_um = device.vellus_threshold_um
    analysis.previous = earlier
    analysis.status, analysis.progress, analysis.step, analysis.error = AnalysisStatus.QUEUED, 0, "queued", ""
    analysis.automatic = analysis.regrowth = analysis.corrections = analysis.corrected = None
    analysis.corrected_by, analysis.corrected_at, analysis.corrected_overlay = None, None, None
    # A new result has not been reviewed: it is no validation reference until marked again.
    analysis.validation_reference_at = analysis.validation_reference_by = None
    analysis.overlay = ""
    analysis.started_at = analysis.finished_at = None
    analysis.save()
    # Until the new result arrives the visit has no count from this image, never the old one.
    measurement_refresh(visit=image.visit)
    tasks.enqueue(ANALYSIS_JOB, analysis.pk, actor=actor, clinic_id=image.visit.clinic_id)


def reanalysis_candidates(*, clinic_slug: str | None = None, study_id: int | None = None,
                          engine_version: str | None = None):
    """Analysed images (finished, not voided) in scope; ``engine_version`` keeps only the results
    that engine version made. The caller excludes those already at the current version."""
    analyses = TrichogramAnalysis.objects.filter(image__voided_at__isnull=True)
    if clinic_slug:
        analyses = analyses.filter(image__visit__clinic__slug=clinic_slug)
    if study_id:
        analyses = analyses.filter(image__visit__patient__study_subjects__study_id=study_id).distinct()
    if engine_version:
        analyses = analyses.filter(engine_version=engine_version)
    return analyses


def trichogram_analysis_reanalyse(*, analysis_id: int, engine_version: str, actor=None) -> bool:
    """Analyse one image again with the installed engine (batch re-analysis), keeping the old
    result in ``previous``. False when there is nothing to do (already analysed with this
    engine version, still running, or voided), so a batch run again resumes where it stopped."""
    with transaction.atomic():
        analysis = (TrichogramAnalysis.objects.select_for_update(of=("self",))
                    .select_related("image__visit", "image__device_profile").filter(pk=analysis_id).first())
        if (analysis is None or analysis.status != AnalysisStatus.DONE or analysis.engine_version == engine_version
                or analysis.image.voided_at is not None):
            return False
        _requeue_keeping_previous(analysis, analysis.image, replaced_by=str(actor) if actor else "anagen reanalyze",
                                  reason=f"re-analysed with engine {engine_version}", actor=actor)
    return True
