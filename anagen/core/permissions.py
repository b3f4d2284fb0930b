"""Who may see what: every page and API route asks for a role and a clinic.

Roles come from :class:`anagen.accounts.models.Role`. Clinic scoping: a staff member sees only
the records of the clinics they belong to; selectors take the user and filter with
:func:`clinic_filter`.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from anagen.accounts.models import Role

# Roles that may see a patient's identity and clinical record.
PATIENT_RECORD_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN)
# Roles that may make clinical decisions (screening, staging, plans).
CLINICAL_ROLES = (Role.CLINICIAN,)
# Roles that run the front desk: inquiries and bookings.
FRONT_DESK_ROLES = (Role.ADMIN, Role.COORDINATOR)
BOOKING_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN)


def has_role(user, *roles: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_role(*roles))


def check_role(user, *roles: str) -> None:
    if not has_role(user, *roles):
        raise PermissionDenied("Your role does not allow this.")


def check_clinic(user, clinic_id: int | None) -> None:
    if not (user and user.is_authenticated and user.can_see_clinic(clinic_id)):
        raise PermissionDenied("This record belongs to a clinic you do not work at.")


def clinic_filter(user, field: str = "clinic") -> dict:
    """Keyword arguments restricting a queryset to the user's clinics."""
    return {f"{field}__in": list(user.clinic_ids)}


def role_required(*roles: str):
    """View decorator: log in, then hold one of ``roles`` (403 otherwise)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            check_role(request.user, *roles)
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator
