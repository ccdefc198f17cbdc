"""Roles and permissions (contract B.6 B), stored as Django groups and permissions.

Kitsu's permission names (``anime.view``, ``admin.parser.logs``...) are Django permissions of
the table-less ``accounts.Rbac`` model, so ``user.has_perm("accounts.anime.view")`` works and the
Django admin shows them. Each role is a group holding its RBAC permissions plus the Django
model permissions its admin pages need. ``sync_roles`` creates and updates them; it runs in a
data migration and after every ``migrate`` (post_migrate), so the code is the source of truth.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps

RBAC_APP_LABEL = "accounts"
RBAC_MODEL = "rbac"

# anime.view: the public catalog (everyone); anime.view_unpublished: the editorial back-office
# (drafts, soft-deleted rows, lock reasons), staff only.
ANIME = [
    f"anime.{a}"
    for a in ("view", "view_unpublished", "create", "edit", "delete", "publish", "lock", "unlock")
]
EPISODE = [f"episode.{a}" for a in ("view", "create", "edit", "delete", "lock", "unlock")]
PARSER = ["parser.run", "parser.configure", "parser.override_lock"]
ADMIN = [
    *(f"admin.parser.{a}" for a in ("settings", "emergency", "logs", "view", "manage")),
    *(f"admin.{area}.{a}" for area in ("roles", "users") for a in ("view", "manage")),
]
# Legacy runtime names the frontend checks (B.6 A): every signed-in user holds them.
CONTENT = ["read:profile", "write:profile", "read:content", "write:content"]
PERMISSIONS = [
    *ANIME,
    *EPISODE,
    *PARSER,
    *ADMIN,
    "audit.view",
    "security.ban.ip",
    "security.unban.ip",
    *CONTENT,
]

_CATALOG_MODELS = ("anime", "release", "episode", "playbacksource", "translation", "airingslot")
_EDIT = [f"catalog.{a}_{m}" for m in _CATALOG_MODELS for a in ("view", "add", "change")]
_VIEW = [f"catalog.view_{m}" for m in (*_CATALOG_MODELS, "genre", "studio")]
_ALL_CATALOG = [
    f"catalog.{a}_{m}"
    for m in (*_CATALOG_MODELS, "genre", "studio")
    for a in ("view", "add", "change", "delete")
]
_USERS_VIEW = ["accounts.view_user", "accounts.view_session"]
_AUDIT = ["accounts.view_auditentry"]
_INGESTION_VIEW = [f"ingestion.view_{m}" for m in ("syncrun", "synclogline", "parsersettings")]
_INGESTION_MANAGE = [*_INGESTION_VIEW, "ingestion.change_parsersettings"]
_USERS_MANAGE = [*_USERS_VIEW, "accounts.change_user", "accounts.change_session"]

# role -> (RBAC permissions, Django model permissions for the admin site)
ROLES: dict[str, tuple[list[str], list[str]]] = {
    "super_admin": (
        [
            *ANIME,
            *EPISODE,
            "parser.configure",
            "parser.override_lock",
            *ADMIN,
            "audit.view",
            "security.ban.ip",
            "security.unban.ip",
            *CONTENT,
        ],
        [
            *_ALL_CATALOG,
            *_USERS_MANAGE,
            *_AUDIT,
            *_INGESTION_MANAGE,
            "auth.view_group",
            "auth.change_group",
        ],
    ),
    "admin": (
        [
            *ANIME,
            *EPISODE,
            "parser.configure",
            "admin.parser.settings",
            "admin.parser.logs",
            "admin.users.view",
            "audit.view",
            *CONTENT,
        ],
        [*_ALL_CATALOG, *_USERS_VIEW, *_AUDIT, *_INGESTION_MANAGE],
    ),
    "moderator": (
        [
            "anime.view",
            "anime.view_unpublished",
            "anime.edit",
            "anime.lock",
            "episode.view",
            "episode.edit",
            "episode.lock",
            "audit.view",
            *CONTENT,
        ],
        [*_EDIT, *_VIEW, *_AUDIT],
    ),
    "editor": (
        [
            "anime.view",
            "anime.view_unpublished",
            "anime.create",
            "anime.edit",
            "episode.view",
            "episode.create",
            "episode.edit",
            *CONTENT,
        ],
        [*_EDIT, *_VIEW],
    ),
    "support": (
        [
            "anime.view",
            "anime.view_unpublished",
            "episode.view",
            "admin.users.view",
            "audit.view",
            *CONTENT,
        ],
        [*_VIEW, *_USERS_VIEW, *_AUDIT, *_INGESTION_VIEW],
    ),
    "user": (["anime.view", "episode.view", *CONTENT], []),
    # System actors (ingestion jobs); never given to people.
    "parser_bot": (
        [
            "anime.view",
            "anime.create",
            "anime.edit",
            "episode.view",
            "episode.create",
            "episode.edit",
            "parser.run",
            "parser.override_lock",
        ],
        [],
    ),
    "worker_bot": (["anime.view", "episode.view", "parser.run"], []),
}
# Most powerful first: the role /users/me reports is the first one the user holds.
ROLE_ORDER = ["super_admin", "admin", "moderator", "editor", "support", "user"]
STAFF_ROLES = {"super_admin", "admin", "moderator", "editor", "support"}
DEFAULT_ROLE = "user"


def normalize_permission(name: str) -> str:
    """``admin:parser.logs`` (frontend, legacy guards) and ``admin.parser.logs`` are one name."""
    if name.startswith("admin:"):
        return "admin." + name.removeprefix("admin:")
    return name


def sync_roles(apps: Any = global_apps, **_: Any) -> None:
    """Create or update every permission and role group to match this module (idempotent)."""
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    group_model = apps.get_model("auth", "Group")
    rbac_type, _ = content_type_model.objects.get_or_create(
        app_label=RBAC_APP_LABEL, model=RBAC_MODEL
    )
    rbac = {}
    for name in PERMISSIONS:
        permission, _ = permission_model.objects.update_or_create(
            content_type=rbac_type, codename=name, defaults={"name": name}
        )
        rbac[name] = permission
    permission_model.objects.filter(content_type=rbac_type).exclude(
        codename__in=PERMISSIONS
    ).delete()

    for role, (rbac_names, model_names) in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = [rbac[name] for name in rbac_names]
        for dotted in model_names:
            app_label, codename = dotted.split(".", 1)
            permission = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:  # model permissions appear after their first migrate
                wanted.append(permission)
        group.permissions.set(wanted)
