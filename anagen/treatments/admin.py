"""Admin: the treatment catalogue is edited here; clinical records are read-only (they change
only through the services, so every rule and the audit trail apply)."""

from django.contrib import admin

from . import services
from .models import AdverseEvent, AutologousSample, CustodyEvent, Lot, Modality, Procedure, Product, TreatmentPlan


@admin.register(Modality)
class ModalityAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "category", "typical_sessions", "interval_days", "follow_up_weeks", "screening_code",
                    "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("name", "code")

    def get_readonly_fields(self, request, obj=None):
        return ("code", "updated_at") if obj else ("updated_at",)

    def save_model(self, request, obj, form, change):
        if change:
            services.modality_update(actor=request.user, modality=obj,
                                     **{f: getattr(obj, f) for f in services.MODALITY_FIELDS})
        else:
            super().save_model(request, obj, form, change)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "manufacturer", "kind", "unit", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "manufacturer")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = ("product", "lot_number", "clinic", "expires_on", "quantity_on_hand", "recalled")
    list_filter = ("recalled", "clinic", "product__kind")
    search_fields = ("lot_number", "product__name")


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(ReadOnlyAdmin):
    list_display = ("pk", "patient", "clinic", "status", "start_on", "sessions")
    list_filter = ("status", "clinic")


@admin.register(Procedure)
class ProcedureAdmin(ReadOnlyAdmin):
    list_display = ("pk", "patient", "modality", "performed_on", "clinician", "clinic")
    list_filter = ("modality", "clinic")


@admin.register(AdverseEvent)
class AdverseEventAdmin(ReadOnlyAdmin):
    list_display = ("pk", "patient", "onset_on", "severity", "serious", "relation", "outcome")
    list_filter = ("serious", "severity", "outcome")


class CustodyInline(admin.TabularInline):
    model = CustodyEvent
    extra = 0
    can_delete = False
    readonly_fields = ("step", "at", "by", "details", "notes")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AutologousSample)
class AutologousSampleAdmin(ReadOnlyAdmin):
    list_display = ("code", "kind", "status", "clinic", "harvested_at")
    list_filter = ("status", "kind", "clinic")
    search_fields = ("code",)
    inlines = [CustodyInline]
