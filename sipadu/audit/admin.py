"""Read-only view of the audit log."""

from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "seq",
        "at",
        "actor_label",
        "office",
        "action",
        "object_type",
        "object_id",
        "ip",
    ]
    list_filter = ["action"]
    search_fields = ["action", "object_id", "actor_label"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
