"""Inquiries from prospective patients: a question, or a request for a free consultation.

They arrive through the public pages (no login) and the public API, and land in the
coordinators' inbox, where each is answered, closed, or converted into a patient and a booked
consultation in one step.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

CONCERN_MAX = 2000
PREFERRED_TIMES_MAX = 500


class InquiryKind(models.TextChoices):
    QUESTION = "question", "Question"
    CONSULTATION = "consultation", "Free consultation request"


class InquiryStatus(models.TextChoices):
    NEW = "new", "New"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"
    CONVERTED = "converted", "Converted"


class Inquiry(models.Model):
    kind = models.CharField(max_length=16, choices=InquiryKind.choices)
    name = models.CharField(max_length=160)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="Normalized to + and digits.")
    concern = models.TextField(max_length=CONCERN_MAX)
    preferred_clinic = models.ForeignKey("accounts.Clinic", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="inquiries")
    prefers_video = models.BooleanField(default=False, help_text="A video consultation instead of a clinic visit.")
    preferred_times = models.TextField(blank=True, max_length=PREFERRED_TIMES_MAX)
    consent_to_contact = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=InquiryStatus.choices, default=InquiryStatus.NEW)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_emailed = models.BooleanField(default=False)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    converted_patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="inquiries")
    converted_appointment = models.ForeignKey("scheduling.Appointment", null=True, blank=True,
                                              on_delete=models.SET_NULL, related_name="inquiries")
    converted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    converted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The public self-check ("Am I a candidate?") the request came from: the answers in plain words,
    # the facts they gave, what the screening rules (version named) found; None for other requests.
    self_check = models.JSONField("self-check answers", null=True, blank=True)
    # HMAC of the sender's address: enough to rate-limit and spot floods, not to identify anyone.
    client_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "inquiries"
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["preferred_clinic", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.name} ({self.get_status_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.status in (InquiryStatus.NEW, InquiryStatus.ANSWERED)
