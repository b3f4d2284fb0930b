"""Validating the engine on a clinic's own dermoscope (see docs/trichoscopy.md).

A clinician marks a corrected image as a *validation reference*: its corrected hair count is
then taken as the truth for that image. References are pooled per device profile and engine
version only (never across versions); voided images and measurements excluded from the series
never count. The statistics are :mod:`anagen.evidence.device_validation`.

Who: clinicians and admins of the device's clinic see the report and may fit and activate an
adjustment; only clinicians mark references (it is a clinical judgement on the image). Other
roles get 403; a device of another clinic is 404. Every write is audited with its actor.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone

from anagen.accounts.models import Role
from anagen.audit.context import acting_as
from anagen.core.errors import ActionError, Conflict
from anagen.core.permissions import check_role
from anagen.evidence.device_validation import (
    MIN_REFERENCES,
    ValidationSummary,
    fit_adjustment,
    validation_summary,
)

from .models import AnalysisStatus, DeviceAdjustment, DeviceProfile, TrichogramAnalysis

REPORT_ROLES = (Role.ADMIN, Role.CLINICIAN)
ADJUST_ROLES = (Role.ADMIN, Role.CLINICIAN)


def current_engine_version() -> str:
    from anagen.trichoscopy import ENGINE_VERSION

    return ENGINE_VERSION


def device_get(*, user, pk: int, roles=REPORT_ROLES) -> DeviceProfile:
    """The device profile, for a clinician or admin of its clinic; 403 / 404 otherwise."""
    check_role(user, *roles)
    device = DeviceProfile.objects.select_related("clinic").filter(pk=pk, clinic__in=list(user.clinic_ids)).first()
    if device is None:
        raise Http404("No such device profile in your clinics.")
    return device


def adjustment_get(*, user, pk: int) -> DeviceAdjustment:
    check_role(user, *ADJUST_ROLES)
    adj = (DeviceAdjustment.objects.select_related("device__clinic", "fitted_by", "activated_by")
           .filter(pk=pk, device__clinic__in=list(user.clinic_ids)).first())
    if adj is None:
        raise Http404("No such device adjustment in your clinics.")
    return adj


def _reference_analyses():
    """Validation references: marked, corrected, finished, not voided, not excluded."""
    return (TrichogramAnalysis.objects
            .filter(validation_reference_at__isnull=False, corrected__isnull=False, automatic__isnull=False,
                    status=AnalysisStatus.DONE, image__voided_at__isnull=True)
            .exclude(image__visit__measurement__excluded=True))


def references(device: DeviceProfile, engine_version: str | None = None):
    """The device's validation references: marked, corrected, finished, not voided, not excluded."""
    qs = (_reference_analyses().filter(image__device_profile=device)
          .select_related("image__visit__patient", "validation_reference_by").order_by("pk"))
    if engine_version is not None:
        qs = qs.filter(engine_version=engine_version)
    return qs


@dataclass(frozen=True)
class DeviceState:
    """A device profile's validation on the current engine version, for the list of devices."""

    device: DeviceProfile
    engine_version: str
    n: int
    mae: float | None
    active: DeviceAdjustment | None
    # Adjustments still active for earlier engine versions (they apply to images analysed then).
    active_earlier: tuple[DeviceAdjustment, ...] = ()

    @property
    def missing(self) -> int:
        return max(0, MIN_REFERENCES - self.n)


def device_list(*, user) -> list[DeviceState]:
    """The device profiles of the user's clinics (retired ones too) with their validation state
    on the current engine version; three queries whatever the number of devices."""
    check_role(user, *REPORT_ROLES)
    current = current_engine_version()
    devices = list(DeviceProfile.objects.filter(clinic__in=list(user.clinic_ids)).select_related("clinic")
                   .order_by("clinic__name", "-is_active", "-is_default", "name"))
    pairs: dict[int, list[tuple[int, int]]] = {}
    for device_id, auto, ref in (_reference_analyses().filter(image__device_profile__in=devices, engine_version=current)
                                 .values_list("image__device_profile_id", "automatic__hair_count",
                                              "corrected__hair_count")):
        pairs.setdefault(device_id, []).append((int(auto), int(ref)))
    active: dict[int, list[DeviceAdjustment]] = {}
    for adj in DeviceAdjustment.objects.filter(device__in=devices, is_active=True).order_by("engine_version"):
        active.setdefault(adj.device_id, []).append(adj)
    out = []
    for d in devices:
        mine = pairs.get(d.pk, [])
        summary = validation_summary([p[0] for p in mine], [p[1] for p in mine]) if mine else None
        on = active.get(d.pk, [])
        out.append(DeviceState(
            device=d, engine_version=current, n=len(mine), mae=summary.mae if summary else None,
            active=next((a for a in on if a.engine_version == current), None),
            active_earlier=tuple(a for a in on if a.engine_version != current)))
    return out


def _counts(analysis: TrichogramAnalysis) -> tuple[int, int]:
    return int(analysis.automatic["hair_count"]), int(analysis.corrected["hair_count"])


@dataclass
class VersionReport:
    engine_version: str
    is_current: bool
    analyses: list
    pairs: list[tuple[int, int]]
    summary: ValidationSummary | None
    plot: str = ""                      # a data: URI of the Bland-Altman SVG (CSP allows data: images)
    adjustments: list = field(default_factory=list)
    active: DeviceAdjustment | None = None

    @property
    def n(self) -> int:
        return len(self.pairs)

    @property
    def missing(self) -> int:
        return max(0, MIN_REFERENCES - self.n)


def _plot(pairs) -> str:
    from anagen.evidence.figures import bland_altman_plot

    auto, ref = [p[0] for p in pairs], [p[1] for p in pairs]
    chart = bland_altman_plot(auto, ref, labels=("engine", "clinician"), unit="hairs")
    svg = chart.svg()
    chart.figure.clear()
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def report(device: DeviceProfile, *, plots: bool = True) -> list[VersionReport]:
    """One report per engine version that has references or adjustments; the current version first."""
    current = current_engine_version()
    by_version: dict[str, list] = {current: []}
    for a in references(device):
        by_version.setdefault(a.engine_version, []).append(a)
    adjustments = list(DeviceAdjustment.objects.filter(device=device).select_related("fitted_by", "activated_by"))
    for adj in adjustments:
        by_version.setdefault(adj.engine_version, [])
    out = []
    for version in sorted(by_version, key=lambda v: (v != current, v)):
        analyses = by_version[version]
        pairs = [_counts(a) for a in analyses]
        summary = validation_summary([p[0] for p in pairs], [p[1] for p in pairs]) if pairs else None
        mine = [a for a in adjustments if a.engine_version == version]
        out.append(VersionReport(
            engine_version=version, is_current=version == current, analyses=analyses, pairs=pairs, summary=summary,
            plot=_plot(pairs) if plots and len(pairs) >= 2 else "", adjustments=mine,
            active=next((a for a in mine if a.is_active), None)))
    return out


# --- the adjusted count, beside the engine's ---------------------------------------------------

# The active adjustments of some devices, by (device id, engine version).
Adjustments = dict[tuple[int, str], DeviceAdjustment]


@dataclass(frozen=True)
class AdjustedCount:
    """An automatic hair count adjusted by its device's active calibration.

    Shown beside the engine's count, never in its place, always with the adjustment version
    that made it. ``density_per_cm2`` is the adjusted count over the field's area (None when the
    image is not calibrated).
    """

    hair_count: float
    density_per_cm2: float | None
    adjustment: DeviceAdjustment

    @property
    def version(self) -> int:
        return self.adjustment.version

    @property
    def device_name(self) -> str:
        return self.adjustment.device.name


def active_adjustments(device_ids) -> Adjustments:
    """The active adjustments of these device profiles, in one query (for pages listing many images)."""
    ids = {i for i in device_ids if i is not None}
    if not ids:
        return {}
    return {(a.device_id, a.engine_version): a
            for a in DeviceAdjustment.objects.filter(device_id__in=ids, is_active=True).select_related("device")}


def _adjusted(*, device_id: int | None, engine_version: str, automatic_count, corrected: bool,
              field_area_cm2: float | None, adjustments: Adjustments | None) -> AdjustedCount | None:
    # The adjustment was fitted to the engine's counts of one device and engine version: it
    # applies to an automatic count of that device and version only. A clinician's corrected
    # count is already a reference-grade count and is never adjusted.
    if corrected or automatic_count is None or device_id is None or not engine_version:
        return None
    if adjustments is None:
        adjustments = active_adjustments([device_id])
    adj = adjustments.get((device_id, engine_version))
    if adj is None:
        return None
    count = adj.adjust(automatic_count)
    return AdjustedCount(hair_count=count, density_per_cm2=count / field_area_cm2 if field_area_cm2 else None,
                         adjustment=adj)


def adjusted_count(analysis: TrichogramAnalysis | None, *, image=None,
                   adjustments: Adjustments | None = None) -> AdjustedCount | None:
    """The analysis' automatic count adjusted by the active adjustment of its image's device
    profile and its engine version; None when the analysis is unfinished or corrected, or when
    no adjustment is active.

    ``image`` saves a query when the caller holds it; ``adjustments`` (from
    :func:`active_adjustments`) saves one per image on a list.
    """
    if analysis is None or analysis.status != AnalysisStatus.DONE or not analysis.automatic:
        return None
    image = image if image is not None else analysis.image
    return _adjusted(device_id=image.device_profile_id, engine_version=analysis.engine_version,
                     automatic_count=analysis.automatic.get("hair_count"), corrected=bool(analysis.corrected),
                     field_area_cm2=analysis.automatic.get("field_area_cm2"), adjustments=adjustments)


def measurement_adjusted(measurement, *, adjustments: Adjustments | None = None) -> AdjustedCount | None:
    """The visit measurement's automatic count adjusted as :func:`adjusted_count` adjusts its
    source image's (the measurement holds the same count, engine version and area)."""
    if measurement is None or measurement.source_image_id is None:
        return None
    return _adjusted(device_id=measurement.source_image.device_profile_id, engine_version=measurement.engine_version,
                     automatic_count=measurement.hair_count_auto, corrected=measurement.is_corrected,
                     field_area_cm2=measurement.field_area_cm2, adjustments=adjustments)


def measurement_device_ids(measurements) -> set[int]:
    """The device profiles of these measurements' source images (load ``source_image`` with them)."""
    return {m.source_image.device_profile_id for m in measurements if m is not None and m.source_image_id}


# --- writes ------------------------------------------------------------------------------------


def _check_clinic(actor, device: DeviceProfile | None, roles) -> None:
    check_role(actor, *roles)
    if device is None:
        raise ActionError("This image was analysed without a device profile: it cannot validate a device. "
                          "Analyse it again with one of the clinic's device profiles first.")
    if not actor.can_see_clinic(device.clinic_id):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("This device belongs to a clinic you do not work at.")


@transaction.atomic
def validation_reference_mark(*, actor, analysis: TrichogramAnalysis, reference: bool = True) -> TrichogramAnalysis:
    """Mark (or, with ``reference=False``, unmark) a corrected image as a validation reference."""
    from .services import _check_writer

    analysis = (TrichogramAnalysis.objects.select_for_update(of=("self",))
                .select_related("image__visit__patient", "image__device_profile").get(pk=analysis.pk))
    image = analysis.image
    _check_writer(actor, image.visit)
    if reference:
        _check_clinic(actor, image.device_profile, (Role.CLINICIAN,))
        if image.voided_at is not None:
            raise Conflict("A voided image cannot be a validation reference.")
        if analysis.status != AnalysisStatus.DONE or not analysis.automatic:
            raise Conflict("The analysis has not finished; mark the image once it is corrected.")
        if not analysis.corrected:
            raise ActionError("Review the hairs and save the correction first (save it unchanged if the engine "
                              "found every hair): the corrected count is the reference.", code="not_corrected")
        if analysis.validation_reference_at is not None:
            return analysis
        analysis.validation_reference_at, analysis.validation_reference_by = timezone.now(), actor
    else:
        if analysis.validation_reference_at is None:
            return analysis
        analysis.validation_reference_at, analysis.validation_reference_by = None, None
    with acting_as(actor):
        analysis.save(update_fields=["validation_reference_at", "validation_reference_by"])
    return analysis


@transaction.atomic
def device_adjustment_fit(*, actor, device: DeviceProfile, engine_version: str | None = None) -> DeviceAdjustment:
    """Fit ``reference = a + b * automatic`` to the device's references of one engine version
    (the current one by default) and record it as the device's next adjustment version, inactive."""
    device = DeviceProfile.objects.select_for_update().get(pk=device.pk)
    _check_clinic(actor, device, ADJUST_ROLES)
    engine_version = engine_version or current_engine_version()
    analyses = list(references(device, engine_version))
    if len(analyses) < MIN_REFERENCES:
        raise ActionError(f"Mark at least {MIN_REFERENCES} corrected images as references to validate this device "
                          f"(engine {engine_version} has {len(analyses)}).", code="too_few_references")
    pairs = [_counts(a) for a in analyses]
    try:
        fit = fit_adjustment([p[0] for p in pairs], [p[1] for p in pairs])
    except ValueError as exc:
        raise ActionError(f"No adjustment can be fitted: {exc}") from None
    version = (DeviceAdjustment.objects.filter(device=device).aggregate(m=Max("version"))["m"] or 0) + 1
    with acting_as(actor):
        return DeviceAdjustment.objects.create(
            device=device, engine_version=engine_version, version=version, n=fit.n,
            intercept=fit.intercept, intercept_low=fit.intercept_ci[0], intercept_high=fit.intercept_ci[1],
            slope=fit.slope, slope_low=fit.slope_ci[0], slope_high=fit.slope_ci[1], residual_sd=fit.residual_sd,
            analysis_ids=[a.pk for a in analyses], fitted_by=actor)


@transaction.atomic
def device_adjustment_activate(*, actor, adjustment: DeviceAdjustment, confirm: bool, reason: str) -> DeviceAdjustment:
    """Make ``adjustment`` the one shown beside the engine's counts for its device and engine
    version (the previously active one is switched off); needs ``confirm`` and a reason."""
    adjustment = DeviceAdjustment.objects.select_for_update().select_related("device").get(pk=adjustment.pk)
    _check_clinic(actor, adjustment.device, ADJUST_ROLES)
    reason = (reason or "").strip()
    if not confirm:
        raise ActionError("Tick the confirmation: the adjusted count will be shown beside the engine's count on "
                          "this device's images.", field="confirm")
    if not reason:
        raise ActionError("Give the reason for applying this adjustment (for example \"fitted on 24 references, "
                          "reviewed by Dr Hale\").", field="reason")
    if len(reason) > 500:
        raise ActionError("Keep the reason under 500 characters.", field="reason")
    if adjustment.is_active:
        raise Conflict("This adjustment is already active.")
    with acting_as(actor):
        for other in DeviceAdjustment.objects.select_for_update().filter(
                device=adjustment.device, engine_version=adjustment.engine_version, is_active=True):
            other.is_active = False
            other.save(update_fields=["is_active"])
        adjustment.is_active, adjustment.activated_by, adjustment.activated_at = True, actor, timezone.now()
        adjustment.activation_reason = reason
        adjustment.save(update_fields=["is_active", "activated_by", "activated_at", "activation_reason"])
    return adjustment


@transaction.atomic
def device_adjustment_deactivate(*, actor, adjustment: DeviceAdjustment, reason: str) -> DeviceAdjustment:
    """Stop showing the adjusted counts; the adjustment itself stays, inactive."""
    adjustment = DeviceAdjustment.objects.select_for_update().select_related("device").get(pk=adjustment.pk)
    _check_clinic(actor, adjustment.device, ADJUST_ROLES)
    reason = (reason or "").strip()
    if not reason:
        raise ActionError("Give the reason for switching this adjustment off.", field="reason")
    if not adjustment.is_active:
        raise Conflict("This adjustment is not active.")
    with acting_as(actor):
        adjustment.is_active = False
        adjustment.activation_reason = f"{adjustment.activation_reason}\nSwitched off: {reason[:500]}".strip()
        adjustment.save(update_fields=["is_active", "activation_reason"])
    return adjustment
