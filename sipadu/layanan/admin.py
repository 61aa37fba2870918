"""Admin: the document catalogue is edited here (requirements inline); requests, files and
issued documents are read-only records (changes go through the actions)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sipadu.layanan.models import (
    DocumentRequest,
    DocumentType,
    IssuedDocument,
    Requirement,
)


class RequirementInline(admin.TabularInline):
    """The checklist of a document type."""

    model = Requirement
    extra = 1
    fields = ("order", "code", "text", "help_text", "required", "upload")


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    """Catalogue entries with their requirement checklists."""

    list_display = ("name", "code", "output_kind", "registry_kind", "active", "order")
    list_editable = ("active", "order")
    inlines = [RequirementInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by actions only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DocumentRequest)
class DocumentRequestAdmin(ReadOnlyAdmin):
    """Requests by tracking number (no names or NIK in the list)."""

    list_display = ("tracking_number", "document_type", "office", "channel", "status", "created_at")
    list_filter = ("status", "channel", "document_type", "office")
    search_fields = ("tracking_number",)
    exclude = ("pin_hash",)


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(ReadOnlyAdmin):
    """Issued documents by number."""

    list_display = ("number", "document_type", "office", "issue_date", "status")
    list_filter = ("status", "document_type")
    search_fields = ("number",)
