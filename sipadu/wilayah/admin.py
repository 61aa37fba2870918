"""Read-only admin for region codes (they come from the shipped Kepmendagri file)."""

from django.contrib import admin

from sipadu.core.admin_base import ReadOnlyAdmin

from .models import Region


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "level"]
    search_fields = ["code", "name_folded"]
    list_filter = ["level"]
    show_full_result_count = False
