"""manage.py import_legacy: the old backend's database -> Kitsu, checked through Kitsu's API."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEntry, LegacyRefreshToken, User
from catalog.models import Anime, Episode, Genre, Release
from ingestion.models import ParserSettings
from library.models import Favorite, WatchProgress
from tests.factories import AnimeFactory
from tests.legacy.legacy_db import Legacy, fill, legacy_database, old_sha_hash
from tests.servers import ROOT, server_env

pytestmark = pytest.mark.usefixtures("production_hashers")


@pytest.fixture
def legacy_url() -> Iterator[str]:
    with legacy_database() as url:
        yield url


@pytest.fixture
def legacy(legacy_url: str) -> Legacy:
    return fill(legacy_url)


@pytest.fixture
def kitsu_before(db: Any) -> dict[str, Any]:
    """What Kitsu holds before the cut-over: a user who registered on Kitsu with an old
    address, and Steins;Gate synced from Shikimori (its own UUID, a season, two episodes)."""
    taken = User.objects.create_user(email="taken@example.com", password="kitsu password 9")
    Genre.objects.create(name="Drama", slug="drama", name_ru="Драма")
    synced = AnimeFactory(shikimori_id=9253, title="Steins;Gate", title_ru="")
    release = Release.objects.create(anime=synced, ordering=1, title="Steins;Gate")
    episode = Episode.objects.create(release=release, number=1, title="Turning Point")
    Episode.objects.create(release=release, number=2)
    AuditEntry.objects.create(
        actor_type="system", action="anime.update", entity_type="anime", entity_id=str(synced.pk)
    )
    return {"taken": taken, "synced": synced, "release": release, "episode": episode}


def run(url: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    report = tmp_path / f"report-{time.monotonic_ns()}.json"
    call_command("import_legacy", "--source", url, "--report", str(report), *args)
    return json.loads(report.read_text())


def login(email: str, password: str) -> Any:
    return APIClient().post("/auth/login", {"email": email, "password": password}, format="json")


def client_for(email: str, password: str) -> APIClient:
    response = login(email, password)
    assert response.status_code == 200, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    return client


def old_rows(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def test_users_log_in_with_their_old_passwords_and_the_hash_is_upgraded(
    legacy, kitsu_before, tmp_path
):
    report = run(legacy.url, tmp_path)
    # The Django admin shows the imported hash like any other (the hasher's summary).
    root = User.objects.create_superuser(email="root@example.com", password="root password 1")
    browser = Client()
    browser.force_login(root)
    page = browser.get(f"/admin/accounts/user/{legacy.users['sha']}/change/")
    assert page.status_code == 200
    assert b"legacy_bcrypt" in page.content
    users = report["tables"]["users"]
    assert users["created"] == 5  # sha, plain, editor, inactive, dup_old
    for key, password in legacy.passwords.items():
        user = User.objects.get(pk=legacy.users[key])
        assert user.password.startswith("legacy_bcrypt$")
        assert login(user.email, password).status_code == 200
        user.refresh_from_db()
        assert user.password.startswith("argon2$")  # upgraded at the first login
        assert login(user.email, password).status_code == 200
        assert login(user.email, password + "x").status_code == 401
    viewer = User.objects.get(pk=legacy.users["sha"])
    assert viewer.email == "viewer@example.com"
    assert viewer.avatar == "https://cdn.example/a.png"
    me = client_for("viewer@example.com", legacy.passwords["sha"]).get("/users/me").json()
    assert me["id"] == str(legacy.users["sha"])
    assert me["created_at"].startswith(str(viewer.created_at.date()))
    # The inactive user came over inactive (cannot log in).
    assert User.objects.get(pk=legacy.users["inactive"]).is_active is False
    assert login("gone@example.com", "whatever 123").status_code == 401


def test_duplicates_and_conflicts_are_reported_and_left_alone(legacy, kitsu_before, tmp_path):
    report = run(legacy.url, tmp_path)
    skipped = report["tables"]["users"]["skipped"]
    dup = f"duplicate e-mail (case-folded) of old user {legacy.users['dup_old']}"
    assert skipped[dup] == 1
    assert str(legacy.users["dup_new"]) in report["tables"]["users"]["skipped_examples"][dup]
    assert skipped["conflict: the e-mail is already registered on Kitsu (left as is)"] == 1
    taken = kitsu_before["taken"]
    taken.refresh_from_db()
    assert taken.check_password("kitsu password 9")
    assert not User.objects.filter(pk=legacy.users["conflict"]).exists()
    assert User.objects.filter(pk=legacy.users["dup_old"]).exists()
    assert not User.objects.filter(pk=legacy.users["dup_new"]).exists()


def test_roles_become_groups(legacy, kitsu_before, tmp_path):
    report = run(legacy.url, tmp_path)
    editor = User.objects.get(pk=legacy.users["editor"])
    assert set(editor.groups.values_list("name", flat=True)) == {"editor", "user"}
    assert editor.is_staff
    plain = User.objects.get(pk=legacy.users["plain"])
    assert set(plain.groups.values_list("name", flat=True)) == {"user"}  # parser_bot skipped
    roles = report["tables"]["user_roles"]
    assert roles["skipped"] == {
        "role 'retired' is inactive in the old backend": 1,
        "system role 'parser_bot' (jobs only in Kitsu)": 1,
        "user not imported": 1,
    }
    assert roles["created"] == 1
    assert roles["unchanged"] == 1


def test_anime_keep_their_old_uuids_and_editorial_state(legacy, kitsu_before, tmp_path):
    report = run(legacy.url, tmp_path)
    api = APIClient()
    synced = kitsu_before["synced"]
    # Matched by Shikimori id: Kitsu's synced row took the old UUID, with its data.
    matched = api.get(f"/anime/{legacy.anime['matched']}")
    assert matched.status_code == 200, matched.content
    assert matched.json()["title"] == "Steins;Gate"
    assert api.get(f"/anime/{synced.pk}").status_code == 404
    assert Anime.objects.get(pk=legacy.anime["matched"]).shikimori_id == 9253
    history = AuditEntry.objects.filter(entity_type="anime", action="anime.update")
    assert list(history.values_list("entity_id", flat=True)) == [str(legacy.anime["matched"])]
    notes = report["tables"]["anime"]["notes"]
    assert notes["matched to Kitsu anime by Shikimori id (took the old UUID)"] == 1
    # With an external row but unknown to Kitsu, and without any: created from the old row.
    assert Anime.objects.get(pk=legacy.anime["external"]).shikimori_id == 1
    manual = api.get(f"/anime/{legacy.anime['manual']}").json()
    assert manual["title"] == "Hand Made Show"
    assert Anime.objects.get(pk=legacy.anime["manual"]).shikimori_id is None
    assert [g["name"] for g in manual["genres"]] == ["Drama"]
    assert notes["genre names unknown to Kitsu (not linked)"] == 1
    # Locks, via the manual binding too; soft deletion; drafts stay out of the public API.
    locked = Anime.objects.get(pk=legacy.anime["locked"])
    assert locked.locked_fields == ["title"]
    assert locked.locked_by_id == legacy.users["editor"]
    assert locked.locked_reason == "official spelling"
    assert locked.locked_at is not None
    assert locked.shikimori_id == 777
    deleted = Anime.objects.get(pk=legacy.anime["deleted"])
    assert deleted.deleted_at is not None
    assert deleted.delete_reason == "duplicate entry"
    assert deleted.deleted_by_id == legacy.users["editor"]
    assert api.get(f"/anime/{legacy.anime['deleted']}").status_code == 404
    assert Anime.objects.get(pk=legacy.anime["draft"]).state == "draft"
    assert api.get(f"/anime/{legacy.anime['draft']}").status_code == 404
    assert report["tables"]["anime"]["created"] == 5


def test_releases_and_episodes_keep_their_old_uuids(legacy, kitsu_before, tmp_path):
    report = run(legacy.url, tmp_path)
    api = APIClient()
    release = api.get(f"/releases/{legacy.releases['manual_s2']}")
    assert release.status_code == 200, release.content
    episodes = api.get("/episodes", {"release_id": str(legacy.releases["manual_s1"])}).json()
    ids = [e["id"] for e in (episodes["results"] if isinstance(episodes, dict) else episodes)]
    assert ids == [str(legacy.episodes["manual_1"]), str(legacy.episodes["manual_2"])]
    assert Release.objects.get(pk=legacy.releases["manual_s2"]).ordering == 2
    # Kitsu's synced season and episode 1 took the old ids; old episode 5 was added.
    assert Release.objects.get(pk=legacy.releases["matched_s1"]).anime_id == legacy.anime["matched"]
    assert not Release.objects.filter(pk=kitsu_before["release"].pk).exists()
    first = Episode.objects.get(pk=legacy.episodes["matched_1"])
    assert first.title == "Turning Point"
    numbers = Episode.objects.filter(release_id=legacy.releases["matched_s1"]).values_list(
        "number", flat=True
    )
    assert sorted(numbers) == [1, 2, 5]
    episodes_report = report["tables"]["episodes"]
    assert episodes_report["skipped"] == {
        "deleted in the old backend (Kitsu episodes have no soft delete)": 1
    }
    assert report["tables"]["releases"]["skipped"] == {"anime not imported": 1}


def test_favorites_and_continue_watching_are_the_same(legacy, kitsu_before, tmp_path):
    report = run(legacy.url, tmp_path)
    client = client_for("viewer@example.com", legacy.passwords["sha"])
    favorites = client.get("/favorites").json()
    expected = old_rows(
        legacy.url,
        "SELECT id, anime_id, created_at FROM favorites WHERE user_id = %s "
        "AND anime_id IN (SELECT id FROM anime) ORDER BY created_at DESC",
        legacy.users["sha"],
    )
    assert [(f["id"], f["anime_id"]) for f in favorites] == [
        (str(i), str(a)) for i, a, _ in expected
    ]
    assert [Favorite.objects.get(pk=i).created_at for i, _, _ in expected] == [
        c for _, _, c in expected
    ]
    continuing = client.get("/watch/continue", {"limit": 100}).json()
    old = old_rows(
        legacy.url,
        "SELECT anime_id, episode, coalesce(position_seconds, 0), progress_percent, "
        "last_watched_at FROM watch_progress WHERE user_id = %s ORDER BY last_watched_at DESC",
        legacy.users["sha"],
    )
    assert [
        (c["anime_id"], c["episode"], c["position_seconds"], c["progress_percent"])
        for c in continuing
    ] == [(str(a), e, p, pct) for a, e, p, pct, _ in old]
    stored = WatchProgress.objects.get(user_id=legacy.users["sha"], anime_id=legacy.anime["manual"])
    assert stored.last_watched_at == old[1][4]
    assert report["tables"]["favorites"]["skipped"] == {
        "user not imported": 2,
        "anime not imported": 1,
    }
    assert report["tables"]["watch_progress"]["skipped"] == {
        "user not imported": 1,
        "anime not imported": 1,
    }


def test_an_old_refresh_token_works_once(legacy, kitsu_before, tmp_path):
    report = run(legacy.url, tmp_path)
    assert report["tables"]["refresh_tokens"]["skipped"] == {"revoked": 1, "expired": 1}
    api = APIClient()
    first = api.post("/auth/refresh", {"refresh_token": legacy.tokens["sha"]}, format="json")
    assert first.status_code == 200, first.content
    pair = first.json()
    assert "." in pair["refresh_token"]  # a normal Kitsu session from now on
    me = APIClient(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}").get("/users/me")
    assert me.json()["id"] == str(legacy.users["sha"])
    again = api.post("/auth/refresh", {"refresh_token": legacy.tokens["sha"]}, format="json")
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "AUTH_ERROR"
    for key in ("plain", "editor"):  # revoked, expired
        response = api.post("/auth/refresh", {"refresh_token": legacy.tokens[key]}, format="json")
        assert response.status_code == 401
    # A second import does not bring the used token back.
    assert run(legacy.url, tmp_path)["changes"] == 0
    assert LegacyRefreshToken.objects.get(user_id=legacy.users["sha"]).used_at is not None


def test_parser_settings_and_audit_log_carry_over(legacy, kitsu_before, tmp_path):
    run(legacy.url, tmp_path)
    row = ParserSettings.load()
    assert row.mode == "auto"
    assert row.enable_autoupdate
    assert row.dry_run_default
    assert row.update_interval_minutes == 45
    assert row.allowed_translation_types == ["subtitles", "voice"]
    assert row.blacklist_titles == ["Bad Show"]
    assert row.allowed_qualities == ["720p"]
    imported = AuditEntry.objects.filter(imported=True).order_by("created_at")
    assert imported.count() == 2
    lock = imported[0]
    assert lock.action == "anime.lock"
    assert lock.actor_id == legacy.users["editor"]
    assert lock.ip_address == "203.0.113.7"
    assert lock.after == {"locked_fields": ["title"]}
    assert imported[1].ip_address is None
    assert len(imported[1].entity_id) == 200
    # The settings change itself is audited (not marked imported: Kitsu made it).
    assert AuditEntry.objects.filter(action="parser_settings.import", imported=False).count() == 1
    # The Django admin's audit log filters on the mark.
    admin = User.objects.create_superuser(email="root@example.com", password="root password 1")
    browser = Client()
    browser.force_login(admin)
    page = browser.get("/admin/accounts/auditentry/", {"imported__exact": "1"})
    assert page.status_code == 200
    assert page.context["cl"].result_count == 2


def kitsu_state() -> dict[str, Any]:
    return {
        "users": sorted(User.objects.values_list("id", "email", "password", "is_active", "avatar")),
        "groups": sorted(User.groups.through.objects.values_list("user_id", "group_id")),
        "anime": sorted(
            Anime.objects.values_list("id", "shikimori_id", "title", "state", "deleted_at")
        ),
        "releases": sorted(Release.objects.values_list("id", "anime_id", "ordering")),
        "episodes": sorted(Episode.objects.values_list("id", "release_id", "number")),
        "favorites": sorted(
            Favorite.objects.values_list("id", "user_id", "anime_id", "created_at")
        ),
        "progress": sorted(
            WatchProgress.objects.values_list(
                "id", "user_id", "anime_id", "episode", "position_seconds", "last_watched_at"
            )
        ),
        "tokens": sorted(LegacyRefreshToken.objects.values_list("id", "token_hash")),
        "audit": sorted(AuditEntry.objects.filter(imported=True).values_list("id", flat=True)),
    }


def test_a_second_run_changes_nothing(legacy, kitsu_before, tmp_path):
    first = run(legacy.url, tmp_path)
    assert first["changes"] > 0
    state = kitsu_state()
    second = run(legacy.url, tmp_path)
    assert second["changes"] == 0, second
    assert kitsu_state() == state
    assert {n: t["read"] for n, t in second["tables"].items()} == {
        n: t["read"] for n, t in first["tables"].items()
    }


def test_dry_run_reports_the_real_run_and_writes_nothing(legacy, kitsu_before, tmp_path):
    before = kitsu_state()
    dry = run(legacy.url, tmp_path, "--dry-run")
    assert kitsu_state() == before
    assert not AuditEntry.objects.exclude(action="anime.update").exists()
    real = run(legacy.url, tmp_path)
    assert dry["dry_run"]
    assert not real["dry_run"]
    assert dry["tables"] == real["tables"]


def test_only_imports_the_parts_asked_for(legacy, kitsu_before, tmp_path):
    report = run(legacy.url, tmp_path, "--only", "users,sessions")
    assert set(report["tables"]) == {"users", "user_roles", "refresh_tokens"}
    assert not Anime.objects.filter(pk=legacy.anime["manual"]).exists()
    library = run(legacy.url, tmp_path, "--only", "anime,library")
    assert library["tables"]["favorites"]["created"] == 4  # sha 3, plain 1
    with pytest.raises(CommandError, match="--only takes"):
        call_command("import_legacy", "--source", legacy.url, "--only", "users,cats")


def test_the_source_is_only_read(legacy, kitsu_before, tmp_path):
    """The import opens the old database READ ONLY, and leaves it as it was."""
    tables = ["users", "anime", "favorites", "watch_progress", "refresh_tokens", "audit_logs"]

    def snapshot() -> list[Any]:
        return [old_rows(legacy.url, f"SELECT * FROM {t} ORDER BY id") for t in tables]  # noqa: S608

    before = snapshot()
    run(legacy.url, tmp_path)
    assert snapshot() == before
    from ingestion.legacy.source import LegacySource

    with LegacySource(legacy.url) as source, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        source.all("DELETE FROM users")


def test_bad_source_is_a_clear_error(db):
    with pytest.raises(CommandError, match="Reading the old database failed"):
        call_command("import_legacy", "--source", "postgres://nobody@127.0.0.1:1/none")
    with pytest.raises(CommandError, match="LEGACY_DATABASE_URL"):
        call_command("import_legacy")


# --- kill -9 mid-import ------------------------------------------------------------------


def bulk_fill(url: str, users: int, anime: int, favorites_per_user: int) -> None:
    one_hash = old_sha_hash("bulk password")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO public.users (id, email, password_hash, created_at) "
            "SELECT md5('u' || i)::uuid, 'bulk' || i || '@example.com', %s, "
            "now() - i * interval '1 minute' FROM generate_series(1, %s) i",
            (one_hash, users),
        )
        conn.execute(
            "INSERT INTO public.anime (id, title, state) SELECT md5('a' || i)::uuid, "
            "'Bulk ' || i, 'published' FROM generate_series(1, %s) i",
            (anime,),
        )
        conn.execute(
            "INSERT INTO public.favorites (id, user_id, anime_id, created_at) "
            "SELECT md5('f' || u || '-' || k)::uuid, md5('u' || u)::uuid, "
            "md5('a' || (1 + (u * 7 + k) %% %s))::uuid, now() - k * interval '1 hour' "
            "FROM generate_series(1, %s) u, generate_series(1, %s) k",
            (anime, users, favorites_per_user),
        )
        conn.execute(
            "INSERT INTO public.watch_progress (id, user_id, anime_id, episode, "
            "position_seconds, progress_percent, last_watched_at) "
            "SELECT md5('w' || u)::uuid, md5('u' || u)::uuid, md5('a' || (1 + u %% %s))::uuid, "
            "1 + u %% 12, u %% 1400, (u %% 100)::float, now() - u * interval '1 second' "
            "FROM generate_series(1, %s) u",
            (anime, users),
        )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_import_then_rerun_reaches_the_same_end_state(legacy_url, tmp_path):
    bulk_fill(legacy_url, users=3000, anime=300, favorites_per_user=4)
    command = [sys.executable, "manage.py", "import_legacy", "--source", legacy_url]
    env = server_env()
    process = subprocess.Popen(
        [*command, "--batch-size", "100"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill it once some favorites batches committed
        if Favorite.objects.count() >= 1000 or process.poll() is not None:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the import finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = Favorite.objects.count()
    assert 0 < partial < 12000

    rerun = subprocess.run(
        [*command, "--report", str(tmp_path / "rerun.json")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads((tmp_path / "rerun.json").read_text())
    assert report["tables"]["favorites"]["unchanged"] >= partial
    assert (
        report["tables"]["favorites"]["created"]
        == 12000 - report["tables"]["favorites"]["unchanged"]
    )

    # The end state is the old data, row for row, and a third run changes nothing.
    assert sorted(
        Favorite.objects.values_list("id", "user_id", "anime_id", "created_at")
    ) == sorted(old_rows(legacy_url, "SELECT id, user_id, anime_id, created_at FROM favorites"))
    assert User.objects.count() == 3000
    assert WatchProgress.objects.count() == 3000
    assert Group.objects.get(name="user").user_set.count() == 3000
    third = subprocess.run(
        [*command, "--report", str(tmp_path / "third.json")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert third.returncode == 0, third.stderr
    assert json.loads((tmp_path / "third.json").read_text())["changes"] == 0


def test_logout_with_an_old_refresh_token_ends_it(db):
    user = User.objects.create_user(email="old@example.com", password="old password 77")
    plain = "x8Q-old-backend-token_abcdefghijklmnopqrstuvw"
    LegacyRefreshToken.objects.create(
        id=uuid.uuid4(),
        user=user,
        token_hash=hashlib.sha256(plain.encode()).hexdigest(),
        expires_at=timezone.now() + timedelta(days=3),
        created_at=timezone.now(),
    )
    api = APIClient()
    assert api.post("/auth/logout", {"refresh_token": plain}, format="json").status_code == 204
    response = api.post("/auth/refresh", {"refresh_token": plain}, format="json")
    assert response.status_code == 401
    assert not user.sessions.exists()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_progress_bar_and_a_summary(legacy, kitsu_before):
    out = Terminal()
    call_command("import_legacy", "--source", legacy.url, "--only", "users", stdout=out)
    text = out.getvalue()
    assert "\rusers           [##############################] 7/7" in text
    assert "users                   7        5        0          0        2" in text
    plain = io.StringIO()
    call_command("import_legacy", "--source", legacy.url, "--only", "users", stdout=plain)
    assert "[#" not in plain.getvalue()
    assert "changed 0 rows" in plain.getvalue()
