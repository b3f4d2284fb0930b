"""Assessments API under /api/v1/assessments: visits, uploads and analysis results.

The same selectors (role, then clinic: 403 / 404) and services as the pages. Uploads are
multipart; an image's analysis runs in the background: poll ``GET /images/{id}`` for its status
and progress, then read the automatic and corrected results and fetch the overlay PNG.
"""

from __future__ import annotations

from datetime import date, datetime

from django.http import Http404
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from anagen.api.params import Id
from anagen.core.errors import ActionError

from . import selectors, services, validation
from .models import AssessmentVisit, DeviceProfile, GlobalPhoto, TrichogramImage
from .views import _file_response

router = Router(tags=["assessments"])


class MeasurementOut(Schema):
    hair_count: int | None
    field_area_cm2: float | None
    density_per_cm2: float | None
    terminal_count: int | None
    vellus_count: int | None
    mean_diameter_um: float | None
    anagen_pct: float | None
    hair_count_auto: int | None
    density_per_cm2_auto: float | None
    terminal_count_auto: int | None
    vellus_count_auto: int | None
    mean_diameter_um_auto: float | None
    is_corrected: bool
    engine_version: str
    profile_name: str
    source_image_id: int | None
    # The automatic count adjusted by the device's active calibration, beside the counts above
    # (never in their place); null when the count was corrected or no calibration is active.
    adjusted_hair_count: float | None = None
    adjusted_density_per_cm2: float | None = None
    adjustment_version: int | None = None


class VisitOut(Schema):
    id: int
    patient_id: int
    clinic_id: int
    appointment_id: int | None
    plan_id: int | None
    visit_date: date
    is_baseline: bool
    weeks_after_last_session: int | None
    investigator_global: int | None
    patient_global: int | None
    adverse_events_since_last_visit: str
    notes: str
    performed_by_id: int | None
    created_at: datetime
    measurement: MeasurementOut | None = None


class PhotoOut(Schema):
    id: int
    visit_id: int
    view: str
    sha256: str
    width: int | None
    height: int | None
    uploaded_at: datetime
    file_url: str


class AnalysisOut(Schema):
    status: str
    progress: int
    step: str
    error: str
    engine_version: str
    profile_name: str
    px_per_mm: float | None
    automatic: dict | None
    corrected: dict | None
    corrections: dict | None
    regrowth: dict | None
    corrected_at: datetime | None
    overlay_url: str | None
    corrected_overlay_url: str | None
    # The automatic count adjusted by the active calibration of the image's device profile for
    # this engine version; null when corrected (only automatic counts are adjusted) or none is active.
    adjusted_hair_count: float | None = None
    adjusted_density_per_cm2: float | None = None
    adjustment_version: int | None = None


class ImageOut(Schema):
    id: int
    visit_id: int
    kind: str
    sha256: str
    width: int
    height: int
    profile_name: str
    device_profile_id: int | None
    uploaded_at: datetime
    file_url: str
    analysis: AnalysisOut | None


class VisitDetailOut(VisitOut):
    photos: list[PhotoOut]
    images: list[ImageOut]


class VisitIn(Schema):
    patient_id: int
    visit_date: date
    is_baseline: bool = False
    weeks_after_last_session: int | None = None
    appointment_id: int | None = None
    plan_id: int | None = None
    investigator_global: int | None = None
    patient_global: int | None = None
    adverse_events_since_last_visit: str = ""
    notes: str = ""


class VisitPatch(Schema):
    visit_date: date | None = None
    weeks_after_last_session: int | None = None
    investigator_global: int | None = None
    patient_global: int | None = None
    adverse_events_since_last_visit: str | None = None
    notes: str | None = None


class CorrectionIn(Schema):
    added: list[list[float]] = []
    removed: list[int] = []
    confirm_reason: str = ""


class MeasurementPointOut(Schema):
    visit_id: int
    visit_date: date
    weeks_after_last_session: int | None
    is_baseline: bool
    hair_count: int | None
    field_area_cm2: float | None
    density_per_cm2: float | None
    terminal_count: int | None
    vellus_count: int | None
    mean_diameter_um: float | None
    anagen_pct: float | None
    is_corrected: bool
    investigator_global: int | None
    patient_global: int | None
    excluded: bool = False
    exclusion_reason: str = ""
    flags: list[str] = []
    adjusted_hair_count: float | None = None
    adjusted_density_per_cm2: float | None = None
    adjustment_version: int | None = None


class VisitMatchOut(Schema):
    image_id: int
    baseline_image_id: int
    engine_version: str
    kept: int
    lost: int
    new: int
    baseline_count: int
    followup_count: int
    matched_change: int
    count_change: int
    change: int
    same_area: bool
    change_used: str
    overlap_area_cm2: float | None
    rejected_lost: list[int]
    rejected_new: list[int]
    confirmed_change: int | None
    confirmed_at: datetime | None
    result: dict


class VisitMatchReviewIn(Schema):
    rejected_lost: list[int] = []
    rejected_new: list[int] = []


# --- serializers ---------------------------------------------------------------------------


_ADJUSTED = ("adjusted_hair_count", "adjusted_density_per_cm2", "adjustment_version")


def _adjusted(adjusted) -> dict:
    """The adjusted-count fields of an image or a measurement (validation.adjusted_count)."""
    if adjusted is None:
        return dict.fromkeys(_ADJUSTED)
    return {"adjusted_hair_count": adjusted.hair_count, "adjusted_density_per_cm2": adjusted.density_per_cm2,
            "adjustment_version": adjusted.version}


def _measurement(visit: AssessmentVisit) -> dict | None:
    if hasattr(visit, "adjusted"):
        # A visit of selectors.with_adjusted: its measurement and adjusted count came with the list.
        m, adjusted = getattr(visit, "measurement", None), visit.adjusted
    else:
        m = selectors.measurement_for(visit)
        adjusted = validation.measurement_adjusted(m)
    if m is None:
        return None
    data = {f: getattr(m, f) for f in MeasurementOut.model_fields if f not in _ADJUSTED}
    return {**data, **_adjusted(adjusted)}


def _visit(visit: AssessmentVisit) -> dict:
    data = {f: getattr(visit, f) for f in VisitOut.model_fields if f != "measurement"}
    data["measurement"] = _measurement(visit)
    return data


def _photo(photo: GlobalPhoto) -> dict:
    return {"id": photo.pk, "visit_id": photo.visit_id, "view": photo.view, "sha256": photo.sha256,
            "width": photo.width, "height": photo.height, "uploaded_at": photo.uploaded_at,
            "file_url": reverse("api-v1:assessments_photo_file", kwargs={"photo_id": photo.pk})}


def _image(image: TrichogramImage) -> dict:
    if hasattr(image, "adjusted"):
        # An image of selectors.visit_images: its analysis and adjusted count came with the list.
        a, adjusted = getattr(image, "analysis", None), image.adjusted
    else:
        a = selectors.analysis_for(image)
        adjusted = validation.adjusted_count(a, image=image)
    overlay = reverse("api-v1:assessments_image_overlay", kwargs={"image_id": image.pk})
    analysis = None
    if a is not None:
        analysis = {
            "status": a.status, "progress": a.progress, "step": a.step, "error": a.error,
            "engine_version": a.engine_version, "profile_name": a.profile_name, "px_per_mm": a.px_per_mm,
            "automatic": a.automatic, "corrected": a.corrected, "corrections": a.corrections, "regrowth": a.regrowth,
            "corrected_at": a.corrected_at,
            "overlay_url": f"{overlay}?v={a.overlay_version}" if a.overlay else None,
            "corrected_overlay_url": f"{overlay}?corrected=true&v={a.corrected_overlay_version}"
            if a.corrected_overlay else None,
            **_adjusted(adjusted),
        }
    return {"id": image.pk, "visit_id": image.visit_id, "kind": image.kind, "sha256": image.sha256,
            "width": image.width, "height": image.height, "profile_name": image.profile_name,
            "device_profile_id": image.device_profile_id, "uploaded_at": image.uploaded_at,
            "file_url": reverse("api-v1:assessments_image_file", kwargs={"image_id": image.pk}),
            "analysis": analysis}


def _visit_match(image: TrichogramImage) -> dict:
    match = selectors.visit_match_for(image)
    if match is None:
        raise Http404("This image has no match with a baseline (not a follow-up target-area image, not analysed yet, "
                      "or the patient has no analysed baseline).")
    return {"image_id": image.pk, "baseline_image_id": match.baseline_analysis.image_id,
            "engine_version": match.engine_version, "kept": match.kept, "lost": match.lost, "new": match.new,
            "baseline_count": match.baseline_count, "followup_count": match.followup_count,
            "matched_change": match.matched_change, "count_change": match.count_change, "change": match.change,
            "same_area": match.same_area,
            "change_used": ("independent counts" if not match.same_area
                            else "matched (confirmed)" if match.is_confirmed else "matched"),
            "overlap_area_cm2": match.overlap_area_cm2, "rejected_lost": match.rejected_lost or [],
            "rejected_new": match.rejected_new or [], "confirmed_change": match.confirmed_change,
            "confirmed_at": match.confirmed_at, "result": match.result}


# --- routes ---------------------------------------------------------------------------------


@router.get("/visits", response=list[VisitOut], url_name="assessments_visits")
def list_visits(request, patient_id: Id):
    patient = selectors.patient_for_assessments(user=request.auth, pk=patient_id)
    return [_visit(v) for v in selectors.with_adjusted(selectors.visit_list(user=request.auth, patient=patient))]


@router.post("/visits", response={201: VisitOut}, url_name="assessments_visit_create")
def create_visit(request, payload: VisitIn):
    user = request.auth
    patient = selectors.patient_for_assessments(user=user, pk=payload.patient_id, write=True)
    appointment = None
    if payload.appointment_id is not None:
        from anagen.scheduling.models import Appointment

        appointment = Appointment.objects.filter(pk=payload.appointment_id, clinic__in=list(user.clinic_ids)).first()
        if appointment is None:
            raise ActionError("No such appointment in your clinics.", field="appointment_id")
    plan = None
    if payload.plan_id is not None:
        from anagen.treatments.models import TreatmentPlan

        plan = TreatmentPlan.objects.filter(pk=payload.plan_id, clinic__in=list(user.clinic_ids)).first()
        if plan is None:
            raise ActionError("No such treatment plan in your clinics.", field="plan_id")
    visit = services.visit_create(
        actor=user, patient=patient, visit_date=payload.visit_date, is_baseline=payload.is_baseline,
        weeks_after_last_session=payload.weeks_after_last_session, appointment=appointment, plan=plan,
        investigator_global=payload.investigator_global, patient_global=payload.patient_global,
        adverse_events_since_last_visit=payload.adverse_events_since_last_visit, notes=payload.notes)
    return Status(201, _visit(visit))


@router.get("/visits/{visit_id}", response=VisitDetailOut, url_name="assessments_visit")
def get_visit(request, visit_id: Id):
    visit = selectors.visit_get(user=request.auth, pk=visit_id)
    data = _visit(visit)
    data["photos"] = [_photo(p) for p in visit.photos.order_by("view", "-uploaded_at")]
    data["images"] = [_image(i) for i in selectors.visit_images(visit)]
    return data


@router.patch("/visits/{visit_id}", response=VisitOut, url_name="assessments_visit_update")
def update_visit(request, visit_id: Id, payload: VisitPatch):
    visit = selectors.visit_get(user=request.auth, pk=visit_id, write=True)
    fields = payload.dict(exclude_unset=True)
    visit = services.visit_update(actor=request.auth, visit=visit, **fields)
    return _visit(visit)


def _check_patient(visit: AssessmentVisit, patient_id: Id | None) -> None:
    if patient_id is not None and patient_id != visit.patient_id:
        raise ActionError("This visit belongs to another patient; upload the image to one of this patient's visits.",
                          code="wrong_patient", field="patient_id")


@router.post("/visits/{visit_id}/photos", response={200: PhotoOut, 201: PhotoOut}, url_name="assessments_photo_upload")
def upload_photo(request, visit_id: Id, view: Form[str], file: File[UploadedFile], patient_id: Form[Id | None] = None):
    visit = selectors.visit_get(user=request.auth, pk=visit_id, write=True)
    _check_patient(visit, patient_id)
    photo, created = services.global_photo_upload(actor=request.auth, visit=visit, view=view, file=file)
    return Status(201 if created else 200, _photo(photo))


@router.post("/visits/{visit_id}/images", response={200: ImageOut, 201: ImageOut}, url_name="assessments_image_upload")
def upload_image(request, visit_id: Id, file: File[UploadedFile], kind: Form[str] = "target",
                 device_profile_id: Form[Id | None] = None, patient_id: Form[Id | None] = None):
    visit = selectors.visit_get(user=request.auth, pk=visit_id, write=True)
    _check_patient(visit, patient_id)
    device = None
    if device_profile_id is not None:
        device = DeviceProfile.objects.filter(pk=device_profile_id).first()
        if device is None:
            raise ActionError(f"No device profile {device_profile_id}.", field="device_profile_id")
    image, created = services.trichogram_image_upload(actor=request.auth, visit=visit, kind=kind, file=file,
                                                      device_profile=device)
    return Status(201 if created else 200, _image(image))


@router.get("/images/{image_id}", response=ImageOut, url_name="assessments_image")
def get_image(request, image_id: Id):
    return _image(selectors.image_get(user=request.auth, pk=image_id))


@router.get("/images/{image_id}/file", url_name="assessments_image_file")
def image_file(request, image_id: Id):
    return _file_response(selectors.image_get(user=request.auth, pk=image_id).file.name)


@router.get("/images/{image_id}/overlay.png", url_name="assessments_image_overlay")
def image_overlay(request, image_id: Id, corrected: bool = False):
    image = selectors.image_get(user=request.auth, pk=image_id)
    analysis = selectors.analysis_for(image)
    if analysis is None or not analysis.overlay:
        raise ActionError("The overlay is drawn once the analysis has finished; poll the image for its status.",
                          code="not_ready")
    if corrected:
        if not analysis.corrected_overlay:
            raise ActionError("This analysis has not been corrected.", code="not_corrected")
        return _file_response(analysis.corrected_overlay.name, request=request)
    return _file_response(analysis.overlay.name, request=request)


@router.post("/images/{image_id}/corrections", response=ImageOut, url_name="assessments_image_correct")
def correct_image(request, image_id: Id, payload: CorrectionIn):
    image = selectors.image_get(user=request.auth, pk=image_id, write=True)
    analysis = selectors.analysis_for(image)
    if analysis is None:
        raise ActionError("This image has no analysis.", code="not_ready")
    services.trichogram_analysis_correct(actor=request.auth, analysis=analysis, added=payload.added,
                                         removed=payload.removed, confirm_reason=payload.confirm_reason)
    return _image(image)


@router.get("/images/{image_id}/match", response=VisitMatchOut, url_name="assessments_image_match")
def get_image_match(request, image_id: Id):
    """The image's hairs matched to the baseline: kept, lost and new, both changes, the review."""
    return _visit_match(selectors.image_get(user=request.auth, pk=image_id))


@router.post("/images/{image_id}/match", response=VisitMatchOut, url_name="assessments_image_match_review")
def review_image_match(request, image_id: Id, payload: VisitMatchReviewIn):
    """The clinician's review: every lost and new hair is confirmed except the rejected ones."""
    from .matching import visit_match_confirm

    image = selectors.image_get(user=request.auth, pk=image_id, write=True)
    match = selectors.visit_match_for(image)
    if match is None:
        raise Http404("This image has no match with a baseline.")
    visit_match_confirm(actor=request.auth, match=match, rejected_lost=payload.rejected_lost,
                        rejected_new=payload.rejected_new)
    return _visit_match(image)


@router.get("/photos/{photo_id}/file", url_name="assessments_photo_file")
def photo_file(request, photo_id: Id):
    return _file_response(selectors.photo_get(user=request.auth, pk=photo_id).file.name)


@router.get("/patients/{patient_id}/measurements", response=list[MeasurementPointOut],
            url_name="assessments_patient_measurements")
def measurements(request, patient_id: Id):
    patient = selectors.patient_for_assessments(user=request.auth, pk=patient_id)
    return selectors.patient_measurements(user=request.auth, patient=patient)



class AdjustmentOut(Schema):
    version: int
    engine_version: str
    intercept: float
    intercept_ci: tuple[float, float]
    slope: float
    slope_ci: tuple[float, float]
    residual_sd: float
    n: int
    fitted_at: datetime
    is_active: bool


class ValidationVersionOut(Schema):
    engine_version: str
    is_current: bool
    n: int
    enough: bool
    message: str
    mae: float | None
    rmse: float | None
    bias: float | None
    bias_pct: float | None
    bias_ci: tuple[float, float] | None
    limits_of_agreement: tuple[float, float] | None
    lower_loa_ci: tuple[float, float] | None
    upper_loa_ci: tuple[float, float] | None
    icc21: float | None
    icc21_ci: tuple[float, float] | None
    icc31: float | None
    icc31_ci: tuple[float, float] | None
    adjustments: list[AdjustmentOut]


class DeviceValidationOut(Schema):
    device_id: int
    device: str
    min_references: int
    engine_versions: list[ValidationVersionOut]


def _version_report(r) -> dict:
    from anagen.evidence.device_validation import MIN_REFERENCES

    s = r.summary
    ba = s.bland_altman if s else None
    return {
        "engine_version": r.engine_version, "is_current": r.is_current, "n": r.n, "enough": r.n >= MIN_REFERENCES,
        "message": "" if r.n >= MIN_REFERENCES else
        f"Mark at least {MIN_REFERENCES} corrected images as references to validate this device ({r.missing} more needed).",
        "mae": s.mae if s else None, "rmse": s.rmse if s else None, "bias": s.bias if s else None,
        "bias_pct": s.bias_pct if s else None, "bias_ci": ba.bias_ci if ba else None,
        "limits_of_agreement": (ba.lower_loa, ba.upper_loa) if ba else None,
        "lower_loa_ci": ba.lower_loa_ci if ba else None, "upper_loa_ci": ba.upper_loa_ci if ba else None,
        "icc21": s.icc21 if s else None, "icc21_ci": s.icc21_ci if s else None,
        "icc31": s.icc31 if s else None, "icc31_ci": s.icc31_ci if s else None,
        "adjustments": [{
            "version": a.version, "engine_version": a.engine_version, "intercept": a.intercept,
            "intercept_ci": (a.intercept_low, a.intercept_high), "slope": a.slope, "slope_ci": (a.slope_low, a.slope_high),
            "residual_sd": a.residual_sd, "n": a.n, "fitted_at": a.fitted_at, "is_active": a.is_active,
        } for a in r.adjustments],
    }


@router.get("/devices/{device_id}/validation", response=DeviceValidationOut, url_name="assessments_device_validation")
def device_validation(request, device_id: Id):
    """Agreement of the engine with the clinicians' reference counts on this device, per engine version."""
    from anagen.evidence.device_validation import MIN_REFERENCES

    from .validation import device_get, report

    device = device_get(user=request.user, pk=device_id)
    return {"device_id": device.pk, "device": device.name, "min_references": MIN_REFERENCES,
            "engine_versions": [_version_report(r) for r in report(device, plots=False)]}
