"""Admin pages for offices, roles, users and their memberships."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Membership, Office, Role, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["office", "role"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "is_active", "is_staff"]
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Kontak"), {"fields": ("phone",)}))


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "region", "level", "timezone", "hours_start", "hours_end"]
    search_fields = ["name", "code"]
    list_filter = ["level", "timezone"]
    autocomplete_fields = ["region"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "external", "supervisor", "requires_second_factor"]
    search_fields = ["name", "code"]
    list_filter = ["external", "requires_second_factor"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "office", "active"]
    list_filter = ["office", "role", "active"]
    search_fields = ["user__username", "role__name", "office__name"]
    autocomplete_fields = ["user", "office", "role"]
