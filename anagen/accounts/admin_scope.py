"""The Django admin without god mode.

An admin is not a superuser. The admin role holds the model permissions of the clinic apps
(:data:`ADMIN_APPS`; ``User.has_perm``), and every ModelAdmin's list, change pages and
related-record choices are limited to the clinics the admin works at: a record belongs to a
clinic through its nearest foreign-key path to :class:`~anagen.accounts.models.Clinic`
(``clinic``, ``patient__clinic``, ...). Configuration that belongs to no clinic (catalogue,
rule sets, appointment types) stays shared. The installation's superuser (``createsuperuser``)
is not limited. The audit trail itself is not in the admin role's permissions.
"""

from __future__ import annotations

from functools import lru_cache

ADMIN_APPS = frozenset({
    "accounts", "intake", "patients", "screening", "scheduling", "treatments", "assessments", "outcomes",
    "studies", "fhir",
})


@lru_cache(maxsize=None)
def clinic_path(model) -> str | None:
    """The lookup from ``model`` to its clinic's id ("pk", "clinic", "patient__clinic"...), or None."""
    from .models import Clinic, User

    if model is Clinic:
        return "pk"
    if model is User:
        return "clinics"
    frontier = [(model, "")]
    seen = {model}
    for _depth in range(3):
        nxt = []
        for current, prefix in frontier:
            fks = [f for f in current._meta.concrete_fields if f.is_relation and f.related_model is not None]
            fks.sort(key=lambda f: f.name != "clinic")
            for f in fks:
                if f.related_model is Clinic:
                    return f"{prefix}{f.name}"
            for f in fks:
                if f.related_model not in seen and f.related_model is not User:
                    seen.add(f.related_model)
                    nxt.append((f.related_model, f"{prefix}{f.name}__"))
        frontier = nxt
    # Staff records (roles, tokens): through their staff member's clinics. (Not any FK to a
    # user: a shared rule set "published_by" someone stays shared.)
    if model._meta.app_label == "accounts":
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is User and f.name == "user":
                return "user__clinics"
    return None


def scope_queryset(qs, user):
    """``qs`` limited to the user's clinics (unchanged for the superuser or clinic-less models)."""
    if user is None or getattr(user, "is_superuser", False):
        return qs
    path = clinic_path(qs.model)
    if path is None:
        return qs
    qs = qs.filter(**{f"{path}__in": list(user.clinic_ids)})
    return qs.distinct() if path.endswith("clinics") else qs


def install() -> None:
    from django.contrib.admin.options import BaseModelAdmin

    if getattr(BaseModelAdmin.get_queryset, "_anagen", False):
        return
    original_qs = BaseModelAdmin.get_queryset
    original_fk = BaseModelAdmin.formfield_for_foreignkey
    original_m2m = BaseModelAdmin.formfield_for_manytomany

    def get_queryset(self, request):
        return scope_queryset(original_qs(self, request), getattr(request, "user", None))

    def _scoped(field, request):
        if field is not None and hasattr(field, "queryset"):
            field.queryset = scope_queryset(field.queryset, getattr(request, "user", None))
        return field

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return _scoped(original_fk(self, db_field, request, **kwargs), request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return _scoped(original_m2m(self, db_field, request, **kwargs), request)

    get_queryset._anagen = True
    BaseModelAdmin.get_queryset = get_queryset
    BaseModelAdmin.formfield_for_foreignkey = formfield_for_foreignkey
    BaseModelAdmin.formfield_for_manytomany = formfield_for_manytomany
