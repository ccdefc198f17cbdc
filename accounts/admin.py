from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.models import AuditEntry, Session, User
from accounts.ratelimits import RateLimited, RateLimitUnavailable, login_limits
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

    list_display = (
        "created_at",
        "actor",
        "actor_type",
        "action",
        "entity_type",
        "entity_id",
        "imported",
    )
    # "imported": carried over from the old backend by import_legacy.
    list_filter = ("action", "entity_type", "actor_type", "imported")
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


def admin_login(request: HttpRequest) -> HttpResponse:
    """The Django admin's login behind the API login's limits (same Redis buckets per IP and
    per (IP, e-mail), same failure count, fail closed when Redis is unreachable)."""
    if request.method != "POST":
        return admin.site.login(request)
    email = request.POST.get("username", "")
    per_ip, per_account = login_limits(request, email)
    try:
        per_ip.hit(request)
        per_account.hit(request)
    except (RateLimited, RateLimitUnavailable) as refusal:
        return _refused_login(request, refusal)
    response = admin.site.login(request)
    if request.user.is_authenticated:  # django.contrib.auth.login ran: not a failure
        per_account.refund()
    return response


class _RefusedLoginForm(AdminAuthenticationForm):
    """The admin login form, refused with ``reason`` before any password is checked."""

    def __init__(self, reason: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason = reason

    def clean(self) -> dict[str, Any]:
        raise ValidationError(self.reason, code="rate_limited")


def _refused_login(
    request: HttpRequest, refusal: RateLimited | RateLimitUnavailable
) -> HttpResponse:
    """The admin's own login page with the reason, and the password never checked."""
    if isinstance(refusal, RateLimited):
        text = "Too many failed sign-in attempts. Try again in a minute."
    else:
        text = "Sign-in is temporarily unavailable. Try again shortly."
    form = _RefusedLoginForm(text, request, data=request.POST)
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "form": form,
        REDIRECT_FIELD_NAME: request.POST.get(REDIRECT_FIELD_NAME, ""),
    }
    return TemplateResponse(
        request, "admin/login.html", context, status=refusal.status_code, headers=refusal.headers
    )
