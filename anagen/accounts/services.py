"""Writes for staff accounts and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from anagen.audit.events import record_event
from anagen.core.errors import ActionError, NotFound

from .models import ApiToken, Clinic, Role, StaffRole, User


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def staff_create(*, email: str, password: str | None, first_name: str = "", last_name: str = "",
                 roles: list[str], clinics: list[Clinic], job_title: str = "") -> User:
    email = (email or "").strip().lower()
    if not email:
        raise ActionError("Enter the staff member's e-mail address.", field="email")
    if User.objects.filter(email=email).exists():
        raise ActionError(f"A staff member with e-mail {email} already exists.", field="email", code="duplicate")
    bad = set(roles) - set(Role.values)
    if bad or not roles:
        raise ActionError(f"Choose roles from: {', '.join(Role.values)}.", field="roles")
    if password is not None:
        check_password_strength(password, User(email=email, first_name=first_name, last_name=last_name))
    is_admin = Role.ADMIN in roles
    # An admin reaches the Django admin (is_staff) but is never a superuser: the admin role's
    # permissions cover its own clinics only (anagen.accounts.admin_scope).
    user = User.objects.create_user(email=email, password=password, first_name=first_name, last_name=last_name,
                                    job_title=job_title, is_staff=is_admin, is_superuser=False)
    StaffRole.objects.bulk_create([StaffRole(user=user, role=r) for r in sorted(set(roles))])
    user.clinics.set(clinics)
    return user


def _check_may_manage(actor, user: User, clinics=()) -> None:
    from django.core.exceptions import PermissionDenied

    if actor is None or not actor.is_active:
        raise PermissionDenied("Only an active admin can change staff access.")
    if actor.is_superuser:
        return
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only an admin can change staff access.")
    if actor.pk == user.pk:
        raise PermissionDenied("You cannot change your own clinics, roles or permissions: another admin must do it.")
    if not (user.clinic_ids & actor.clinic_ids) and user.clinic_ids:
        raise NotFound("No such staff member at a clinic you administer.")
    for clinic in clinics:
        if not actor.can_see_clinic(clinic.pk):
            raise PermissionDenied(f"You do not administer {clinic}: an admin of that clinic must grant it.")


@transaction.atomic
def staff_grant(*, actor, user: User, clinics_add=(), clinics_remove=(), roles_add=(), roles_remove=()) -> User:
    """Change a staff member's clinics and roles, as another admin (each change an audited event)."""
    bad = (set(roles_add) | set(roles_remove)) - set(Role.values)
    if bad:
        raise ActionError(f"Choose roles from: {', '.join(Role.values)}.", field="roles")
    _check_may_manage(actor, user, [*clinics_add, *clinics_remove])
    from anagen.audit.context import acting_as

    with acting_as(actor):
        if clinics_add:
            user.clinics.add(*clinics_add)
        if clinics_remove:
            user.clinics.remove(*clinics_remove)
        for role in roles_add:
            StaffRole.objects.get_or_create(user=user, role=role)
        for grant in StaffRole.objects.filter(user=user, role__in=list(roles_remove)):
            grant.delete()
        if Role.ADMIN in roles_add and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
    user.forget_cached_access()
    return user


@transaction.atomic
def staff_deactivate(*, actor, user: User) -> User:
    """Take a staff member's access away for good: they can no longer log in and their API
    tokens stop working. The account stays, so the audit trail keeps naming them."""
    _check_may_manage(actor, user)
    from anagen.audit.context import acting_as

    with acting_as(actor):
        user.is_active = False
        user.save(update_fields=["is_active"])
        for token in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
            token_revoke(token=token)
    return user


def check_password_strength(password: str, user: User | None = None) -> None:
    """Django's AUTH_PASSWORD_VALIDATORS, as an ActionError a person can act on."""
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ActionError("Choose a stronger password: " + " ".join(exc.messages), field="password",
                          code="weak_password") from None


@transaction.atomic
def token_create(*, email: str, name: str = "", days: int | None = None) -> tuple[ApiToken, str]:
    """Create a bearer token for a staff member; return it with the raw key (shown once).

    It expires after ``days`` (default settings.ANAGEN_TOKEN_DAYS, 90)."""
    days = settings.ANAGEN_TOKEN_DAYS if days is None else days
    if not 1 <= days <= 3660:
        raise ActionError("A token lasts 1 to 3660 days; choose --days in that range.", field="days")
    try:
        user = User.objects.get(email=(email or "").strip().lower(), is_active=True)
    except User.DoesNotExist:
        raise NotFound(f"No active staff member has the e-mail {email!r}.") from None
    raw = "ana_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, key_hash=_hash(raw), prefix=raw[:8],
                                    expires_at=timezone.now() + timedelta(days=days))
    record_event("token_created", subject=f"user:{user.pk}",
                 detail={"prefix": token.prefix, "name": name, "expires_at": token.expires_at.isoformat()})
    return token, raw


def token_check(raw: str) -> tuple[User | None, str]:
    """The active user behind a bearer token and ``"ok"``, or None and why: ``"expired"`` or
    ``"invalid"`` (unknown, revoked, or its owner deactivated). Records when it was last used."""
    if not raw or len(raw) > 200:
        return None, "invalid"
    token = (ApiToken.objects.select_related("user")
             .filter(key_hash=_hash(raw), revoked_at__isnull=True, user__is_active=True).first())
    if token is None:
        return None, "invalid"
    now = timezone.now()
    if token.expires_at is None or token.expires_at <= now:
        return None, "expired"
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, "ok"


def token_authenticate(raw: str) -> User | None:
    """The active user behind a valid, unexpired bearer token, or None."""
    return token_check(raw)[0]


def token_revoke(*, token: ApiToken) -> None:
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        record_event("token_revoked", subject=f"user:{token.user_id}", detail={"prefix": token.prefix})
