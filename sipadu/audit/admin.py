"""Read-only view of the audit log."""

from django.contrib import admin

from sipadu.core.admin_base import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
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
