"""DRF permission classes over Kitsu's RBAC (accounts.rbac)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.rbac import RBAC_APP_LABEL, normalize_permission


def has_permission(user: Any, name: str) -> bool:
    if not user or not user.is_authenticated:
        return False
    return bool(user.has_perm(f"{RBAC_APP_LABEL}.{normalize_permission(name)}"))


def require(*names: str) -> type[BasePermission]:
    """``permission_classes = [require("anime.view")]``: signed in and holding every name.

    Unauthenticated callers get 401 (DRF asks the authenticator for a challenge), signed-in
    callers without the permission 403 PERMISSION_DENIED.
    """

    class RequiredPermissions(BasePermission):
        message = f"Requires {', '.join(names)}"

        def has_permission(self, request: Request, view: Any) -> bool:
            return all(has_permission(request.user, name) for name in names)

    RequiredPermissions.__name__ = f"Require[{','.join(names)}]"
    return RequiredPermissions
