"""Clinics, rooms and staff.

A staff member holds one or more roles and belongs to one or more clinics; every page and API
route asks both before it shows anything (see ``anagen.core.permissions``).
"""

from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known timezone; use a name such as Europe/London.")


class Clinic(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    timezone = models.CharField(max_length=64, default="Europe/London", validators=[validate_timezone])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Room(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=80)
    is_procedure_room = models.BooleanField(default=False, help_text="Equipped for injections and biopsies.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["clinic__name", "name"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="room_name_unique_per_clinic")]

    def __str__(self) -> str:
        return f"{self.clinic.name}: {self.name}"


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    COORDINATOR = "coordinator", "Coordinator"
    CLINICIAN = "clinician", "Clinician"
    LAB_SCIENTIST = "lab_scientist", "Lab scientist"
    EVALUATOR = "evaluator", "Blinded evaluator"
    STATISTICIAN = "statistician", "Statistician / study manager"


class StaffRole(models.Model):
    """One row per role a staff member holds."""

    user = models.ForeignKey("User", on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="staff_role_unique")]

    def __str__(self) -> str:
        return self.get_role_display()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("A staff member needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        """For installation only (``anagen createsuperuser``); clinic admins are not superusers."""
        if password is not None:
            # `createsuperuser --noinput` (DJANGO_SUPERUSER_PASSWORD) skips Django's validators.
            from django.contrib.auth import password_validation

            password_validation.validate_password(password, user=self.model(email=email, **extra))
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        user = self._create(email, password, **extra)
        StaffRole.objects.get_or_create(user=user, role=Role.ADMIN)
        return user


class User(AbstractUser):
    """A staff member. Patients do not log in."""

    username = None
    email = models.EmailField("e-mail", unique=True)
    clinics = models.ManyToManyField(Clinic, blank=True, related_name="staff")
    job_title = models.CharField(max_length=80, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    # Roles and clinics are asked on every request: cache them on the instance.
    @property
    def roles(self) -> frozenset[str]:
        if not hasattr(self, "_roles_cache"):
            self._roles_cache = frozenset(self.role_grants.values_list("role", flat=True)) if self.pk else frozenset()
        return self._roles_cache

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def clinic_ids(self) -> frozenset[int]:
        if not hasattr(self, "_clinic_ids_cache"):
            self._clinic_ids_cache = frozenset(self.clinics.values_list("id", flat=True)) if self.pk else frozenset()
        return self._clinic_ids_cache

    def can_see_clinic(self, clinic_id: int | None) -> bool:
        return clinic_id is not None and clinic_id in self.clinic_ids

    # The admin role manages its clinics' configuration and staff without being a superuser:
    # it holds the clinic apps' model permissions (the Django admin then limits every list
    # to the admin's clinics, see anagen.accounts.admin_scope).
    def _admin_role_may(self, app_label: str) -> bool:
        from .admin_scope import ADMIN_APPS

        return bool(self.is_active and self.is_staff and app_label in ADMIN_APPS and self.has_role(Role.ADMIN))

    def has_perm(self, perm, obj=None) -> bool:
        if self._admin_role_may(str(perm).split(".", 1)[0]):
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label) -> bool:
        return self._admin_role_may(app_label) or super().has_module_perms(app_label)

    def delete(self, *args, **kwargs):
        from .signals import StaffAreNeverDeleted

        raise StaffAreNeverDeleted(f"Staff are never deleted: deactivate {self.email} instead.")

    def forget_cached_access(self) -> None:
        for attr in ("_roles_cache", "_clinic_ids_cache"):
            self.__dict__.pop(attr, None)


class ApiToken(models.Model):
    """A bearer token for an integration. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, help_text="After this time the token is refused.")
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
