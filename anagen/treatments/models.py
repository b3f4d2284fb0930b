"""Treatment delivery: the catalogue, plans, procedures, product lots and autologous samples.

- :class:`Modality` is the catalogue an admin edits: each treatment the clinic offers, with its
  typical course (sessions, interval, follow-up weeks) and aftercare.
- :class:`TreatmentPlan` is a clinician's plan for one patient, built on a screening that found
  the patient a candidate; every change keeps the previous values in a
  :class:`TreatmentPlanRevision`. The plan proposes bookings (:class:`ProposedBooking`) that a
  coordinator confirms into appointments.
- :class:`Procedure` is one session as performed: zones and volumes, product lots used
  (:class:`ProductUse`, decrementing :class:`Lot` stock), the autologous sample implanted.
- :class:`AutologousSample` and its :class:`CustodyEvent` chain follow a biopsy or lipoaspirate
  through the lab (the state machine is in :mod:`anagen.treatments.rules`).

Writes go through :mod:`anagen.treatments.services`; reads through
:mod:`anagen.treatments.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from . import rules


class ModalityCategory(models.TextChoices):
    AUTOLOGOUS_CELLS = "autologous_cells", "Autologous cell therapy"
    BIOLOGIC = "biologic", "Biologic (exosomes, PRP)"
    ADJUNCT = "adjunct", "Adjunct"
    DRUG = "drug", "Drug therapy"
    SURGERY = "surgery", "Surgery"


class SampleKind(models.TextChoices):
    BIOPSY = "biopsy", "Punch biopsies"
    LIPOASPIRATE = "lipoaspirate", "Lipoaspirate"


class Modality(models.Model):
    """A treatment in the catalogue, with the defaults a new plan starts from."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=20, choices=ModalityCategory.choices)
    description = models.TextField(blank=True, help_text="How it is done, e.g. 2 mm punch biopsies, mechanical "
                                                         "disaggregation in saline, infiltration of the suspension.")
    delivery_methods = models.CharField(max_length=200, blank=True,
                                        help_text="Comma-separated, e.g. injection, micro-needling.")
    screening_code = models.CharField(max_length=40, blank=True,
                                      help_text="Candidacy screening a plan needs first (hfsc_micrograft, "
                                                "adipose_stem_cells, exosomes, prp); empty when none is needed.")
    sample_kind = models.CharField(max_length=20, choices=SampleKind.choices, blank=True,
                                   help_text="Autologous sample the procedure implants, if any.")
    typical_sessions = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1),
                                                                               MaxValueValidator(rules.MAX_SESSIONS)])
    interval_days = models.PositiveSmallIntegerField(default=0, help_text="Days between sessions.")
    follow_up_weeks = models.JSONField(default=list, blank=True,
                                       help_text="Weeks after the last session, e.g. [4, 12, 23, 44, 58].")
    aftercare = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "modalities"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        weeks = self.follow_up_weeks or []
        if not isinstance(weeks, list) or not all(isinstance(w, int) for w in weeks):
            raise ValidationError({"follow_up_weeks": "List whole weeks, e.g. [4, 12, 23]."})
        errors = rules.schedule_errors(sessions=self.typical_sessions, interval_days=self.interval_days,
                                       follow_up_weeks=weeks)
        if errors:
            raise ValidationError(" ".join(errors))


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class TreatmentPlan(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="treatment_plans")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="treatment_plans")
    modalities = models.ManyToManyField(Modality, related_name="plans")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="treatment_plans",
                                  help_text="The clinician responsible for the plan.")
    sessions = models.PositiveSmallIntegerField()
    interval_days = models.PositiveSmallIntegerField()
    follow_up_weeks = models.JSONField(default=list)
    start_on = models.DateField(help_text="Date of the first session.")
    aftercare = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    screening_basis = models.JSONField(default=list, blank=True,
                                       help_text="The screenings the plan was made on: modality, id, decision, when.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["clinic", "patient"])]

    def __str__(self) -> str:
        return f"Plan {self.pk} for {self.patient.patient_number}"

    @property
    def modality_names(self) -> str:
        return " + ".join(m.name for m in self.modalities.all())


class TreatmentPlanRevision(models.Model):
    """One change to a plan: the values before and after, and why."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    reason = models.TextField()
    previous = models.JSONField()
    new = models.JSONField()
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="plan_revision_number_unique")]

    def __str__(self) -> str:
        return f"Plan {self.plan_id} revision {self.number}"


class ProposalKind(models.TextChoices):
    SESSION = "session", "Treatment session"
    FOLLOW_UP = "follow_up", "Follow-up assessment"


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    CONFIRMED = "confirmed", "Confirmed"
    SUPERSEDED = "superseded", "Superseded by a plan change"


class ProposedBooking(models.Model):
    """A visit the plan proposes; a coordinator confirms it into an appointment."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="proposals")
    kind = models.CharField(max_length=12, choices=ProposalKind.choices)
    sequence = models.PositiveSmallIntegerField(help_text="Session number, or weeks after the last session.")
    proposed_on = models.DateField()
    status = models.CharField(max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED)
    appointment = models.OneToOneField("scheduling.Appointment", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="treatment_proposal")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["plan", "proposed_on", "kind", "sequence"]

    def __str__(self) -> str:
        return f"{self.label} on {self.proposed_on}"

    @property
    def label(self) -> str:
        return rules.ProposedVisit(self.kind, self.sequence, self.proposed_on).label

    @property
    def appointment_kind(self) -> str:
        return "procedure" if self.kind == ProposalKind.SESSION else "follow_up"


class ProductKind(models.TextChoices):
    EXOSOME = "exosome", "Exosome product"
    PRP_KIT = "prp_kit", "PRP kit"
    SCAFFOLD = "scaffold", "Scaffold / extracellular matrix"
    DRUG = "drug", "Drug"
    OTHER = "other", "Other"


class Product(models.Model):
    name = models.CharField(max_length=120)
    manufacturer = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=ProductKind.choices)
    unit = models.CharField(max_length=20, default="ml", help_text="Unit stock is counted in: ml, vial, kit, tablet.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name", "manufacturer"], name="product_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.manufacturer})"


class Lot(models.Model):
    """A lot of a product held at one clinic; stock goes down as procedures use it."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=60)
    expires_on = models.DateField()
    quantity_on_hand = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    received_on = models.DateField(null=True, blank=True)
    recalled = models.BooleanField(default=False)
    recall_reason = models.TextField(blank=True)
    recalled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["product__name", "expires_on"]
        constraints = [
            models.UniqueConstraint(fields=["product", "clinic", "lot_number"], name="lot_unique_per_clinic"),
            models.CheckConstraint(condition=models.Q(quantity_on_hand__gte=0), name="lot_stock_not_negative"),
        ]
        indexes = [models.Index(fields=["lot_number"])]

    def __str__(self) -> str:
        return f"{self.product.name} lot {self.lot_number}"


class Procedure(models.Model):
    """One treatment session as performed."""

    class Anaesthesia(models.TextChoices):
        NONE = "none", "None"
        TOPICAL = "topical", "Topical cream"
        LOCAL = "local", "Local infiltration"
        NERVE_BLOCK = "nerve_block", "Nerve block"
        SEDATION = "sedation", "Sedation"

    class Delivery(models.TextChoices):
        INJECTION = "injection", "Injection"
        MICRONEEDLING = "microneedling", "Micro-needling"
        TOPICAL = "topical", "Topical"
        ORAL = "oral", "Oral"
        SURGICAL = "surgical", "Surgical"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="procedures")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="procedures")
    plan = models.ForeignKey(TreatmentPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="procedures")
    modality = models.ForeignKey(Modality, on_delete=models.PROTECT, related_name="procedures")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="procedures")
    performed_on = models.DateField()
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.INJECTION)
    anaesthesia = models.CharField(max_length=16, choices=Anaesthesia.choices, default=Anaesthesia.NONE)
    anaesthesia_detail = models.CharField(max_length=200, blank=True, help_text="Agent and dose, e.g. lidocaine 1% 3 ml.")
    device = models.CharField(max_length=120, blank=True)
    needle = models.CharField(max_length=60, blank=True, help_text="Gauge and length, e.g. 30G 4 mm.")
    microneedling_depth_mm = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True,
                                                 validators=[MinValueValidator(0), MaxValueValidator(5)])
    sample = models.OneToOneField("AutologousSample", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="implant_procedure", help_text="The autologous sample implanted.")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-performed_on", "-id"]
        indexes = [models.Index(fields=["clinic", "performed_on"]), models.Index(fields=["patient", "performed_on"])]

    def __str__(self) -> str:
        return f"{self.modality.name} on {self.performed_on} ({self.patient.patient_number})"

    @property
    def total_volume_ml(self):
        return sum((z.volume_ml for z in self.zones.all()), 0)


class ProcedureZone(models.Model):
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="zones")
    zone = models.CharField(max_length=20, choices=rules.ZONES)
    volume_ml = models.DecimalField(max_digits=5, decimal_places=2,
                                    validators=[MinValueValidator(0), MaxValueValidator(rules.MAX_ZONE_VOLUME_ML)])

    class Meta:
        ordering = ["procedure", "id"]
        constraints = [models.UniqueConstraint(fields=["procedure", "zone"], name="procedure_zone_unique")]

    def __str__(self) -> str:
        return f"{self.get_zone_display()}: {self.volume_ml} ml"


class ProductUse(models.Model):
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="product_uses")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="uses")
    quantity = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["procedure", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} {self.lot.product.unit} of {self.lot}"


class AdverseEvent(models.Model):
    class Severity(models.IntegerChoices):
        MILD = 1, "Grade 1: mild"
        MODERATE = 2, "Grade 2: moderate"
        SEVERE = 3, "Grade 3: severe"
        LIFE_THREATENING = 4, "Grade 4: life-threatening"
        DEATH = 5, "Grade 5: death"

    class Relation(models.TextChoices):
        UNRELATED = "unrelated", "Not related"
        UNLIKELY = "unlikely", "Unlikely"
        POSSIBLE = "possible", "Possible"
        PROBABLE = "probable", "Probable"
        DEFINITE = "definite", "Definite"

    class Action(models.TextChoices):
        NONE = "none", "None"
        TREATED = "treated", "Treated (medication or procedure)"
        INTERRUPTED = "interrupted", "Treatment interrupted"
        WITHDRAWN = "withdrawn", "Treatment withdrawn"
        HOSPITALISED = "hospitalised", "Hospitalised"

    class Outcome(models.TextChoices):
        RECOVERED = "recovered", "Recovered"
        RECOVERING = "recovering", "Recovering"
        SEQUELAE = "sequelae", "Recovered with sequelae"
        NOT_RECOVERED = "not_recovered", "Not recovered"
        FATAL = "fatal", "Fatal"
        UNKNOWN = "unknown", "Unknown"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="adverse_events")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="adverse_events")
    procedure = models.ForeignKey(Procedure, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="adverse_events")
    description = models.TextField()
    onset_on = models.DateField()
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    serious = models.BooleanField(default=False, help_text="Death, life-threatening, hospitalisation, disability.")
    relation = models.CharField(max_length=12, choices=Relation.choices)
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.NONE)
    action_detail = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.UNKNOWN)
    resolved_on = models.DateField(null=True, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-onset_on", "-id"]

    def __str__(self) -> str:
        return f"Adverse event {self.pk}: {self.description[:40]}"


class AutologousSample(models.Model):
    """Material harvested from a patient for their own treatment, identified by a printed code."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="samples")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="samples")
    kind = models.CharField(max_length=20, choices=SampleKind.choices)
    code = models.CharField(max_length=20, unique=True, help_text="Printed on the label; carries no identity.")
    status = models.CharField(max_length=12, choices=rules.STATUSES, default=rules.HARVESTED)
    harvested_at = models.DateTimeField()
    harvested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    biopsy_count = models.PositiveSmallIntegerField(null=True, blank=True)
    biopsy_diameter_mm = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    lipoaspirate_ml = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    donor_site = models.CharField(max_length=80, blank=True, help_text="E.g. occipital scalp, abdomen.")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-harvested_at"]
        indexes = [models.Index(fields=["clinic", "status"])]

    def __str__(self) -> str:
        return self.code

    @property
    def harvest_summary(self) -> str:
        if self.kind == SampleKind.BIOPSY:
            return f"{self.biopsy_count} × {self.biopsy_diameter_mm} mm punch biopsies"
        return f"{self.lipoaspirate_ml} ml lipoaspirate"


class CustodyEvent(models.Model):
    """One step in a sample's chain of custody, with who and when."""

    sample = models.ForeignKey(AutologousSample, on_delete=models.PROTECT, related_name="custody")
    step = models.CharField(max_length=12, choices=rules.STATUSES)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    details = models.JSONField(default=dict, blank=True,
                               help_text="processing_method, passage, cell_count, viability_pct, reason.")
    notes = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sample", "at", "id"]

    def __str__(self) -> str:
        return f"{self.sample.code}: {self.get_step_display()} at {self.at:%Y-%m-%d %H:%M}"
