"""Reading assessment visits, images and measurements, for the user asking.

Who may see them: clinicians (who also record them), coordinators and admins (read-only) of the
patient's clinic. A lab scientist, statistician or stranger gets 403: these pages hold
photographs of patients. Blinded evaluators get 403 too: they will measure coded images in the
studies feature, never these identifiable ones. A record of a clinic the user does not work at
is 404, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.http import Http404

from anagen.accounts.models import Role
from anagen.core.permissions import check_role, has_role

from .models import (
    AssessmentVisit,
    DeviceProfile,
    GlobalPhoto,
    Measurement,
    TrichogramAnalysis,
    TrichogramImage,
    VisitMatch,
)
from .validation import Adjustments, active_adjustments, adjusted_count, measurement_adjusted, measurement_device_ids

READ_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN)
WRITE_ROLES = (Role.CLINICIAN,)


def can_read(user) -> bool:
    return has_role(user, *READ_ROLES)


def can_write(user) -> bool:
    return has_role(user, *WRITE_ROLES)


def photograph_roles() -> tuple[str, ...]:
    """Who sees clinical photographs (trichogram images, their overlays, global photographs):
    clinicians and admins; coordinators only where ANAGEN_COORDINATORS_SEE_PHOTOS is on."""
    from django.conf import settings

    roles = (Role.ADMIN, Role.CLINICIAN)
    return roles + (Role.COORDINATOR,) if getattr(settings, "ANAGEN_COORDINATORS_SEE_PHOTOS", False) else roles


def can_see_photographs(user) -> bool:
    return has_role(user, *photograph_roles())


def check_photographs(user) -> None:
    if not can_see_photographs(user):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Clinical photographs are shown to clinicians; your role sees the visit's numbers only.")


def check_access(user, *, write: bool = False) -> None:
    """403 unless the user's role may read (or, with ``write``, record) assessments."""
    check_role(user, *(WRITE_ROLES if write else READ_ROLES))


def _visible(user, prefix: str = "") -> Q:
    ids = list(user.clinic_ids)
    return Q(**{f"{prefix}clinic__in": ids}) | Q(**{f"{prefix}patient__clinic__in": ids})


def patient_for_assessments(*, user, pk: int, write: bool = False):
    """The patient, when the user may see (or record) their assessments; 403/404 otherwise."""
    from anagen.patients.models import Patient

    check_access(user, write=write)
    patient = Patient.objects.select_related("clinic").filter(pk=pk, clinic__in=list(user.clinic_ids)).first()
    if patient is None:
        raise Http404("No such patient in your clinics.")
    return patient


def visit_list(*, user, patient) -> QuerySet[AssessmentVisit]:
    check_access(user)
    return (AssessmentVisit.objects.filter(_visible(user), patient=patient)
            .select_related("measurement__source_image", "performed_by", "clinic").order_by("visit_date", "id"))


def visit_get(*, user, pk: int, write: bool = False) -> AssessmentVisit:
    check_access(user, write=write)
    visit = (AssessmentVisit.objects.filter(_visible(user), pk=pk)
             .select_related("patient", "clinic", "performed_by", "appointment").first())
    if visit is None:
        raise Http404("No such assessment visit in your clinics.")
    return visit


def image_get(*, user, pk: int, write: bool = False) -> TrichogramImage:
    check_access(user, write=write)
    image = (TrichogramImage.objects.filter(_visible(user, "visit__"), pk=pk)
             .select_related("visit__patient", "visit__clinic", "device_profile").first())
    if image is None:
        raise Http404("No such image in your clinics.")
    check_photographs(user)  # after the clinic check: another clinic's image stays a 404
    return image


def analysis_for(image: TrichogramImage) -> TrichogramAnalysis | None:
    return TrichogramAnalysis.objects.filter(image=image).select_related("corrected_by").first()


def photo_get(*, user, pk: int) -> GlobalPhoto:
    check_access(user)
    photo = GlobalPhoto.objects.filter(_visible(user, "visit__"), pk=pk).select_related("visit").first()
    if photo is None:
        raise Http404("No such photograph in your clinics.")
    check_photographs(user)
    return photo


def latest_photos(visit: AssessmentVisit) -> dict[str, GlobalPhoto]:
    """The most recent photograph of each view (earlier uploads stay stored)."""
    out: dict[str, GlobalPhoto] = {}
    for photo in visit.photos.order_by("-uploaded_at", "-id"):
        out.setdefault(photo.view, photo)
    return out


def visit_images(visit: AssessmentVisit) -> list[TrichogramImage]:
    """The visit's images, each with ``adjusted``: its automatic count adjusted by the device's
    active calibration, or None (see validation.adjusted_count); one query for the adjustments."""
    images = list(visit.trichogram_images.select_related("analysis", "uploaded_by", "device_profile")
                  .order_by("uploaded_at", "id"))
    adjustments = active_adjustments(i.device_profile_id for i in images)
    for image in images:
        image.adjusted = adjusted_count(getattr(image, "analysis", None), image=image, adjustments=adjustments)
    return images


def device_profiles_for(clinic_id: int) -> QuerySet[DeviceProfile]:
    return DeviceProfile.objects.filter(clinic_id=clinic_id, is_active=True).order_by("-is_default", "name")


def default_device_profile(clinic_id: int) -> DeviceProfile | None:
    return device_profiles_for(clinic_id).first()


def measurement_for(visit: AssessmentVisit) -> Measurement | None:
    return Measurement.objects.filter(visit=visit).first()


@dataclass(frozen=True)
class MeasurementPoint:
    """One visit's numbers, for timelines, charts and reports."""

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
    # Excluded from the series by a clinician (kept for display, left out of changes and charts).
    excluded: bool = False
    exclusion_reason: str = ""
    # Why the values look implausible against the patient's series or the device (plausibility).
    flags: tuple[str, ...] = ()
    measurement_id: int | None = None
    # The automatic count adjusted by the device's active calibration (validation.adjusted_count),
    # shown beside the count above, never in its place; None when corrected or none is active.
    adjusted_hair_count: float | None = None
    adjusted_density_per_cm2: float | None = None
    adjustment_version: int | None = None
    adjustment_device: str = ""


def with_flags(points: list[MeasurementPoint]) -> list[MeasurementPoint]:
    """The points with ``flags`` filled in by the plausibility rules over the whole series."""
    from dataclasses import replace

    from .plausibility import SeriesValue, series_flags

    measured = [p for p in points if p.hair_count is not None]
    flags = series_flags([SeriesValue(p.density_per_cm2, p.field_area_cm2, p.mean_diameter_um, p.excluded)
                          for p in measured])
    by_visit = {p.visit_id: tuple(f) for p, f in zip(measured, flags)}
    return [replace(p, flags=by_visit.get(p.visit_id, ())) for p in points]


def _point(visit: AssessmentVisit, m: Measurement | None, adjusted) -> MeasurementPoint:
    """``adjusted``: the measurement's adjusted count (validation.measurement_adjusted) or None."""
    return MeasurementPoint(
        visit_id=visit.pk,
        visit_date=visit.visit_date,
        weeks_after_last_session=visit.weeks_after_last_session,
        is_baseline=visit.is_baseline,
        hair_count=m.hair_count if m else None,
        field_area_cm2=m.field_area_cm2 if m else None,
        density_per_cm2=m.density_per_cm2 if m else None,
        terminal_count=m.terminal_count if m else None,
        vellus_count=m.vellus_count if m else None,
        mean_diameter_um=m.mean_diameter_um if m else None,
        anagen_pct=m.anagen_pct if m else None,
        is_corrected=m.is_corrected if m else False,
        investigator_global=visit.investigator_global,
        patient_global=visit.patient_global,
        excluded=m.excluded if m else False,
        exclusion_reason=m.exclusion_reason if m else "",
        measurement_id=m.pk if m else None,
        adjusted_hair_count=adjusted.hair_count if adjusted else None,
        adjusted_density_per_cm2=adjusted.density_per_cm2 if adjusted else None,
        adjustment_version=adjusted.version if adjusted else None,
        adjustment_device=adjusted.device_name if adjusted else "",
    )


def _visit_adjustments(visits) -> Adjustments:
    return active_adjustments(measurement_device_ids(getattr(v, "measurement", None) for v in visits))


def patient_measurements(*, user, patient) -> list[MeasurementPoint]:
    """Every assessment visit of ``patient`` with its measurement (None where not measured), by date,
    excluded ones included (marked), each with its plausibility flags."""
    visits = with_adjusted(visit_list(user=user, patient=patient))
    return with_flags([_point(v, getattr(v, "measurement", None), v.adjusted) for v in visits])


def measurement_points(patient_ids) -> dict[int, list[MeasurementPoint]]:
    """Measured visits per patient, oldest first, with their plausibility flags; measurements
    excluded from the series are left out (they still flag nothing against the others).

    No access check: for aggregate tables (outcomes) whose caller has already limited
    ``patient_ids`` to the user's clinics.
    """
    out: dict[int, list[MeasurementPoint]] = {}
    qs = list(Measurement.objects.filter(visit__patient_id__in=list(patient_ids))
              .select_related("visit", "source_image").order_by("visit__visit_date", "visit__id"))
    adjustments = active_adjustments(measurement_device_ids(qs))
    for m in qs:
        adjusted = measurement_adjusted(m, adjustments=adjustments)
        out.setdefault(m.visit.patient_id, []).append(_point(m.visit, m, adjusted))
    return {pid: [p for p in with_flags(pts) if not p.excluded] for pid, pts in out.items()}


def visit_point(*, user, visit: AssessmentVisit) -> MeasurementPoint | None:
    """The visit's point of its patient's series, with its plausibility flags (None if not measured)."""
    for p in patient_measurements(user=user, patient=visit.patient):
        if p.visit_id == visit.pk:
            return p if p.hair_count is not None or p.measurement_id else None
    return None


def visit_list_flagged(*, user, patient) -> list[AssessmentVisit]:
    """The patient's visits, each with ``plausibility_flags`` (reasons its values look implausible)
    and ``adjusted`` (its measurement's adjusted count, or None; see validation.adjusted_count)."""
    visits = with_adjusted(visit_list(user=user, patient=patient))
    flags = {p.visit_id: p.flags for p in with_flags([_point(v, getattr(v, "measurement", None), v.adjusted)
                                                      for v in visits])}
    for v in visits:
        v.plausibility_flags = flags.get(v.pk, ())
    return visits


def with_adjusted(visits) -> list[AssessmentVisit]:
    """The visits, each with ``adjusted`` (its measurement's adjusted count, or None), from one query."""
    visits = list(visits)
    adjustments = _visit_adjustments(visits)
    for v in visits:
        v.adjusted = measurement_adjusted(getattr(v, "measurement", None), adjustments=adjustments)
    return visits


# --- hair-to-hair matching across visits ------------------------------------------------------


def visit_match_for(image: TrichogramImage) -> VisitMatch | None:
    """The match of ``image``'s analysis to the baseline (None when there is none)."""
    return (VisitMatch.objects.filter(followup_analysis__image=image)
            .select_related("baseline_analysis__image__visit", "followup_analysis", "confirmed_by").first())


def visit_matches(visit_ids) -> dict[int, VisitMatch]:
    """Per visit, the match of the image its measurement counts (only visits that have one, and
    only matches whose images show the same area: the others' change is not used).

    No access check: for callers that already limited ``visit_ids`` to the user's clinics.
    """
    out: dict[int, VisitMatch] = {}
    rows = (Measurement.objects.filter(visit_id__in=list(visit_ids), source_image__isnull=False)
            .values_list("visit_id", "source_image_id"))
    by_image = {image_id: visit_id for visit_id, image_id in rows}
    for match in (VisitMatch.objects.filter(followup_analysis__image_id__in=list(by_image),
                                            baseline_analysis__image__voided_at__isnull=True)
                  .select_related("followup_analysis", "baseline_analysis__image")):
        if match.same_area:
            out[by_image[match.followup_analysis.image_id]] = match
    return out


# --- before and after -------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparedImage:
    """One side of a pair: the visit's latest photograph of a view, or its target-area image."""

    url: str
    alt: str
    overlay_url: str = ""


@dataclass(frozen=True)
class ComparedPair:
    key: str  # "photo-vertex", "target"
    label: str
    a: ComparedImage | None
    b: ComparedImage | None


@dataclass(frozen=True)
class Comparison:
    patient: object
    visits: list[AssessmentVisit]
    a: AssessmentVisit | None
    b: AssessmentVisit | None
    pairs: list[ComparedPair]
    point_a: MeasurementPoint | None = None
    point_b: MeasurementPoint | None = None


def visit_label(visit: AssessmentVisit) -> str:
    kind = "baseline" if visit.is_baseline else "follow-up"
    if not visit.is_baseline and visit.weeks_after_last_session is not None:
        kind += f", week {visit.weeks_after_last_session}"
    return f"{visit.visit_date:%d/%m/%Y} ({kind})"


def _photo_image(photo: GlobalPhoto, visit: AssessmentVisit) -> ComparedImage:
    from django.urls import reverse

    return ComparedImage(url=reverse("assessments:photo_file", kwargs={"pk": photo.pk}),
                         alt=f"{photo.get_view_display()} view, {visit_label(visit)}")


def target_image(visit: AssessmentVisit) -> TrichogramImage | None:
    """The visit's first target-area image that still counts (not voided)."""
    return (visit.trichogram_images.filter(kind="target", voided_at__isnull=True)
            .select_related("analysis").order_by("uploaded_at", "id").first())


def _target(visit: AssessmentVisit) -> ComparedImage | None:
    from django.urls import reverse

    image = target_image(visit)
    if image is None:
        return None
    analysis = getattr(image, "analysis", None)
    overlay = ""
    if analysis is not None and analysis.status == "done" and analysis.overlay:
        overlay = reverse("assessments:image_overlay", kwargs={"pk": image.pk})
        if analysis.corrected_overlay:
            overlay += "?corrected=1"
    return ComparedImage(url=reverse("assessments:image_file", kwargs={"pk": image.pk}),
                         alt=f"Target area, {visit_label(visit)}", overlay_url=overlay)


def default_pair(visits: list[AssessmentVisit]) -> tuple[AssessmentVisit | None, AssessmentVisit | None]:
    """Baseline (the latest visit marked baseline, else the first) and the latest visit after it."""
    if not visits:
        return None, None
    baselines = [v for v in visits if v.is_baseline]
    first = baselines[-1] if baselines else visits[0]
    later = [v for v in visits if (v.visit_date, v.pk) > (first.visit_date, first.pk)]
    return first, (later[-1] if later else None)


def comparison(*, user, patient, a: int | None = None, b: int | None = None) -> Comparison:
    """Two visits of ``patient`` side by side: each view's global photograph and the target area.

    ``a`` and ``b`` are visit ids of this patient (404 otherwise); without them, the baseline
    and the latest visit. Role and clinic are checked by :func:`patient_for_assessments`.
    """
    visits = list(visit_list(user=user, patient=patient))
    by_id = {v.pk: v for v in visits}
    default_a, default_b = default_pair(visits)
    chosen = []
    for wanted, default in ((a, default_a), (b, default_b)):
        if wanted is None:
            chosen.append(default)
        elif wanted in by_id:
            chosen.append(by_id[wanted])
        else:
            raise Http404("No such assessment visit for this patient.")
    va, vb = chosen
    photos_a = latest_photos(va) if va else {}
    photos_b = latest_photos(vb) if vb else {}
    from .models import PhotoView

    pairs = []
    for value, label in PhotoView.choices:
        pa, pb = photos_a.get(value), photos_b.get(value)
        if pa or pb:
            pairs.append(ComparedPair(key=f"photo-{value}", label=f"{label} view",
                                      a=_photo_image(pa, va) if pa else None, b=_photo_image(pb, vb) if pb else None))
    ta, tb = (_target(va) if va else None), (_target(vb) if vb else None)
    if ta or tb:
        pairs.append(ComparedPair(key="target", label="Target area (phototrichogram)", a=ta, b=tb))
    points = {p.visit_id: p for p in patient_measurements(user=user, patient=patient)}
    return Comparison(patient=patient, visits=visits, a=va, b=vb, pairs=pairs,
                      point_a=points.get(va.pk) if va else None, point_b=points.get(vb.pk) if vb else None)


def visit_thumbnails(visit_ids) -> dict[int, list[dict]]:
    """Per visit, small pictures for a timeline: the latest photograph of each view, then the
    target-area image. No access check: the caller has already checked the patient."""
    from django.urls import reverse

    out: dict[int, list[dict]] = {}
    seen: set[tuple[int, str]] = set()
    for photo in (GlobalPhoto.objects.filter(visit_id__in=list(visit_ids)).select_related("visit")
                  .order_by("visit_id", "-uploaded_at", "-id")):
        if (photo.visit_id, photo.view) in seen:
            continue
        seen.add((photo.visit_id, photo.view))
        out.setdefault(photo.visit_id, []).append({
            "url": reverse("assessments:photo_file", kwargs={"pk": photo.pk}),
            "alt": f"{photo.get_view_display()} view, {visit_label(photo.visit)}", "kind": photo.view})
    order = {v: i for i, v in enumerate(c[0] for c in GlobalPhoto._meta.get_field("view").choices)}
    for items in out.values():
        items.sort(key=lambda d: order.get(d["kind"], 99))
    for image in (TrichogramImage.objects.filter(visit_id__in=list(visit_ids), kind="target", voided_at__isnull=True)
                  .select_related("visit").order_by("visit_id", "uploaded_at", "id")):
        if (image.visit_id, "target") in seen:
            continue
        seen.add((image.visit_id, "target"))
        out.setdefault(image.visit_id, []).append({
            "url": reverse("assessments:image_file", kwargs={"pk": image.pk}),
            "alt": f"Target area, {visit_label(image.visit)}", "kind": "target"})
    return out
