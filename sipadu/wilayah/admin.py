"""Read-only admin for region codes (they come from the shipped Kepmendagri file)."""

from django.contrib import admin

from .models import Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level"]
    search_fields = ["code", "name_folded"]
    list_filter = ["level"]
    readonly_fields = ["code", "name", "level", "parent"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
