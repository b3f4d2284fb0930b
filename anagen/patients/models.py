"""Patient records.

The core record (identity, contact, home clinic, diagnosis) is here; consents, staging,
hair-loss history, prior treatments and medical history hang off it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not stated"


class Diagnosis(models.TextChoices):
    MALE_PATTERN = "male_aga", "Male pattern androgenetic alopecia"
    FEMALE_PATTERN = "female_aga", "Female pattern androgenetic alopecia"
    TRACTION = "traction", "Traction alopecia"
    TELOGEN_EFFLUVIUM = "telogen_effluvium", "Telogen effluvium"
    ALOPECIA_AREATA = "alopecia_areata", "Alopecia areata"
    OTHER = "other", "Other"
    UNDIAGNOSED = "", "Not yet diagnosed"


class Patient(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="patients",
                               help_text="Home clinic: staff of this clinic see the record.")
    patient_number = models.CharField(max_length=20, unique=True, help_text="Clinic-issued identifier, e.g. AN-000123.")
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="As entered, normalized to digits with a leading +.")
    address = models.TextField(blank=True)
    diagnosis = models.CharField(max_length=24, choices=Diagnosis.choices, blank=True, default="")
    diagnosis_detail = models.CharField(max_length=200, blank=True, help_text="What \"other\" means, or a qualifier.")
    notes = models.TextField(blank=True)
    # Folded names, e-mail and patient number, kept by the services so one box finds a patient.
    search_text = models.CharField(max_length=400, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["clinic", "last_name", "first_name"]),
            models.Index(fields=["date_of_birth"]),
            models.Index(fields=["email"]),
            models.Index(fields=["phone"]),
            models.Index(fields=["clinic", "date_of_birth"], name="patient_clinic_dob_idx"),
            models.Index(fields=["clinic", "phone"], name="patient_clinic_phone_idx"),
            models.Index(fields=["clinic", "email"], name="patient_clinic_email_idx"),
            # Name words are matched inside search_text: scanning this narrow index is far
            # cheaper than visiting every row.
            models.Index(fields=["clinic", "search_text"], name="patient_clinic_search_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.patient_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class PatientNumberSequence(models.Model):
    """One row holding the last patient number issued; locked while a number is taken."""

    last_value = models.PositiveIntegerField(default=0)


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", "Treatment"
    RESEARCH = "research", "Research"
    PHOTOGRAPHY = "photography", "Photography"
    CONTACT = "contact", "Contact"


class Consent(models.Model):
    """A consent given for one document version; withdrawal keeps the row (who, when, why)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=16, choices=ConsentKind.choices)
    document_version = models.CharField(max_length=40, help_text="Version of the consent form signed, e.g. \"v3 2025-01\".")
    given_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    withdrawal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-given_at", "-id"]
        indexes = [models.Index(fields=["patient", "kind"])]

    def __str__(self) -> str:
        state = "withdrawn" if self.withdrawn_at else "active"
        return f"{self.get_kind_display()} consent {self.document_version} ({state})"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class StagingScale(models.TextChoices):
    NORWOOD = "norwood", "Norwood-Hamilton"
    LUDWIG = "ludwig", "Ludwig"
    SINCLAIR = "sinclair", "Sinclair"


class StagingAssessment(models.Model):
    """A stage on one scale on one date; the latest per patient is the current stage."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="stagings")
    scale = models.CharField(max_length=10, choices=StagingScale.choices)
    stage = models.CharField(max_length=12)
    assessed_on = models.DateField()
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assessed_on", "-id"]
        indexes = [models.Index(fields=["patient", "assessed_on"])]

    def __str__(self) -> str:
        return f"{self.get_scale_display()} {self.stage} on {self.assessed_on:%Y-%m-%d}"


class MedicalHistory(models.Model):
    """What screening needs to know; one per patient."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="medical_history")
    active_scalp_infection = models.BooleanField(default=False)
    scalp_inflammation = models.BooleanField(default=False)
    cancer_under_treatment = models.BooleanField(default=False)
    pregnant_or_breastfeeding = models.BooleanField(default=False)
    bleeding_disorder = models.BooleanField(default=False)
    anticoagulants = models.BooleanField(default=False)
    autoimmune_disease = models.BooleanField(default=False)
    keloid_tendency = models.BooleanField(default=False)
    medications = models.TextField(blank=True)
    allergies = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    FLAGS = ("active_scalp_infection", "scalp_inflammation", "cancer_under_treatment", "pregnant_or_breastfeeding",
             "bleeding_disorder", "anticoagulants", "autoimmune_disease", "keloid_tendency")

    class Meta:
        verbose_name_plural = "medical histories"

    def __str__(self) -> str:
        return f"Medical history of patient {self.patient_id}"


class PriorTreatmentKind(models.TextChoices):
    MINOXIDIL = "minoxidil", "Minoxidil"
    FINASTERIDE = "finasteride", "Finasteride"
    DUTASTERIDE = "dutasteride", "Dutasteride"
    PRP = "prp", "PRP"
    TRANSPLANT = "transplant", "Hair transplant"
    OTHER = "other", "Other"


class TreatmentResponse(models.TextChoices):
    GOOD = "good", "Good"
    PARTIAL = "partial", "Partial"
    NONE = "none", "None"
    UNKNOWN = "unknown", "Unknown"


class PriorTreatment(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="prior_treatments")
    treatment = models.CharField(max_length=16, choices=PriorTreatmentKind.choices)
    started_on = models.DateField(null=True, blank=True)
    stopped_on = models.DateField(null=True, blank=True, help_text="Empty while still taking it.")
    response = models.CharField(max_length=10, choices=TreatmentResponse.choices, default=TreatmentResponse.UNKNOWN)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_treatment_display()} ({self.get_response_display().lower()} response)"


class HairLossHistory(models.Model):
    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="hair_loss_history")
    onset_year = models.PositiveSmallIntegerField(null=True, blank=True)
    progression = models.TextField(blank=True, help_text="How it has changed: speed, areas, triggers.")
    family_history = models.BooleanField(null=True, blank=True)
    pattern_notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "hair-loss histories"

    def __str__(self) -> str:
        return f"Hair-loss history of patient {self.patient_id}"
