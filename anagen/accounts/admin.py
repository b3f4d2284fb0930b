from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ApiToken, Clinic, Room, StaffRole, User


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "phone", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [RoomInline]


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 0

    # Nobody changes their own roles: another admin must (anagen.accounts.signals refuses it too).
    def _not_self(self, request, obj) -> bool:
        return request.user.is_superuser or obj is None or obj.pk != request.user.pk

    def has_add_permission(self, request, obj=None):
        return self._not_self(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._not_self(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._not_self(request, obj) and super().has_delete_permission(request, obj)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [StaffRoleInline]
    filter_horizontal = ["clinics"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "job_title")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "clinics")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_readonly_fields(self, request, obj=None):
        fields = ["last_login", "date_joined"]
        if not request.user.is_superuser:
            fields.append("is_superuser")
            if obj is not None and obj.pk == request.user.pk:
                fields += ["is_active", "is_staff", "clinics"]
        return fields

    def has_delete_permission(self, request, obj=None):
        return False  # staff are deactivated, never deleted

    def save_related(self, request, form, formsets, change):
        # The clinics list shows only the admin's clinics: keep the memberships it does not show.
        hidden = []
        if change and not request.user.is_superuser and "clinics" in form.cleaned_data:
            hidden = list(form.instance.clinics.exclude(pk__in=list(request.user.clinic_ids)))
        super().save_related(request, form, formsets, change)
        if hidden:
            form.instance.clinics.add(*hidden)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # tokens are made by `anagen token create` (the raw key is shown once)
