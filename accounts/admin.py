from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import AuditEntry, Session, User
from accounts.services import sessions_revoke, staff_flag_sync


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0
    can_delete = False
    fields = (
        "id",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "ip_address",
        "user_agent",
    )
    readonly_fields = fields
    ordering = ("-last_used_at",)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("-created_at",)
    list_display = ("email", "is_active", "is_staff", "created_at")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("email",)
    readonly_fields = ("created_at", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password", "avatar")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "created_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ("groups",)
    inlines = (SessionInline,)
    actions = ("revoke_all_sessions",)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        staff_flag_sync(user=form.instance)  # roles given here open (or close) the admin too

    @admin.action(description="Sign out everywhere (revoke all sessions)", permissions=["change"])
    def revoke_all_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        revoked = sum(sessions_revoke(user=user, reason="revoked by admin") for user in queryset)
        self.message_user(request, f"Revoked {revoked} sessions", messages.SUCCESS)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log, read-only for the roles that hold audit.view (append-only)."""

    list_display = ("created_at", "actor", "actor_type", "action", "entity_type", "entity_id")
    list_filter = ("action", "entity_type", "actor_type")
    list_select_related = ("actor",)
    search_fields = ("entity_id", "actor__email", "reason")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
