"""Data quality and the database lock: queries on a data point, source-data verification
flags, split-scalp per-side values, and the lock / unlock events.

A study is locked when its latest :class:`LockEvent` is a lock. After the lock no service
changes the study's data (see :mod:`anagen.studies.lock`); an unlock is a signed act with its
reason, kept as an event like the lock itself. Imported by :mod:`anagen.studies.models`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class QueryStatus(models.TextChoices):
    OPEN = "open", "Open (raised)"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class DataQuery(models.Model):
    """A question about one data point of a subject (e.g. the week-12 density), raised, answered
    by the site and closed by whoever raised it (or a study statistician)."""

    study = models.ForeignKey("studies.Study", on_delete=models.PROTECT, related_name="queries")
    subject = models.ForeignKey("studies.Subject", on_delete=models.PROTECT, related_name="queries")
    visit = models.ForeignKey("assessments.AssessmentVisit", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    data_point = models.CharField(max_length=120, help_text="What is queried, e.g. 'density_per_cm2 at week 12'.")
    question = models.TextField()
    status = models.CharField(max_length=10, choices=QueryStatus.choices, default=QueryStatus.OPEN)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    close_note = models.TextField(blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "-raised_at", "-id"]


class SourceVerification(models.Model):
    """A source-data verification flag: this data point of this subject was checked against the
    source (the clinic record) by this person. One flag per data point; withdrawing it deletes
    the row (the audit trail keeps both)."""

    study = models.ForeignKey("studies.Study", on_delete=models.PROTECT, related_name="verifications")
    subject = models.ForeignKey("studies.Subject", on_delete=models.PROTECT, related_name="verifications")
    data_point = models.CharField(max_length=120)
    note = models.TextField(blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField()

    class Meta:
        ordering = ["study", "subject", "data_point"]
        constraints = [models.UniqueConstraint(fields=["subject", "data_point"], name="studies_sdv_once")]


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"


class SideMeasurement(models.Model):
    """Split-scalp: the target-area density of one scalp half at one assessment visit.

    The clinic's Measurement holds one target area per visit; a split-scalp study needs one per
    side, recorded here on the study's own data (counted from that side's trichogram)."""

    subject = models.ForeignKey("studies.Subject", on_delete=models.PROTECT, related_name="side_measurements")
    visit = models.ForeignKey("assessments.AssessmentVisit", on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=5, choices=Side.choices)
    density_per_cm2 = models.FloatField()
    source_image = models.ForeignKey("assessments.TrichogramImage", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+",
                                     help_text="The half's target-area image the value was counted from: once it is "
                                               "coded and read blind, the analysis takes the reading instead.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["subject", "visit", "side"]
        constraints = [models.UniqueConstraint(fields=["subject", "visit", "side"], name="studies_side_value_once")]


class LockAction(models.TextChoices):
    LOCK = "lock", "Database locked"
    UNLOCK = "unlock", "Database unlocked"


class LockEvent(models.Model):
    """A database lock or unlock: who (password re-entered), when, and for an unlock why."""

    study = models.ForeignKey("studies.Study", on_delete=models.PROTECT, related_name="lock_events")
    action = models.CharField(max_length=6, choices=LockAction.choices)
    reason = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    # A lock's results are released to the blinded team by a signed unblinding of the analysis
    # (a study statistician, password re-entered); an unlock ends it with the lock.
    unblinded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    unblinded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "-at", "-id"]
