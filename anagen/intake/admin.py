from django.contrib import admin

from .models import Inquiry


@admin.register(Inquiry)
class InquiryAdmin(admin.ModelAdmin):
    """Read-only: inquiries are answered, closed and converted in the inbox, through the services."""

    list_display = ["created_at", "kind", "name", "preferred_clinic", "prefers_video", "status"]
    list_filter = ["status", "kind", "preferred_clinic"]
    search_fields = ["name", "email", "phone"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
