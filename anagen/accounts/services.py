"""Writes for staff accounts and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

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
    is_admin = Role.ADMIN in roles
    user = User.objects.create_user(email=email, password=password, first_name=first_name, last_name=last_name,
                                    job_title=job_title, is_staff=is_admin, is_superuser=is_admin)
    StaffRole.objects.bulk_create([StaffRole(user=user, role=r) for r in sorted(set(roles))])
    user.clinics.set(clinics)
    return user


@transaction.atomic
def token_create(*, email: str, name: str = "") -> tuple[ApiToken, str]:
    """Create a bearer token for a staff member; return it with the raw key (shown once)."""
    try:
        user = User.objects.get(email=(email or "").strip().lower(), is_active=True)
    except User.DoesNotExist:
        raise NotFound(f"No active staff member has the e-mail {email!r}.") from None
    raw = "ana_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, key_hash=_hash(raw), prefix=raw[:8])
    return token, raw


def token_authenticate(raw: str) -> User | None:
    """The active user behind a bearer token, or None."""
    if not raw or len(raw) > 200:
        return None
    token = (ApiToken.objects.select_related("user")
             .filter(key_hash=_hash(raw), revoked_at__isnull=True, user__is_active=True).first())
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
