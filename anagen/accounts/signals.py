"""Access changes are audited events, and nobody grants themselves access.

Whatever the path (Django admin, services, API, a shell inside a request), adding or removing a
clinic or a role, and changing ``is_superuser`` / ``is_staff`` / ``is_active``, writes an
:class:`anagen.audit.models.AuditEvent`; when the acting staff member is the one being changed
(and is not the installation's superuser), the change is refused. Staff are never deleted: they
are deactivated (``services.staff_deactivate``), so their audit entries keep their actor.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from anagen.audit.context import current_actor
from anagen.audit.events import record_event

from .models import StaffRole, User


class StaffAreNeverDeleted(Exception):
    pass


SELF_GRANT = "You cannot change your own clinics, roles or permissions: another admin must do it."


def _is_superuser(actor) -> bool:
    # From the database: the instance being saved may be the actor, flag already flipped in memory.
    return User.objects.filter(pk=actor.pk, is_superuser=True, is_active=True).exists()


def _refuse_self(user_pk) -> None:
    actor = current_actor()
    if actor is not None and actor.pk == user_pk and not _is_superuser(actor):
        raise PermissionDenied(SELF_GRANT)


@receiver(m2m_changed, sender=User.clinics.through)
def _clinics_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    if action not in {"pre_add", "pre_remove", "post_add", "post_remove", "pre_clear"}:
        return
    pairs = ([(instance.pk, pk) for pk in (pk_set or ())] if not reverse
             else [(pk, instance.pk) for pk in (pk_set or ())])
    if action == "pre_clear":
        pairs = ([(instance.pk, c) for c in instance.clinics.values_list("pk", flat=True)] if not reverse
                 else [(u, instance.pk) for u in instance.staff.values_list("pk", flat=True)])
    if action.startswith("pre_"):
        for user_pk, _ in pairs:
            _refuse_self(user_pk)
        if action == "pre_clear":
            for user_pk, clinic_pk in pairs:
                record_event("clinic_revoked", subject=f"user:{user_pk}", clinic_id=clinic_pk)
        return
    kind = "clinic_granted" if action == "post_add" else "clinic_revoked"
    for user_pk, clinic_pk in pairs:
        record_event(kind, subject=f"user:{user_pk}", clinic_id=clinic_pk)


@receiver(pre_save, sender=StaffRole)
def _role_refuse_self(sender, instance: StaffRole, **kwargs) -> None:
    _refuse_self(instance.user_id)


@receiver(post_save, sender=StaffRole)
def _role_granted(sender, instance: StaffRole, created: bool, **kwargs) -> None:
    if created:
        record_event("role_granted", subject=f"user:{instance.user_id}", detail={"role": instance.role})


@receiver(pre_delete, sender=StaffRole)
def _role_revoke_refuse_self(sender, instance: StaffRole, **kwargs) -> None:
    _refuse_self(instance.user_id)


@receiver(post_delete, sender=StaffRole)
def _role_revoked(sender, instance: StaffRole, **kwargs) -> None:
    record_event("role_revoked", subject=f"user:{instance.user_id}", detail={"role": instance.role})


ACCESS_FLAGS = ("is_superuser", "is_staff", "is_active")


@receiver(pre_save, sender=User)
def _flags_changed(sender, instance: User, **kwargs) -> None:
    if instance.pk is None:
        return
    before = User.objects.filter(pk=instance.pk).values(*ACCESS_FLAGS).first()
    if before is None:
        return
    changed = {f: [before[f], getattr(instance, f)] for f in ACCESS_FLAGS if before[f] != getattr(instance, f)}
    if not changed:
        return
    _refuse_self(instance.pk)
    if changed.get("is_superuser") == [False, True]:
        actor = current_actor()
        if actor is not None and not _is_superuser(actor):
            raise PermissionDenied("Only the installation's superuser can make a superuser.")
    kind = "staff_deactivated" if changed.get("is_active") == [True, False] else "permission_changed"
    record_event(kind, subject=f"user:{instance.pk}", detail={"changed": changed})


@receiver(pre_delete, sender=User)
def _never_delete_staff(sender, instance: User, **kwargs) -> None:
    raise StaffAreNeverDeleted(
        f"Staff are never deleted (their audit entries must keep their name): deactivate {instance.email} instead.")
