"""A database of the old backend on the test PostgreSQL server: the schema from
legacy-schema.sql, rows written the way the old backend wrote them."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bcrypt
import psycopg
from django.conf import settings
from psycopg.types.json import Json

SCHEMA = Path(__file__).resolve().parent / "legacy-schema.sql"
SHARED_SCHEMA = Path("/work/shared/reference/legacy-schema.sql")


def schema_sql() -> str:
    path = SCHEMA if SCHEMA.exists() else SHARED_SCHEMA
    # psql meta-commands (\restrict) are not SQL.
    return "\n".join(line for line in path.read_text().splitlines() if not line.startswith("\\"))


def server_url(name: str) -> str:
    base = settings.DATABASE_URL.split("?", 1)[0].rsplit("/", 1)[0]
    return f"{base}/{name}"


@contextmanager
def legacy_database() -> Iterator[str]:
    """Create a uniquely named database with the old schema; yield its URL; drop it."""
    name = f"{settings.DATABASES['default']['NAME']}_legacy_{uuid.uuid4().hex[:8]}"
    admin = server_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server_url(name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(schema_sql())  # type: ignore[arg-type]
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def old_sha_hash(password: str) -> str:
    """How the old backend hashed: bcrypt $2b$ over the SHA-256 hex (low cost for tests)."""
    digest = hashlib.sha256(password.encode()).hexdigest().encode()
    return bcrypt.hashpw(digest, bcrypt.gensalt(rounds=4)).decode()


def old_plain_hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def insert(conn: psycopg.Connection[Any], table: str, **values: Any) -> None:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    data = [
        json.dumps(v) if isinstance(v, dict | list) and table != "anime" else v
        for v in values.values()
    ]
    conn.execute(f"INSERT INTO public.{table} ({columns}) VALUES ({marks})", data)  # noqa: S608


def T(days: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(days=days)


@dataclass
class Legacy:
    """Ids and secrets of the rows ``fill`` wrote."""

    url: str
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    anime: dict[str, uuid.UUID] = field(default_factory=dict)
    releases: dict[str, uuid.UUID] = field(default_factory=dict)
    episodes: dict[str, uuid.UUID] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def fill(url: str) -> Legacy:
    """The scenario of tests/legacy: every kind of row the import must handle."""
    legacy = Legacy(url)
    with psycopg.connect(url, autocommit=True) as conn:
        insert(conn, "parser_sources", id=1, code="shikimori")
        insert(conn, "parser_sources", id=2, code="kodik")

        def user(key: str, email: str, hash_: str, days: float, **extra: Any) -> None:
            legacy.users[key] = uuid.uuid4()
            insert(
                conn,
                "users",
                id=legacy.users[key],
                email=email,
                password_hash=hash_,
                created_at=T(days),
                **extra,
            )

        legacy.passwords = {"sha": "old sha password 1", "plain": "old plain password 2"}
        user(
            "sha",
            "Viewer@Example.com",
            old_sha_hash("old sha password 1"),
            400,
            avatar="https://cdn.example/a.png",
        )
        user("plain", "plain@example.com", old_plain_hash("old plain password 2"), 300)
        user("editor", "editor@example.com", old_sha_hash("editor password"), 500)
        user("inactive", "gone@example.com", old_sha_hash("whatever 123"), 200, is_active=False)
        user("dup_old", "Twin@Example.com", old_sha_hash("twin one pw"), 250)
        user("dup_new", "twin@example.COM", old_sha_hash("twin two pw"), 100)
        user("conflict", "taken@example.com", old_sha_hash("conflict pw"), 90)

        roles = {}
        for name, active in (
            ("admin", True),
            ("editor", True),
            ("user", True),
            ("parser_bot", True),
            ("retired", False),
        ):
            roles[name] = uuid.uuid4()
            insert(
                conn,
                "roles",
                id=roles[name],
                name=name,
                display_name=name.title(),
                is_active=active,
            )
        for user_key, role in (
            ("editor", "editor"),
            ("editor", "retired"),
            ("sha", "user"),
            ("plain", "parser_bot"),
            ("dup_new", "admin"),
        ):
            insert(
                conn,
                "user_roles",
                id=uuid.uuid4(),
                user_id=legacy.users[user_key],
                role_id=roles[role],
            )

        def anime(key: str, title: str, **extra: Any) -> None:
            legacy.anime[key] = uuid.uuid4()
            values = {
                "state": "published",
                "status": "released",
                "year": 2011,
                "season": "spring",
                "created_at": T(600),
            }
            values.update(extra)
            insert(conn, "anime", id=legacy.anime[key], title=title, **values)

        anime("matched", "Steins;Gate (old title)", title_ru="Врата Штейна")
        anime("external", "Cowboy Bebop", status="ongoing")
        anime(
            "manual",
            "Hand Made Show",
            description="entered by hand",
            poster_url="https://img.example/p.jpg",
            genres=Json(["drama", "Unknown Genre"]),
        )
        anime(
            "locked",
            "Locked Title",
            is_locked=False,
            locked_fields=["title"],
            locked_by=legacy.users["editor"],
            locked_reason="official spelling",
            locked_at=T(30),
        )
        anime(
            "deleted",
            "Removed Show",
            is_deleted=True,
            deleted_at=T(10),
            deleted_by=legacy.users["editor"],
            delete_reason="duplicate entry",
        )
        anime("draft", "Work In Progress", state="draft", created_by=legacy.users["editor"])
        conn.execute(
            "INSERT INTO public.anime_external (id, anime_id, source_id, external_id) VALUES "
            "(1, %s, 1, '9253'), (2, %s, 1, '1'), (3, NULL, 1, '777'), (4, %s, 2, 'kodik-x')",
            (
                str(legacy.anime["matched"]),
                str(legacy.anime["external"]),
                str(legacy.anime["manual"]),
            ),
        )
        # A manual binding of the orphan external row to the "locked" anime.
        conn.execute(
            "INSERT INTO public.anime_external_binding (id, anime_external_id, anime_id, bound_by) "
            "VALUES (1, 3, %s, 'editor')",
            (str(legacy.anime["locked"]),),
        )

        def release(key: str, anime_key: str, days: float) -> None:
            legacy.releases[key] = uuid.uuid4()
            insert(
                conn,
                "releases",
                id=legacy.releases[key],
                anime_id=legacy.anime[anime_key],
                title=key,
                created_at=T(days),
            )

        release("manual_s1", "manual", 500)
        release("manual_s2", "manual", 400)
        release("matched_s1", "matched", 500)

        def episode(key: str, release_key: str, number: int, **extra: Any) -> None:
            legacy.episodes[key] = uuid.uuid4()
            insert(
                conn,
                "episodes",
                id=legacy.episodes[key],
                release_id=legacy.releases[release_key],
                number=number,
                **extra,
            )

        episode("manual_1", "manual_s1", 1, title="Pilot", iframe_url="https://kodik.example/e1")
        episode("manual_2", "manual_s1", 2, is_locked=True)
        episode("manual_3_deleted", "manual_s1", 3, is_deleted=True)
        episode("s2_1", "manual_s2", 1)
        episode("matched_1", "matched_s1", 1)
        episode("matched_5", "matched_s1", 5)

        def favorite(user_key: str, anime_id: uuid.UUID, days: float) -> None:
            insert(
                conn,
                "favorites",
                id=uuid.uuid4(),
                user_id=legacy.users[user_key],
                anime_id=anime_id,
                created_at=T(days),
            )

        favorite("sha", legacy.anime["manual"], 50)
        favorite("sha", legacy.anime["matched"], 40)
        favorite("sha", legacy.anime["external"], 30)
        favorite("dup_new", legacy.anime["manual"], 20)  # its user is not imported
        favorite("plain", legacy.anime["manual"], 20)

        def progress(
            user_key: str,
            anime_key: str,
            episode: int,
            position: int | None,
            percent: float | None,
            days: float,
        ) -> None:
            insert(
                conn,
                "watch_progress",
                id=uuid.uuid4(),
                user_id=legacy.users[user_key],
                anime_id=legacy.anime[anime_key],
                episode=episode,
                position_seconds=position,
                progress_percent=percent,
                created_at=T(days + 5),
                last_watched_at=T(days),
            )

        progress("sha", "manual", 3, 754, 42.5, 3)
        progress("sha", "matched", 1, None, 10.0, 1)
        progress("sha", "external", 12, 1300, 99.0, 7)
        progress("conflict", "manual", 2, 10, 1.0, 2)  # its user is not imported

        # Orphans: rows pointing at users / anime that do not exist (the old FKs disabled, as
        # after the old backend's manual clean-ups).
        conn.execute("SET session_replication_role = replica")
        insert(
            conn,
            "favorites",
            id=uuid.uuid4(),
            user_id=legacy.users["sha"],
            anime_id=uuid.uuid4(),
            created_at=T(5),
        )
        insert(
            conn,
            "favorites",
            id=uuid.uuid4(),
            user_id=uuid.uuid4(),
            anime_id=legacy.anime["manual"],
            created_at=T(5),
        )
        insert(
            conn,
            "watch_progress",
            id=uuid.uuid4(),
            user_id=legacy.users["plain"],
            anime_id=uuid.uuid4(),
            episode=1,
            position_seconds=1,
            progress_percent=1,
        )
        insert(conn, "releases", id=uuid.uuid4(), anime_id=uuid.uuid4(), title="orphan release")
        conn.execute("SET session_replication_role = DEFAULT")

        def token(user_key: str, *, days_left: float, revoked: bool = False) -> None:
            plain = secrets.token_urlsafe()
            legacy.tokens[user_key] = plain
            insert(
                conn,
                "refresh_tokens",
                id=uuid.uuid4(),
                user_id=legacy.users[user_key],
                token_hash=hashlib.sha256(plain.encode()).hexdigest(),
                expires_at=T(-days_left),
                revoked=revoked,
            )

        token("sha", days_left=10)
        token("plain", days_left=10, revoked=True)
        token("editor", days_left=-1)  # expired yesterday

        insert(
            conn,
            "parser_settings",
            id=1,
            mode="auto",
            enable_autoupdate=True,
            update_interval_minutes=45,
            dry_run=True,
            allowed_translation_types=["voice", "sub"],
            blacklist_titles=["Bad Show"],
            allowed_qualities=["720p"],
        )
        insert(
            conn,
            "audit_logs",
            id=uuid.uuid4(),
            actor_id=legacy.users["editor"],
            actor_type="user",
            action="anime.lock",
            entity_type="anime",
            entity_id=str(legacy.anime["locked"]),
            before={"is_locked": False},
            after={"locked_fields": ["title"]},
            reason="official spelling",
            ip_address="203.0.113.7",
            created_at=T(30),
        )
        insert(
            conn,
            "audit_logs",
            id=uuid.uuid4(),
            actor_type="system",
            action="parser.run",
            entity_type="parser",
            entity_id="x" * 200,
            ip_address="not an ip",
            created_at=T(20),
        )
    return legacy
