"""Appointments at several clinics, or by video.

Stored in UTC, shown in the clinic's timezone. No clinician or room is ever double-booked:
``anagen.scheduling.services`` checks for overlaps inside the booking transaction, with the
clinician's and room's rows locked.

Durations per kind live in :class:`AppointmentType`, one row per kind, editable in the Django
admin and seeded by a data migration (free consultation 30 min, video consultation 30,
procedure 120, follow-up assessment 30). When a row is missing the defaults in
:data:`DEFAULT_DURATIONS` apply.
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


DEFAULT_DURATIONS = {
    AppointmentKind.FREE_CONSULTATION: 30,
    AppointmentKind.VIDEO_CONSULTATION: 30,
    AppointmentKind.PROCEDURE: 120,
    AppointmentKind.FOLLOW_UP: 30,
}


class AppointmentType(models.Model):
    """The default length of each kind of appointment (admin-editable)."""

    kind = models.CharField(max_length=24, choices=AppointmentKind.choices, unique=True)
    duration_minutes = models.PositiveSmallIntegerField(help_text="Default length when booking, in minutes.")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.duration_minutes} min)"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class ClinicianAvailability(models.Model):
    """A weekly window in which a clinician sees patients at a clinic, in the clinic's local time.

    ``room`` empty: any suitable room of the clinic (and video consultations booked under it).
    """

    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="availability")
    room = models.ForeignKey("accounts.Room", null=True, blank=True, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField(help_text="Clinic's local time.")
    end_time = models.TimeField(help_text="Clinic's local time.")
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True, help_text="Empty: until further notice.")

    class Meta:
        ordering = ["clinician_id", "clinic_id", "weekday", "start_time"]
        verbose_name_plural = "clinician availability"
        indexes = [models.Index(fields=["clinician", "clinic", "weekday"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_time__gt=models.F("start_time")),
                                   name="availability_ends_after_it_starts"),
            models.CheckConstraint(condition=models.Q(valid_until__isnull=True)
                                   | models.Q(valid_until__gte=models.F("valid_from")),
                                   name="availability_valid_until_after_from"),
        ]

    def clean(self) -> None:
        # The admin edits these rows directly; the same checks as ``services.availability_add``.
        from django.core.exceptions import ValidationError

        if self.room_id and self.clinic_id and self.room.clinic_id != self.clinic_id:
            raise ValidationError({"room": f"Room {self.room.name} is not at {self.clinic.name}."})
        if self.clinician_id and self.clinic_id and not self.clinician.clinics.filter(pk=self.clinic_id).exists():
            raise ValidationError({"clinician": f"{self.clinician} does not work at {self.clinic.name}."})
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "Give an end time after the start time."})

    def __str__(self) -> str:
        return (f"{self.clinician} at {self.clinic.name}, {self.get_weekday_display()} "
                f"{self.start_time:%H:%M}-{self.end_time:%H:%M}")


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
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    cancellation_reason = models.TextField(blank=True)
    # iCalendar SEQUENCE: raised on every reschedule or cancellation so calendar apps update the event.
    sequence = models.PositiveIntegerField(default=0)

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

    @property
    def is_video(self) -> bool:
        return self.kind == AppointmentKind.VIDEO_CONSULTATION

    @property
    def is_booked(self) -> bool:
        return self.status == AppointmentStatus.BOOKED

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class EmailKind(models.TextChoices):
    CONFIRMATION = "confirmation", "Confirmation"
    REMINDER = "reminder", "Reminder"
    CANCELLATION = "cancellation", "Cancellation"
    ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement of an inquiry"


class ScheduledEmail(models.Model):
    """Outbox: an e-mail to a patient about an appointment, sent once ``send_after`` has passed.

    Acknowledgements of public inquiries go through it too; they have no appointment.

    ``anagen send_due_emails`` sends the due ones; confirmations also go out as soon as the
    booking commits. A cancelled appointment's unsent e-mails get ``cancelled_at``.
    """

    appointment = models.ForeignKey(Appointment, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="emails", help_text="Empty for an inquiry's acknowledgement.")
    kind = models.CharField(max_length=16, choices=EmailKind.choices)
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    send_after = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["send_after", "id"]
        indexes = [models.Index(fields=["sent_at", "cancelled_at", "send_after"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to} after {self.send_after:%Y-%m-%d %H:%M}"
