"""Append-only: an audit entry, once written, is never changed or deleted."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.db.models.signals import pre_delete, pre_save
from django.dispatch import receiver


class AuditTrailIsAppendOnly(Exception):
    pass


@receiver(pre_save, sender=LogEntry)
def _refuse_update(sender, instance: LogEntry, **kwargs) -> None:
    if instance.pk is not None and LogEntry.objects.filter(pk=instance.pk).exists():
        raise AuditTrailIsAppendOnly("Audit entries cannot be changed.")


@receiver(pre_delete, sender=LogEntry)
def _refuse_delete(sender, instance: LogEntry, **kwargs) -> None:
    raise AuditTrailIsAppendOnly("Audit entries cannot be deleted.")
