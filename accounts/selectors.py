"""Reads about users: role, permissions, sessions."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Session, User
from accounts.rbac import PERMISSIONS, RBAC_APP_LABEL, ROLE_ORDER


def user_role(user: User, group_names: set[str]) -> str:
    if user.is_superuser:
        return "super_admin"
    return next((role for role in ROLE_ORDER if role in group_names), "guest")


def user_permission_names(user: User) -> list[str]:
    """Kitsu permission names (``anime.view``...) the user holds through its roles."""
    if user.is_superuser:
        return sorted(PERMISSIONS)
    prefix = f"{RBAC_APP_LABEL}."
    names = {
        perm.removeprefix(prefix)
        for perm in user.get_all_permissions()
        if perm.startswith(prefix) and perm.removeprefix(prefix) in PERMISSIONS
    }
    return sorted(names)


def user_profile(user: User) -> dict[str, object]:
    groups = set(user.groups.values_list("name", flat=True))
    return {
        "user": user,
        "role": user_role(user, groups),
        "permissions": user_permission_names(user),
    }


def user_sessions(user: User) -> QuerySet[Session]:
    return Session.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-last_used_at")


def user_list() -> QuerySet[User]:
    return User.objects.prefetch_related("groups").order_by("-created_at", "-id")
