"""Assessment visits: what was measured at each follow-up.

A visit holds the standardized global photographs (one per named view), the target-area
phototrichogram images counted by :mod:`anagen.trichoscopy`, the investigator's and the
patient's global assessments, and adverse events reported since the last visit.

Images are stored under a path made from their SHA-256 and are never overwritten: the same
bytes uploaded again give back the stored image; a changed file is a new image. The engine's
automatic result and the clinician's corrected result are both kept. Density is never typed:
:class:`Measurement` stores the hair count and the measured field area and derives the density.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

GLOBAL_SCALE = [
    (-3, "−3 greatly worse"),
    (-2, "−2 moderately worse"),
    (-1, "−1 slightly worse"),
    (0, "0 no change"),
    (1, "+1 slightly improved"),
    (2, "+2 moderately improved"),
    (3, "+3 greatly improved"),
]
_global_validators = [MinValueValidator(-3), MaxValueValidator(3)]


class DeviceProfile(models.Model):
    """A clinic's dermoscope: which engine profile it uses and its measured scale.

    Without ``px_per_mm`` the engine still counts hairs, but field area, density and diameters
    stay empty ("not calibrated"): they are never guessed.
    """

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="device_profiles")
    name = models.CharField(max_length=80, help_text="What the staff call the device, e.g. \"Room 2 70x dermoscope\".")
    engine_profile = models.CharField(max_length=80, default="default",
                                      help_text="Engine profile name (default, dermoscope-20x, dermoscope-70x, …).")
    px_per_mm = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.001)],
                                  help_text="Measured scale in pixels per millimetre; empty until calibrated.")
    vellus_threshold_um = models.FloatField(default=40.0, validators=[MinValueValidator(1.0)],
                                            help_text="Hairs thinner than this are vellus (TrichoScan uses 40 µm).")
    is_default = models.BooleanField(default=False, help_text="Used for the clinic's uploads unless another is chosen.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["clinic__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="device_profile_name_unique_per_clinic"),
            models.UniqueConstraint(fields=["clinic"], condition=models.Q(is_default=True),
                                    name="one_default_device_profile_per_clinic"),
        ]

    def __str__(self) -> str:
        scale = f"{self.px_per_mm:g} px/mm" if self.px_per_mm else "not calibrated"
        return f"{self.name} ({self.engine_profile}, {scale})"

    @property
    def calibrated(self) -> bool:
        return self.px_per_mm is not None


class AssessmentVisit(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="assessment_visits")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="assessment_visits")
    plan = models.ForeignKey("treatments.TreatmentPlan", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="assessment_visits")
    appointment = models.ForeignKey("scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="assessment_visits")
    visit_date = models.DateField()
    is_baseline = models.BooleanField(default=False)
    weeks_after_last_session = models.PositiveIntegerField(null=True, blank=True)
    investigator_global = models.SmallIntegerField(null=True, blank=True, choices=GLOBAL_SCALE,
                                                   validators=_global_validators)
    patient_global = models.SmallIntegerField(null=True, blank=True, choices=GLOBAL_SCALE,
                                              validators=_global_validators)
    adverse_events_since_last_visit = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["visit_date", "id"]
        indexes = [models.Index(fields=["patient", "visit_date"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(investigator_global__gte=-3, investigator_global__lte=3)
                                   | models.Q(investigator_global__isnull=True), name="investigator_global_7_point"),
            models.CheckConstraint(condition=models.Q(patient_global__gte=-3, patient_global__lte=3)
                                   | models.Q(patient_global__isnull=True), name="patient_global_7_point"),
        ]

    def __str__(self) -> str:
        label = "baseline" if self.is_baseline else "follow-up"
        return f"Assessment {self.visit_date:%Y-%m-%d} ({label}, patient {self.patient_id})"


class PhotoView(models.TextChoices):
    VERTEX = "vertex", "Vertex"
    FRONTAL = "frontal", "Frontal"
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    OCCIPITAL = "occipital", "Occipital"
    TOP = "top", "Top"


def _visit_folder(visit: AssessmentVisit) -> str:
    return f"assessments/{visit.clinic_id}/{visit.patient_id}/{visit.pk}"


class GlobalPhoto(models.Model):
    """A standardized global photograph of one view. A new upload adds a row; nothing is overwritten."""

    visit = models.ForeignKey(AssessmentVisit, on_delete=models.PROTECT, related_name="photos")
    view = models.CharField(max_length=12, choices=PhotoView.choices)
    file = models.FileField(max_length=255)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField(null=True)
    height = models.PositiveIntegerField(null=True)
    original_name = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["visit", "view", "-uploaded_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["visit", "view", "sha256"], name="global_photo_unique_bytes")]

    def __str__(self) -> str:
        return f"{self.get_view_display()} photo {self.sha256[:10]} (visit {self.visit_id})"


class ImageKind(models.TextChoices):
    TARGET = "target", "Target area (clipped)"
    REGROWTH = "regrowth", "Regrowth (same area 2 to 3 days later)"


class TrichogramImage(models.Model):
    """A dermoscope photograph of the target area, stored once by checksum."""

    visit = models.ForeignKey(AssessmentVisit, on_delete=models.PROTECT, related_name="trichogram_images")
    kind = models.CharField(max_length=10, choices=ImageKind.choices, default=ImageKind.TARGET)
    file = models.FileField(max_length=255)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    original_name = models.CharField(max_length=255, blank=True)
    device_profile = models.ForeignKey(DeviceProfile, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="images")
    profile_name = models.CharField(max_length=80, help_text="Engine profile the image was analysed with.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # A voided image stays, with its results, but no longer counts in the visit's measurement.
    voided_at = models.DateTimeField("voided at", null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name="voided by")
    void_reason = models.TextField("reason for voiding", blank=True)

    class Meta:
        ordering = ["visit", "uploaded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["visit", "kind", "sha256"], name="trichogram_unique_bytes")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} image {self.sha256[:10]} (visit {self.visit_id})"


class AnalysisStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class TrichogramAnalysis(models.Model):
    """The engine's result for one image, with its progress while it runs.

    ``automatic`` is never changed once written; a clinician's corrections are stored beside it
    in ``corrected`` (with the correction itself in ``corrections``) and a second overlay.
    """

    image = models.OneToOneField(TrichogramImage, on_delete=models.PROTECT, related_name="analysis")
    status = models.CharField(max_length=10, choices=AnalysisStatus.choices, default=AnalysisStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    step = models.CharField(max_length=40, blank=True, default="queued")
    error = models.TextField(blank=True)
    engine_version = models.CharField(max_length=40, blank=True)
    profile_name = models.CharField(max_length=80)
    px_per_mm = models.FloatField(null=True, blank=True)
    vellus_threshold_um = models.FloatField(default=40.0)
    automatic = models.JSONField(null=True, blank=True)
    regrowth = models.JSONField(null=True, blank=True, help_text="compare_regrowth result, for a regrowth image.")
    corrections = models.JSONField(null=True, blank=True, help_text='{"added": [[x0,y0,x1,y1], …], "removed": [ids]}')
    corrected = models.JSONField(null=True, blank=True)
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    corrected_at = models.DateTimeField(null=True, blank=True)
    overlay = models.FileField(max_length=255, blank=True)
    corrected_overlay = models.FileField(max_length=255, blank=True, null=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Earlier results of this image (before it was analysed again with another device profile),
    # oldest first: profile, scale, engine version, automatic and corrected results and overlays,
    # and who replaced each, when and why. The series uses only the current result.
    previous = models.JSONField("earlier results", default=list, blank=True)
    # A clinician marked the corrected result as a reference for validating the device: the
    # corrected count is then compared with the automatic one (see docs/trichoscopy.md).
    validation_reference_at = models.DateTimeField("marked as validation reference at", null=True, blank=True)
    validation_reference_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                                on_delete=models.SET_NULL, related_name="+",
                                                verbose_name="marked as validation reference by")

    class Meta:
        verbose_name_plural = "trichogram analyses"

    def __str__(self) -> str:
        return f"Analysis of image {self.image_id}: {self.status} ({self.progress}%)"

    @property
    def effective(self) -> dict | None:
        return self.corrected or self.automatic

    @property
    def is_finished(self) -> bool:
        return self.status in (AnalysisStatus.DONE, AnalysisStatus.FAILED)

    @property
    def overlay_version(self) -> str:
        """Changes whenever the overlay is drawn again: part of its address, so no page shows a stale one."""
        return _name_version(self.overlay.name if self.overlay else "")

    @property
    def corrected_overlay_version(self) -> str:
        return _name_version(self.corrected_overlay.name if self.corrected_overlay else "")


def _name_version(name: str) -> str:
    import hashlib

    return hashlib.sha256(name.encode()).hexdigest()[:12] if name else ""


def _density(count: int | None, area_cm2: float | None) -> float | None:
    if count is None or not area_cm2:
        return None
    return count / area_cm2


class Measurement(models.Model):
    """The visit's phototrichogram numbers: effective values and the automatic ones beside them.

    Effective values are the corrected ones when a clinician corrected the analysis, else the
    automatic ones. There is no density column: density is ``hair_count / field_area_cm2``.
    """

    visit = models.OneToOneField(AssessmentVisit, on_delete=models.PROTECT, related_name="measurement")
    source_image = models.ForeignKey(TrichogramImage, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", help_text="Target-area image the counts come from.")
    hair_count = models.PositiveIntegerField(null=True, blank=True)
    field_area_cm2 = models.FloatField(null=True, blank=True, help_text="Measured area of the counted field.")
    terminal_count = models.PositiveIntegerField(null=True, blank=True)
    vellus_count = models.PositiveIntegerField(null=True, blank=True)
    mean_diameter_um = models.FloatField(null=True, blank=True)
    anagen_pct = models.FloatField(null=True, blank=True)
    hair_count_auto = models.PositiveIntegerField(null=True, blank=True)
    terminal_count_auto = models.PositiveIntegerField(null=True, blank=True)
    vellus_count_auto = models.PositiveIntegerField(null=True, blank=True)
    mean_diameter_um_auto = models.FloatField(null=True, blank=True)
    is_corrected = models.BooleanField(default=False)
    engine_version = models.CharField(max_length=40, blank=True)
    profile_name = models.CharField(max_length=80, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Excluded from the patient's series (outcomes, charts, changes from baseline) with a reason;
    # the values stay, shown as excluded, and the history says who excluded them.
    excluded = models.BooleanField("excluded from the series", default=False)
    exclusion_reason = models.TextField("reason for exclusion", blank=True)
    excluded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name="excluded by")
    excluded_at = models.DateTimeField("excluded at", null=True, blank=True)

    def __str__(self) -> str:
        return f"Measurement of visit {self.visit_id}"

    @property
    def density_per_cm2(self) -> float | None:
        return _density(self.hair_count, self.field_area_cm2)

    @property
    def density_per_cm2_auto(self) -> float | None:
        return _density(self.hair_count_auto, self.field_area_cm2)

    @property
    def calibrated(self) -> bool:
        return self.field_area_cm2 is not None


class VisitMatch(models.Model):
    """The hairs of a follow-up target-area image matched to the patient's baseline image.

    Written when the follow-up is analysed (see :mod:`anagen.assessments.matching`). ``result``
    is the engine's :class:`anagen.trichoscopy.VisitMatch` (pairs with confidence, lost and new
    hairs, the registration). Both changes are stored: ``matched_change`` (new minus lost, over
    the field both images cover) and ``count_change`` (the two independent counts over that
    field). The clinician confirms or rejects each lost and new hair; a rejected one is taken as
    kept, and ``confirmed_change`` is the matched change after the review.
    """

    followup_analysis = models.OneToOneField(TrichogramAnalysis, on_delete=models.CASCADE, related_name="visit_match")
    baseline_analysis = models.ForeignKey(TrichogramAnalysis, on_delete=models.CASCADE, related_name="+")
    engine_version = models.CharField(max_length=40, blank=True)
    result = models.JSONField(help_text="anagen.trichoscopy match_visits result: pairs, lost and new hairs, registration.")
    kept = models.PositiveIntegerField()
    lost = models.PositiveIntegerField()
    new = models.PositiveIntegerField()
    baseline_count = models.PositiveIntegerField(help_text="Baseline hairs in the field both images cover.")
    followup_count = models.PositiveIntegerField(help_text="Follow-up hairs in the field both images cover.")
    matched_change = models.IntegerField(help_text="New minus lost hairs (automatic).")
    count_change = models.IntegerField(help_text="Follow-up minus baseline count over the common field.")
    overlap_area_cm2 = models.FloatField(null=True, blank=True)
    rejected_lost = models.JSONField(default=list, blank=True, help_text="Lost hairs (baseline ids) the clinician found kept.")
    rejected_new = models.JSONField(default=list, blank=True, help_text="New hairs (follow-up ids) the clinician found already there.")
    confirmed_change = models.IntegerField(null=True, blank=True, help_text="Matched change after the clinician's review.")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Match of analysis {self.followup_analysis_id} to baseline analysis {self.baseline_analysis_id}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def same_area(self) -> bool:
        """False when the two images do not seem to show the same target area: then the
        match's change is not used (see ``anagen.trichoscopy.VisitMatch.same_area``)."""
        return bool((self.result or {}).get("same_area", True))

    @property
    def change(self) -> int:
        """The matched change used for the visit: the confirmed one once reviewed."""
        return self.confirmed_change if self.confirmed_change is not None else self.matched_change

    @property
    def change_pct(self) -> float | None:
        return 100.0 * self.change / self.baseline_count if self.baseline_count else None

    @property
    def count_change_pct(self) -> float | None:
        return 100.0 * self.count_change / self.baseline_count if self.baseline_count else None

    @property
    def density_change(self) -> float | None:
        """Matched change in hairs/cm² over the common field, when calibrated."""
        return self.change / self.overlap_area_cm2 if self.overlap_area_cm2 else None


class DeviceAdjustment(models.Model):
    """A fitted per-device adjustment of the engine's hair count: ``a + b * automatic``.

    Fitted from the device's validation references for one engine version; every fit is a new
    version and the earlier ones stay. At most one per device and engine version is active, and
    only a clinician's explicit, confirmed action makes it so. An active adjustment is shown
    beside the engine's count, never in its place.
    """

    device = models.ForeignKey(DeviceProfile, on_delete=models.PROTECT, related_name="adjustments")
    engine_version = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    intercept = models.FloatField()
    intercept_low = models.FloatField()
    intercept_high = models.FloatField()
    slope = models.FloatField()
    slope_low = models.FloatField()
    slope_high = models.FloatField()
    residual_sd = models.FloatField()
    n = models.PositiveIntegerField(help_text="Validation references the line was fitted to.")
    analysis_ids = models.JSONField(default=list, help_text="The analyses whose counts were fitted.")
    fitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    fitted_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True)
    activation_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["device", "engine_version", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["device", "version"], name="device_adjustment_version_unique"),
            models.UniqueConstraint(fields=["device", "engine_version"], condition=models.Q(is_active=True),
                                    name="one_active_adjustment_per_device_engine"),
        ]

    def __str__(self) -> str:
        return f"{self.device.name} calibration v{self.version} (engine {self.engine_version})"

    def adjust(self, count: int | None) -> float | None:
        from anagen.evidence.device_validation import adjusted_count

        return None if count is None else adjusted_count(count, self.intercept, self.slope)
