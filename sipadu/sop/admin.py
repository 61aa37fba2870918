"""Admin pages of the SOP runtime.

Definitions, revisions, cases, tasks and events are read-only here: they change only through
the actions (and revisions only through the definition files). Holidays and the reference
prefix of a definition are editable.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sipadu.core.admin_base import ReadOnlyAdmin

from .models import (
    Attachment,
    Case,
    CaseEvent,
    Holiday,
    Notification,
    SopDefinition,
    SopRevision,
    Task,
)


@admin.register(SopDefinition)
class SopDefinitionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "prefix", "current", "active"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "prefix", "current", "active"]
    readonly_fields = ["code", "name", "current"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SopRevision)
class SopRevisionAdmin(ReadOnlyAdmin):
    list_display = ["definition", "number", "version", "content_hash", "source", "loaded_at"]
    list_filter = ["definition"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "definition",
        "office",
        "state",
        "started_at",
        "due_at",
        "breached",
    ]
    list_filter = ["state", "definition", "office", "breached"]
    search_fields = ["reference", "subject_label"]
    date_hierarchy = "started_at"


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["case", "activity_id", "role_code", "state", "assignee", "due_at", "breached"]
    list_filter = ["state", "breached", "role_code"]
    search_fields = ["case__reference", "activity_id"]
    list_select_related = ["case", "assignee"]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "activity_id", "actor", "at"]
    list_filter = ["kind"]
    search_fields = ["case__reference"]
    list_select_related = ["case", "actor"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["case", "original_name", "size", "content_type", "uploaded_at"]
    search_fields = ["case__reference", "sha256"]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "kind", "office", "provisional"]
    list_filter = ["kind", "provisional", "office"]
    search_fields = ["name"]
    date_hierarchy = "date"
    autocomplete_fields = ["office"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "text", "read", "created_at"]
    list_filter = ["read"]
