from django.contrib import admin

from .models import Consent, Patient, StagingAssessment


class ConsentInline(admin.TabularInline):
    model = Consent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "document_version", "given_at", "recorded_by", "withdrawn_at", "withdrawn_by",
                       "withdrawal_reason"]

    def has_add_permission(self, request, obj=None):
        return False


class StagingInline(admin.TabularInline):
    model = StagingAssessment
    extra = 0
    can_delete = False
    readonly_fields = ["scale", "stage", "assessed_on", "assessed_by", "notes"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    """Read-only: registration, contact changes, consents and staging go through the services
    (duplicate checks, roles, audit), on the patient pages and the API."""

    list_display = ["patient_number", "last_name", "first_name", "date_of_birth", "clinic"]
    list_filter = ["clinic", "diagnosis"]
    search_fields = ["patient_number", "search_text", "email", "phone"]
    inlines = [ConsentInline, StagingInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
