from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import User
from accounts.permissions import has_permission
from accounts.rbac import ROLES
from tests.accounts.conftest import bearer, login

pytestmark = pytest.mark.django_db

HUMAN_ROLES = ["super_admin", "admin", "moderator", "editor", "support", "user"]

# role -> expected status of each protected endpoint (API) and admin page.
MATRIX = {
    # /users/me, /api/admin/users, /api/admin/anime (list, detail), anime changelist, add page
    "super_admin": (200, 200, 200, 200, 200, 200),
    "admin": (200, 200, 200, 200, 200, 200),
    "moderator": (200, 403, 200, 200, 200, 200),
    "editor": (200, 403, 200, 200, 200, 200),
    "support": (200, 200, 200, 200, 200, 403),
    "user": (200, 403, 403, 403, 302, 302),
}


@pytest.mark.parametrize("role", HUMAN_ROLES)
def test_role_permission_matrix(api, make_user, role):
    from accounts.services import role_grant
    from tests.factories import AnimeFactory

    draft = AnimeFactory(state="draft")
    user = make_user(email=f"{role}@example.com", role=None)
    role_grant(user=user, role=role)
    access = login(api, email=user.email).json()["access_token"]
    browser = Client()
    browser.force_login(user)
    observed = (
        api.get("/users/me", **bearer(access)).status_code,
        api.get("/api/admin/users", **bearer(access)).status_code,
        api.get("/api/admin/anime", **bearer(access)).status_code,
        api.get(f"/api/admin/anime/{draft.id}", **bearer(access)).status_code,
        browser.get("/admin/catalog/anime/").status_code,
        browser.get("/admin/catalog/anime/add/").status_code,
    )
    assert observed == MATRIX[role]
    me = api.get("/users/me", **bearer(access)).json()
    assert me["role"] == role
    assert set(me["permissions"]) == set(ROLES[role][0])


def test_protected_endpoints_answer_401_to_anonymous_and_403_is_permission_denied(api, make_user):
    assert api.get("/api/admin/users").status_code == 401
    user = make_user()
    access = login(api, email=user.email).json()["access_token"]
    response = api.get("/api/admin/users", **bearer(access))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"


def test_colon_and_dot_names_are_the_same_permission(make_user):
    from accounts.services import role_grant

    admin = make_user(email="admin@example.com", role=None)
    role_grant(user=admin, role="admin")
    editor = make_user(email="editor@example.com", role="editor")
    for name in ("admin.parser.logs", "admin:parser.logs", "admin:parser.settings"):
        assert has_permission(User.objects.get(pk=admin.pk), name)
        assert not has_permission(User.objects.get(pk=editor.pk), name)


def test_admin_users_list_query_count_is_constant(api, make_user, django_assert_num_queries):
    from accounts.services import role_grant

    boss = make_user(email="boss@example.com", role=None)
    role_grant(user=boss, role="admin")
    access = login(api, email=boss.email).json()["access_token"]
    for i in range(2):
        make_user(email=f"u{i}@example.com")

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/admin/users?limit=100", **bearer(access)).status_code == 200
        return len(queries)

    with_three = count()
    for i in range(2, 29):
        make_user(email=f"u{i}@example.com")
    assert count() == with_three


def test_roles_are_synced_by_migrate(db):
    from django.contrib.auth.models import Group

    Group.objects.get(name="editor").permissions.clear()
    call_command("migrate", verbosity=0)
    editor = Group.objects.get(name="editor")
    names = set(editor.permissions.values_list("codename", flat=True))
    assert {"anime.edit", "episode.create", "change_anime", "view_episode"} <= names
    assert "anime.delete" not in names


def test_grant_and_revoke_role_commands_toggle_staff_access(make_user):
    user = make_user(email="ed@example.com")
    out = StringIO()
    call_command("grant_role", "ED@example.com", "editor", stdout=out)
    user.refresh_from_db()
    assert user.is_staff
    assert "Granted editor" in out.getvalue()
    call_command("grant_role", "ed@example.com", "editor", "--revoke", stdout=out)
    user.refresh_from_db()
    assert not user.is_staff
    assert not user.groups.filter(name="editor").exists()
    with pytest.raises(CommandError, match="No user"):
        call_command("grant_role", "ghost@example.com", "editor")


def test_create_admin_command_is_idempotent(db, monkeypatch):
    out = StringIO()
    call_command("create_admin", email="Root@Example.com", password="first-pass-123", stdout=out)
    call_command("create_admin", email="root@example.com", password="other", stdout=out)
    user = User.objects.get()
    assert user.is_superuser
    assert user.is_staff
    assert user.check_password("first-pass-123")
    monkeypatch.setenv("KITSU_ADMIN_PASSWORD", "second-pass-456")
    call_command("create_admin", email="root@example.com", reset_password=True, stdout=out)
    user.refresh_from_db()
    assert user.check_password("second-pass-456")
    monkeypatch.delenv("KITSU_ADMIN_PASSWORD")
    with pytest.raises(CommandError, match="KITSU_ADMIN_PASSWORD"):
        call_command("create_admin", email="x@example.com")
