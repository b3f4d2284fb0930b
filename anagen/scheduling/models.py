"""Appointments at several clinics, or by video.

Stored in UTC, shown in the clinic's timezone. No clinician or room is ever double-booked:
``anagen.scheduling.services`` checks for overlaps inside the booking transaction, with the
clinician's and room's rows locked.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AppointmentKind(models.TextChoices):
    FREE_CONSULTATION = "free_consultation", "Free consultation"
    VIDEO_CONSULTATION = "video_consultation", "Video consultation"
    PROCEDURE = "procedure", "Procedure"
    FOLLOW_UP = "follow_up", "Follow-up assessment"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"
    COMPLETED = "completed", "Completed"


class Appointment(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="appointments")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey("accounts.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments",
                             help_text="Empty for video consultations.")
    kind = models.CharField(max_length=24, choices=AppointmentKind.choices)
    status = models.CharField(max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    meeting_url = models.URLField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["clinic", "starts_at"]),
            models.Index(fields=["clinician", "starts_at"]),
            models.Index(fields=["room", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                              name="appointment_ends_after_it_starts")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M} ({self.patient_id})"
