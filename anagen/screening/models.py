"""Candidacy screening: versioned rule sets and the screenings made with them.

A :class:`RuleSet` is one immutable version of the rules (plain data for
:mod:`anagen.screening.rules`); editing the rules publishes version N+1. A :class:`Screening` is one
modality's decision for one patient, stored with the facts it saw and the rule version it used, so
an old decision can always be explained even after the rules change.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from .rules import MODALITIES


class Modality(models.TextChoices):
    HFSC_MICROGRAFT = "hfsc_micrograft", MODALITIES["hfsc_micrograft"]
    ADIPOSE_STEM_CELLS = "adipose_stem_cells", MODALITIES["adipose_stem_cells"]
    EXOSOMES = "exosomes", MODALITIES["exosomes"]
    PRP = "prp", MODALITIES["prp"]


class DecisionChoice(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    NOT_CANDIDATE = "not_candidate", "Not a candidate"
    REVIEW = "review", "Needs clinician review"


class RuleSetIsImmutable(Exception):
    pass


class RuleSet(models.Model):
    """One version of the screening rules. Never changed once saved, except which one is active."""

    version = models.PositiveIntegerField(unique=True)
    rules = models.JSONField()
    note = models.TextField(blank=True, help_text="What changed in this version and why.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True),
                                    name="screening_one_active_rule_set"),
        ]

    def __str__(self) -> str:
        return f"Screening rules v{self.version}" + (" (active)" if self.is_active else "")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            old = RuleSet.objects.filter(pk=self.pk).values("version", "rules").first()
            if old and (old["version"] != self.version or old["rules"] != self.rules):
                # Old screenings point at this version: changing it would rewrite their explanation.
                raise RuleSetIsImmutable("A rule set version cannot be changed; publish a new version instead.")
        super().save(*args, **kwargs)


class Screening(models.Model):
    """One modality's candidacy decision for one patient, with the reasons that fired."""

    run_id = models.UUIDField(default=uuid.uuid4, db_index=True,
                              help_text="Screenings made together (one questionnaire) share a run.")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="screenings")
    modality = models.CharField(max_length=24, choices=Modality.choices)
    decision = models.CharField(max_length=16, choices=DecisionChoice.choices)
    reasons = models.JSONField(default=list, help_text="[{rule_id, effect, description, missing}], most serious first.")
    facts = models.JSONField(default=dict, help_text="The facts the rules saw.")
    answers = models.JSONField(default=dict, help_text="The questionnaire as answered at screening time.")
    clinician_confirmed_contraindications = models.JSONField(
        default=dict, blank=True,
        help_text="Contraindication flags the clinician answered yes or no at screening time.")
    notes = models.TextField(blank=True)
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="screenings")
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    performed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-performed_at", "-id"]
        indexes = [models.Index(fields=["patient", "modality", "performed_at"])]

    def __str__(self) -> str:
        return f"{self.get_modality_display()}: {self.get_decision_display()} (rules v{self.rule_set.version})"
