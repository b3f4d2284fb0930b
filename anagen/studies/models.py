"""Clinical studies: protocol (versioned, signed), members and their blinding, subjects,
randomization and code-breaks.

The protocol a study runs under is an immutable JSON snapshot per version
(:class:`ProtocolVersion`); the :class:`Study` row holds the working copy that a draft or an
amendment edits. The randomization seed sits in its own table (:class:`RandomizationSecret`),
read only by :mod:`anagen.studies.randomization`: no page, API route, export, admin or audit
entry shows it. Allocations are written once and never changed; what a blinded user may see of
them is decided in one place, :mod:`anagen.studies.blinding`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Design(models.TextChoices):
    PARALLEL = "parallel", "Parallel groups"
    SPLIT_SCALP = "split_scalp", "Within-patient split-scalp (left/right halves)"


class Algorithm(models.TextChoices):
    PERMUTED_BLOCKS = "permuted_blocks", "Stratified permuted blocks (random block sizes)"
    MINIMIZATION = "minimization", "Minimization (Pocock-Simon, with a random element)"


class StudyStatus(models.TextChoices):
    DRAFT = "draft", "Draft protocol"
    RECRUITING = "recruiting", "Recruiting"
    CLOSED = "closed", "Closed to recruitment"


# Strata and minimization factors come from patient data (see services.subject_factors).
FACTORS = {"site": "Site (clinic)", "sex": "Sex", "stage_group": "Stage group (mild / moderate / advanced)"}


class Study(models.Model):
    title = models.CharField(max_length=200)
    registry_id = models.CharField(max_length=60, blank=True, help_text="e.g. ISRCTN12345678 or NCT01234567")
    sponsor = models.CharField(max_length=200, blank=True)
    principal_investigator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                               on_delete=models.PROTECT, related_name="+")
    sites = models.ManyToManyField("accounts.Clinic", related_name="studies")
    design = models.CharField(max_length=16, choices=Design.choices, default=Design.PARALLEL)
    status = models.CharField(max_length=16, choices=StudyStatus.choices, default=StudyStatus.DRAFT)
    target_enrolment = models.PositiveIntegerField(default=0)
    research_consent_version = models.CharField(
        max_length=40, blank=True, help_text="The research consent form version a subject must have signed.")
    criteria = models.JSONField(default=dict, blank=True,
                                help_text="{rules: [screening rules], age_min_years, age_max_years, sexes}")
    primary_endpoint = models.TextField(blank=True)
    secondary_endpoints = models.JSONField(default=list, blank=True)
    visits = models.JSONField(default=list, blank=True, help_text="[{code, label, week, window_days}]")
    algorithm = models.CharField(max_length=20, choices=Algorithm.choices, default=Algorithm.PERMUTED_BLOCKS)
    block_multiples = models.JSONField(default=list, blank=True)
    strata_factors = models.JSONField(default=list, blank=True)
    minimization_factors = models.JSONField(default=list, blank=True)
    p_best = models.FloatField(default=0.8)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.title


class Arm(models.Model):
    """One arm of the study. Split-scalp: the active and the placebo product; randomization
    decides which side (L or R) gets the active one."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="arms")
    code = models.CharField(max_length=8)
    name = models.CharField(max_length=120)
    is_placebo = models.BooleanField(default=False)
    ratio = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["study", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="studies_arm_code_unique")]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"


class ProtocolVersion(models.Model):
    """One version of the protocol: its content frozen as JSON once it is signed off."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    content = models.JSONField(default=dict)
    amendment_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "-number"]
        constraints = [models.UniqueConstraint(fields=["study", "number"], name="studies_version_unique")]

    def __str__(self) -> str:
        return f"{self.study} protocol v{self.number}"

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    def save(self, *args, **kwargs):
        if self.pk is not None:
            old = ProtocolVersion.objects.filter(pk=self.pk).values("content", "approved_at").first()
            if old and old["approved_at"] is not None and old["content"] != self.content:
                raise ValueError("A signed protocol version cannot change; amend it to make a new version.")
        super().save(*args, **kwargs)


class SignatureMeaning(models.TextChoices):
    STATISTICAL = "statistical_approval", "Statistical approval: the design, randomization and analysis are sound"
    CLINICAL = "clinical_approval", "Clinical approval: the protocol is safe and clinically appropriate"


class Signature(models.Model):
    """An electronic signature: the signer re-entered their password; the meaning is recorded."""

    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    meaning = models.CharField(max_length=24, choices=SignatureMeaning.choices)
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "meaning"], name="studies_signature_once")]


class StudyRole(models.TextChoices):
    STATISTICIAN = "statistician", "Statistician / study manager (blinded)"
    INVESTIGATOR = "investigator", "Investigator, clinician (blinded)"
    EVALUATOR = "evaluator", "Evaluator (blinded)"
    COORDINATOR = "coordinator", "Coordinator (blinded)"
    UNBLINDED_PHARMACIST = "unblinded_pharmacist", "Pharmacist / product preparation (unblinded)"
    UNBLINDED_STATISTICIAN = "unblinded_statistician", "Independent statistician (unblinded)"


UNBLINDED_ROLES = frozenset({StudyRole.UNBLINDED_PHARMACIST, StudyRole.UNBLINDED_STATISTICIAN})


class StudyMember(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="study_memberships")
    role = models.CharField(max_length=24, choices=StudyRole.choices)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "role", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "user"], name="studies_member_once")]

    @property
    def is_blinded(self) -> bool:
        return self.role not in UNBLINDED_ROLES


class SubjectStatus(models.TextChoices):
    SCREEN_FAILED = "screen_failed", "Screen failure"
    ENROLLED = "enrolled", "Enrolled"
    RANDOMIZED = "randomized", "Randomized"
    WITHDRAWN = "withdrawn", "Withdrawn"
    LOST = "lost_to_follow_up", "Lost to follow-up"


class Subject(models.Model):
    """A patient screened for a study: a screen failure (kept, with the reasons), or enrolled."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="subjects")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="study_subjects")
    site = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=20, help_text="Subject code, e.g. S-007 (enrolled) or F-003 (screen failure).")
    status = models.CharField(max_length=20, choices=SubjectStatus.choices)
    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="+")
    eligibility = models.JSONField(default=dict, help_text="The decision and reasons when screened.")
    facts = models.JSONField(default=dict, help_text="The facts the criteria saw.")
    screen_failure_reason = models.TextField(blank=True)
    consent = models.ForeignKey("patients.Consent", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    factors = models.JSONField(default=dict, blank=True, help_text="Randomization factor levels (site, sex, stage group).")
    screened_at = models.DateTimeField()
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    unblinded_at = models.DateTimeField(null=True, blank=True, help_text="Set by an emergency code-break.")

    class Meta:
        ordering = ["study", "code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="studies_subject_code_unique"),
            models.UniqueConstraint(fields=["study", "patient"], condition=~models.Q(status="screen_failed"),
                                    name="studies_patient_enrolled_once"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_unblinded(self) -> bool:
        return self.unblinded_at is not None


class RandomizationSecret(models.Model):
    """The seed of the allocation sequence. Read only by ``anagen.studies.randomization``."""

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="+")
    seed = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)


class Allocation(models.Model):
    """One subject's randomization, revealed at the moment it was made; never changed."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="allocations")
    subject = models.OneToOneField(Subject, on_delete=models.PROTECT, related_name="allocation")
    sequence_number = models.PositiveIntegerField()
    arm_code = models.CharField(max_length=8, help_text="Parallel: the arm. Split-scalp: the side (L/R) that gets the active product.")
    stratum = models.CharField(max_length=200, blank=True)
    index_in_stratum = models.PositiveIntegerField()
    block_index = models.PositiveIntegerField(null=True, blank=True)
    block_size = models.PositiveIntegerField(null=True, blank=True)
    algorithm = models.CharField(max_length=20)
    algorithm_version = models.CharField(max_length=20)
    randomized_at = models.DateTimeField()
    randomized_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["study", "sequence_number"]
        constraints = [models.UniqueConstraint(fields=["study", "sequence_number"], name="studies_one_subject_per_slot")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A randomization cannot be changed; record a correction decision instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("A randomization cannot be undone; record a correction decision instead.")


class AllocationCorrection(models.Model):
    """An error in a randomization, corrected by a recorded decision (the allocation stays as it was)."""

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="corrections")
    decision = models.TextField(help_text="What is to be done, e.g. analyse as randomized; treat per protocol.")
    reason = models.TextField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()


class CodeBreak(models.Model):
    """An emergency unblinding of one subject by an authorized clinician, with the reason."""

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="code_breaks")
    broken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    broken_at = models.DateTimeField()
    reason = models.TextField()


class DeviationCategory(models.TextChoices):
    MISSED_VISIT = "missed_visit", "Missed visit"
    VISIT_OUT_OF_WINDOW = "visit_out_of_window", "Visit outside its window"
    WRONG_TREATMENT = "wrong_treatment", "Wrong treatment or product"
    ELIGIBILITY = "eligibility", "Eligibility criterion not met"
    CONSENT = "consent", "Consent"
    PROCEDURE = "procedure", "Procedure not per protocol"
    OUTSIDE_TREATMENT = "outside_treatment", "Treatment outside the study product"
    OTHER = "other", "Other"


# Found from the records (the held visits against the protocol's windows; the subject's clinic
# procedures that are not study product); the others are reported by people.
DETECTED_CATEGORIES = frozenset({DeviationCategory.MISSED_VISIT, DeviationCategory.VISIT_OUT_OF_WINDOW,
                                 DeviationCategory.OUTSIDE_TREATMENT})


class Deviation(models.Model):
    """A protocol deviation of one subject: found from the visit schedule, or reported.

    ``reveals_allocation`` marks a report whose details would tell a blinded reader the arm (a
    wrong product given, say): its description is shown only to unblinded members.
    """

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="deviations")
    category = models.CharField(max_length=24, choices=DeviationCategory.choices)
    visit_code = models.CharField(max_length=20, blank=True)
    description = models.TextField()
    reveals_allocation = models.BooleanField(default=False)
    detected = models.BooleanField(default=False, help_text="Found from the schedule rather than reported.")
    occurred_on = models.DateField(null=True, blank=True)
    procedure = models.ForeignKey("treatments.Procedure", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", help_text="A treatment outside the study product: the clinic "
                                                              "procedure found.")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", help_text="Empty when the nightly check found it.")
    reported_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    closing_note = models.TextField(blank=True)

    class Meta:
        ordering = ["subject", "reported_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "category", "visit_code"],
                                    condition=models.Q(detected=True, procedure__isnull=True),
                                    name="studies_deviation_detected_once"),
            models.UniqueConstraint(fields=["subject", "procedure"], condition=models.Q(procedure__isnull=False),
                                    name="studies_deviation_procedure_once"),
        ]

    def __str__(self) -> str:
        return f"{self.subject.code}: {self.get_category_display()}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
# Blinded reading (coded images, readings, adjudication) lives in its own module.
from .models_reading import Adjudication, CodedImage, Reading, ReadingPlan, ReadingStatus  # noqa: E402,F401
# Data quality and the database lock (issue items 8, 9) live in their own module.
from .models_quality import (  # noqa: E402,F401
    DataQuery,
    LockAction,
    LockEvent,
    QueryStatus,
    Side,
    SideMeasurement,
    SourceVerification,
)
# Treatment and placebo delivery (issue item 5): study lots, preparations, syringes.
from .models_delivery import Preparation, StudyLot, Syringe  # noqa: E402,F401
