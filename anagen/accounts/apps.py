from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "anagen.accounts"
    label = "accounts"
    verbose_name = "Clinics and staff"

    def ready(self) -> None:
        from django.contrib import admin

        from anagen.audit import track

        from .models import Role

        # Django admin is for configuration, and only admins configure.
        def has_permission(request) -> bool:
            user = request.user
            return bool(user.is_active and user.is_authenticated and user.is_staff and user.has_role(Role.ADMIN))

        admin.site.has_permission = has_permission
        from . import admin_scope, signals  # noqa: F401  (audited access changes, no self-grant, no deletes)
        from .models import Clinic, Room, StaffRole, User

        admin_scope.install()

        track(Clinic)
        track(Room)
        track(StaffRole)
        track(User, exclude_fields=["password", "last_login"])
