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
    notes = models.TextField(blank=True)
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
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.patient_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"
