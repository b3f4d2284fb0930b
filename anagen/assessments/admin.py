"""Admin: clinics configure their dermoscopes here; visits and images are read-only records."""

from django.contrib import admin

from .models import (
    AssessmentVisit,
    DeviceProfile,
    GlobalPhoto,
    Measurement,
    TrichogramAnalysis,
    TrichogramImage,
    VisitMatch,
)


@admin.register(DeviceProfile)
class DeviceProfileAdmin(admin.ModelAdmin):
    list_display = ("name", "clinic", "engine_profile", "px_per_mm", "vellus_threshold_um", "is_default", "is_active")
    list_filter = ("clinic", "is_default", "is_active")
    search_fields = ("name", "engine_profile")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "engine_profile":
            from django import forms

            from .forms import engine_profile_choices

            return forms.ChoiceField(choices=engine_profile_choices(), label="Engine profile",
                                     help_text=db_field.help_text)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class _ReadOnly(admin.ModelAdmin):
    """Clinical records are written through the pages and API (services), never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AssessmentVisit)
class AssessmentVisitAdmin(_ReadOnly):
    list_display = ("id", "patient", "clinic", "visit_date", "is_baseline", "investigator_global", "patient_global")
    list_filter = ("clinic", "is_baseline")


@admin.register(TrichogramImage)
class TrichogramImageAdmin(_ReadOnly):
    list_display = ("id", "visit", "kind", "sha256", "width", "height", "profile_name", "uploaded_at")


@admin.register(TrichogramAnalysis)
class TrichogramAnalysisAdmin(_ReadOnly):
    list_display = ("id", "image", "status", "progress", "engine_version", "profile_name", "px_per_mm")
    list_filter = ("status",)


@admin.register(GlobalPhoto)
class GlobalPhotoAdmin(_ReadOnly):
    list_display = ("id", "visit", "view", "sha256", "uploaded_at")


@admin.register(Measurement)
class MeasurementAdmin(_ReadOnly):
    list_display = ("visit", "hair_count", "field_area_cm2", "density_per_cm2", "is_corrected", "anagen_pct")


@admin.register(VisitMatch)
class VisitMatchAdmin(_ReadOnly):
    list_display = ("followup_analysis", "baseline_analysis", "kept", "lost", "new", "matched_change", "count_change",
                    "confirmed_change", "confirmed_at")
