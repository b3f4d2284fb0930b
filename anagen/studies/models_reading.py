"""Blinded reading of study images: coded copies, readings, adjudications and the reading plan.

A :class:`CodedImage` is a metadata-free copy of a study visit's target-area image, stored under
a file name that is its random code. Its link to the original (``source``) is read only by
:mod:`anagen.studies.reading_services`; no page, API answer, file name or audit entry an
evaluator can reach shows the patient, the date, the visit, the side or the arm.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class ReadingPlan(models.Model):
    """How a study's images are read: readers per image and the adjudication margin."""

    study = models.OneToOneField("studies.Study", on_delete=models.CASCADE, related_name="reading_plan")
    readers_per_image = models.PositiveSmallIntegerField(default=2, validators=[MinValueValidator(1),
                                                                                MaxValueValidator(5)])
    margin_pct = models.FloatField(default=10.0, validators=[MinValueValidator(0.0), MaxValueValidator(100.0)],
                                   help_text="Readings differing by more than this share of their mean ...")
    margin_hairs = models.PositiveIntegerField(default=3, help_text="... and by more than this many hairs go to "
                                                                    "an adjudicator.")
    updated_at = models.DateTimeField(auto_now=True)


class CodedImage(models.Model):
    study = models.ForeignKey("studies.Study", on_delete=models.PROTECT, related_name="coded_images")
    code = models.CharField(max_length=9, unique=True)
    # The original image. Read only by reading_services (coding) and never shown to a reader.
    source = models.ForeignKey("assessments.TrichogramImage", on_delete=models.PROTECT, related_name="+")
    file = models.FileField(max_length=100)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    automatic = models.JSONField(help_text="The engine's result on these pixels (hair coordinates are the image's).")
    profile_name = models.CharField(max_length=80)
    px_per_mm = models.FloatField(null=True, blank=True)
    vellus_threshold_um = models.FloatField(default=40.0)
    order_key = models.BigIntegerField(db_index=True, help_text="Random presentation order.")
    coded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order_key"]
        constraints = [models.UniqueConstraint(fields=["study", "source"], name="studies_coded_image_once")]

    def __str__(self) -> str:
        return self.code


class ReadingStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class Reading(models.Model):
    """One evaluator's reading of one coded image: the engine's overlay, corrected, then signed."""

    coded_image = models.ForeignKey(CodedImage, on_delete=models.PROTECT, related_name="readings")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    removed = models.JSONField(default=list, blank=True, help_text="Ids of the engine's hairs removed.")
    added = models.JSONField(default=list, blank=True, help_text="Hairs added, [x0, y0, x1, y1] in pixels.")
    result = models.JSONField(null=True, blank=True, help_text="The corrected analysis.")
    hair_count = models.PositiveIntegerField()
    field_area_cm2 = models.FloatField(null=True, blank=True)
    density_per_cm2 = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=ReadingStatus.choices, default=ReadingStatus.DRAFT)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["coded_image", "signed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["coded_image", "reader"], name="studies_one_reading_per_reader")]

    @property
    def is_signed(self) -> bool:
        return self.status == ReadingStatus.SIGNED


class Adjudication(models.Model):
    """Two signed readings differ by more than the margin: a third evaluator signs the final value."""

    coded_image = models.OneToOneField(CodedImage, on_delete=models.PROTECT, related_name="adjudication")
    reason = models.TextField()
    opened_at = models.DateTimeField(auto_now_add=True)
    adjudicator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    hair_count = models.PositiveIntegerField(null=True, blank=True)
    density_per_cm2 = models.FloatField(null=True, blank=True)
    note = models.TextField(blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None
