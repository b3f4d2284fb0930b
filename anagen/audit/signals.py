"""Append-only and chained: an audit entry, once written, is never changed or deleted, and each
new entry is linked into a hash chain in the transaction that writes it.

The database refuses UPDATE, DELETE and TRUNCATE on the audit tables as well (triggers, see
``migrations/0002_append_only_triggers``); these guards give the application a clear error first.
"""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import router, transaction
from django.db.models.signals import post_save, pre_delete, pre_save
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


@receiver(post_save, sender=LogEntry)
def _link(sender, instance: LogEntry, created: bool, using: str, **kwargs) -> None:
    if created:
        from .chain import link_entry

        link_entry(instance.pk, using=using, head=getattr(instance, "_anagen_chain_head", None))


def install_atomic_entry_save() -> None:
    """Write each LogEntry and its chain link in one transaction, even in autocommit: a crash
    between the two can then leave neither, never an entry without its link."""
    if getattr(LogEntry.save, "_anagen_atomic", False):
        return
    original = LogEntry.save

    def save(self, *args, **kwargs):
        from .chain import lock_head

        using = kwargs.get("using") or router.db_for_write(LogEntry, instance=self)
        # No savepoint: if the entry or its link fails, the whole write it audits fails with it.
        with transaction.atomic(using=using, savepoint=False):
            if self.pk is None:
                # The chain head is locked before the entry is inserted: on PostgreSQL the
                # entry's id then grows with its place in the chain.
                self._anagen_chain_head = lock_head(using)
            try:
                return original(self, *args, **kwargs)
            finally:
                self.__dict__.pop("_anagen_chain_head", None)

    save._anagen_atomic = True
    save._anagen_original = original
    LogEntry.save = save


def _who(user) -> str:
    return f"user:{user.pk}" if getattr(user, "pk", None) else ""


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs) -> None:
    from .events import record_event

    record_event("login", subject=_who(user), detail={"email": user.email}, actor=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    from .events import record_event

    record_event("logout", subject=_who(user), detail={"email": user.email}, actor=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    from .events import record_event

    # The e-mail tried, never the password (Django already masks it).
    email = str((credentials or {}).get("username") or (credentials or {}).get("email") or "")[:200]
    record_event("login_failed", subject=email, detail={"email": email})
