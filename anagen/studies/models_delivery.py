"""Treatment and placebo delivery (issue item 5): study lots, preparations and syringes.

- :class:`StudyLot`: a product lot set aside for one arm of a study by the unblinded pharmacist.
  Which arm a lot belongs to is the allocation by another name, so a study lot is shown only to
  the study's unblinded members (:func:`anagen.studies.blinding.hidden_lot_ids`): not in the
  stock list, the lot pages, the recall search or a procedure of anyone else.
- :class:`Preparation`: the unblinded preparer fills the syringes of one randomized subject for
  one protocol visit: per side for a split-scalp study (the active product on the allocated
  side, the placebo on the other), one syringe for a parallel study (the subject's arm).
- :class:`Syringe`: one syringe, labelled ``study product, side L`` (``study product`` for a
  parallel study). A spoiled one is discarded (kept, with who, when and why) and the side filled
  again. The blinded injector sees the label only; the injection is recorded through
  the clinic's procedure record (:func:`anagen.treatments.services.procedure_record`, with the
  syringe's lot) and the syringe keeps the procedure it went into.

The audit trail names who prepared and who injected, when, and the label; never the arm or
the lot (see ``apps.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

# The sides of a split-scalp study, as the allocation stores them (Allocation.arm_code); a
# parallel study's syringe has no side ("").
SIDE_CODES = ("L", "R")
WHOLE = ""


def syringe_label(side: str) -> str:
    return f"study product, side {side}" if side else "study product"


class StudyLot(models.Model):
    """A lot of a product held for one arm of a study; seen only by the study's unblinded members."""

    study = models.ForeignKey("studies.Study", on_delete=models.PROTECT, related_name="study_lots")
    arm = models.ForeignKey("studies.Arm", on_delete=models.PROTECT, related_name="+")
    lot = models.OneToOneField("treatments.Lot", on_delete=models.PROTECT, related_name="study_lot")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["study", "arm", "id"]

    def __str__(self) -> str:
        return f"{self.lot.product.name} lot {self.lot.lot_number}, expires {self.lot.expires_on:%Y-%m-%d}"


class Preparation(models.Model):
    """The syringes of one subject for one protocol visit, filled by the unblinded preparer."""

    subject = models.ForeignKey("studies.Subject", on_delete=models.PROTECT, related_name="preparations")
    visit_code = models.CharField(max_length=20)
    modality = models.ForeignKey("treatments.Modality", on_delete=models.PROTECT, related_name="+",
                                 help_text="The treatment recorded on the procedure: the same for every side.")
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField()

    class Meta:
        ordering = ["subject", "prepared_at", "id"]
        constraints = [models.UniqueConstraint(fields=["subject", "visit_code"], name="studies_prepared_once_per_visit")]

    def __str__(self) -> str:
        return f"{self.subject.code} {self.visit_code}"


class Syringe(models.Model):
    """One labelled syringe; ``arm``, ``lot`` and ``sample`` are what the blinding hides.

    A syringe is filled either from a lot set aside for its arm or, for a treatment that implants
    the patient's own material (a micrograft suspension), from the subject's released autologous
    sample (the active side; the placebo side still comes from a lot)."""

    preparation = models.ForeignKey(Preparation, on_delete=models.PROTECT, related_name="syringes")
    side = models.CharField(max_length=1, blank=True, help_text="L or R (split-scalp); empty for a parallel study.")
    label = models.CharField(max_length=40)
    arm = models.ForeignKey("studies.Arm", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey("treatments.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sample = models.OneToOneField("treatments.AutologousSample", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="study_syringe",
                                  help_text="The subject's own released sample this syringe was filled from.")
    quantity = models.DecimalField(max_digits=8, decimal_places=2)
    procedure = models.OneToOneField("treatments.Procedure", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="study_syringe")
    injected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    injected_at = models.DateTimeField(null=True, blank=True)
    # A syringe filled again after a discard: when and by whom (the first ones: the preparation's).
    filled_at = models.DateTimeField(null=True, blank=True)
    filled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    # A spoiled syringe (dropped, contaminated, drawn wrong) is discarded by the unblinded preparer
    # before it is given, with a reason, and the side filled again; the record stays.
    discarded_at = models.DateTimeField(null=True, blank=True)
    discarded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    discard_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["preparation", "side", "id"]
        constraints = [
            # One syringe in use per side; the discarded ones stay beside it.
            models.UniqueConstraint(fields=["preparation", "side"], condition=models.Q(discarded_at__isnull=True),
                                    name="studies_one_syringe_per_side"),
            models.CheckConstraint(condition=models.Q(discarded_at__isnull=True) | models.Q(procedure__isnull=True),
                                   name="studies_syringe_given_or_discarded"),
            models.CheckConstraint(condition=(models.Q(lot__isnull=False, sample__isnull=True)
                                              | models.Q(lot__isnull=True, sample__isnull=False)),
                                   name="studies_syringe_lot_or_sample"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def contents(self) -> str:
        """What the syringe holds, for the unblinded only."""
        if self.sample_id:
            return f"autologous {self.sample.get_kind_display().lower()} {self.sample.code}"
        return f"{self.lot.product.name} lot {self.lot.lot_number}"

    @property
    def injected(self) -> bool:
        return self.procedure_id is not None

    @property
    def discarded(self) -> bool:
        return self.discarded_at is not None
