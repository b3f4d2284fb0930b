"""Admin: appointment durations and clinicians' hours are edited here; appointments and the
e-mail outbox are shown read-only, because bookings go through the services' rules
(the calendar pages and the API)."""

from django.contrib import admin

from .models import Appointment, AppointmentType, ClinicianAvailability, ScheduledEmail


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin):
    list_display = ["kind", "duration_minutes", "description"]
    list_editable = ["duration_minutes"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClinicianAvailability)
class ClinicianAvailabilityAdmin(admin.ModelAdmin):
    list_display = ["clinician", "clinic", "room", "weekday", "start_time", "end_time", "valid_from", "valid_until"]
    list_filter = ["clinic", "weekday"]
    autocomplete_fields = []
    raw_id_fields = ["clinician"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ["starts_at", "clinic", "clinician", "room", "kind", "status"]
    list_filter = ["clinic", "kind", "status"]
    list_select_related = ["clinic", "clinician", "room"]
    date_hierarchy = "starts_at"


@admin.register(ScheduledEmail)
class ScheduledEmailAdmin(ReadOnlyAdmin):
    list_display = ["kind", "to", "send_after", "sent_at", "cancelled_at", "attempts"]
    list_filter = ["kind"]
