"""A record of every FHIR export: who took which data, when, identified or not.

Rows are written by :func:`anagen.fhir.services.export_record` and tracked by the audit trail
(so the audit log holds the export with its actor, address and request id too).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ExportVia(models.TextChoices):
    API = "api", "API"
    COMMAND = "command", "Command line"


class ExportScope(models.TextChoices):
    PATIENT = "patient", "One patient ($everything)"
    BULK = "bulk", "Bulk (NDJSON)"


class FhirExport(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text="Empty for an export run on the server's command line.")
    via = models.CharField(max_length=10, choices=ExportVia.choices)
    scope = models.CharField(max_length=10, choices=ExportScope.choices)
    deidentified = models.BooleanField(default=False)
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    clinic = models.ForeignKey("accounts.Clinic", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text="Empty for a bulk export of every clinic the actor may see.")
    resource_counts = models.JSONField(default=dict, help_text="Resources exported, per type.")
    destination = models.CharField(max_length=255, blank=True, help_text="Folder written, for the command line.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        what = f"patient {self.patient_id}" if self.scope == ExportScope.PATIENT else "bulk"
        return f"FHIR export ({what}, {'de-identified' if self.deidentified else 'identified'}) at {self.created_at}"
