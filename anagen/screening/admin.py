"""Read-only admin: rule versions are published on the screening rules page, screenings by clinicians."""

from django.contrib import admin

from .models import RuleSet, Screening


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RuleSet)
class RuleSetAdmin(ReadOnlyAdmin):
    list_display = ("version", "is_active", "created_at", "created_by", "note")
    readonly_fields = ("version", "is_active", "rules", "note", "created_by", "created_at")


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdmin):
    list_display = ("performed_at", "patient", "modality", "decision", "rule_set", "performed_by")
    list_filter = ("modality", "decision")
    readonly_fields = [f.name for f in Screening._meta.fields]
