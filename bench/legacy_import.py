"""Time and peak memory of ``manage.py import_legacy`` at production scale.

    .venv/bin/python bench/legacy_import.py            # 100,000 users, 20,000 anime,
                                                       # 500,000 favorites + 500,000 progress
    .venv/bin/python bench/legacy_import.py --users 10000 --anime 2000 --favorites 50000 \
        --progress 50000                               # a quick run

1. Creates the old backend's database afresh (``--legacy-url``, schema from
   tests/legacy/legacy-schema.sql) and fills it server-side with ``generate_series``: users
   sharing ONE precomputed bcrypt hash (cost 12, like the old backend), anime (three in four
   with a Shikimori external row), one release and ``--episodes`` episodes per anime, role
   grants, favorites and watch progress (unique per user and anime), one refresh token per
   user (a tenth revoked, a tenth expired), audit entries.
2. Creates Kitsu's database afresh (``--database-url``), migrates it, and adds ``--matched``
   anime "synced from Shikimori" whose Shikimori ids the old anime carry (the import re-keys
   them to the old UUIDs).
3. Runs ``manage.py import_legacy`` in a child process and prints its wall time and peak
   resident memory (ru_maxrss of the child; PostgreSQL's own memory is not included), then
   runs it again (the idempotent re-run: 0 changes expected) and prints that time too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bcrypt
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    BASE_ENV,
    REPO_ROOT,
    create_database,
    log,
    migrate,
    require_local,
    setup_django,
)

SCHEMA = REPO_ROOT / "tests" / "legacy" / "legacy-schema.sql"


def schema_sql() -> str:
    return "\n".join(l for l in SCHEMA.read_text().splitlines() if not l.startswith("\\"))  # noqa: E741


def fill_legacy(url: str, args: argparse.Namespace) -> None:
    one_hash = bcrypt.hashpw(
        hashlib.sha256(b"bench password").hexdigest().encode(), bcrypt.gensalt(rounds=12)
    ).decode()
    users, anime = args.users, args.anime
    steps = [
        (
            "parser_sources",
            "INSERT INTO parser_sources (id, code) VALUES (1, 'shikimori'), (2, 'kodik')",
            (),
        ),
        (
            "users",
            "INSERT INTO users (id, email, password_hash, avatar, created_at) "
            "SELECT md5('u' || i)::uuid, 'user' || i || '@example.com', %s, "
            "CASE WHEN i % 3 = 0 THEN 'https://cdn.example/' || i || '.png' END, "
            "now() - i * interval '1 minute' FROM generate_series(1, %s) i",
            (one_hash, users),
        ),
        (
            "roles",
            "INSERT INTO roles (id, name, display_name) VALUES "
            "(md5('r1')::uuid, 'user', 'User'), (md5('r2')::uuid, 'editor', 'Editor'), "
            "(md5('r3')::uuid, 'admin', 'Admin')",
            (),
        ),
        (
            "user_roles",
            "INSERT INTO user_roles (id, user_id, role_id) SELECT md5('ur' || i)::uuid, "
            "md5('u' || i)::uuid, CASE WHEN i % 1000 = 0 THEN md5('r2')::uuid "
            "WHEN i % 5000 = 1 THEN md5('r3')::uuid ELSE md5('r1')::uuid END "
            "FROM generate_series(1, %s) i",
            (users,),
        ),
        (
            "anime",
            "INSERT INTO anime (id, title, title_ru, description, year, status, season, state, "
            "is_locked, locked_fields, is_deleted, created_at) "
            "SELECT md5('a' || i)::uuid, 'Anime ' || i, 'Аниме ' || i, 'About ' || i, "
            "1990 + i % 35, (ARRAY['anons','ongoing','released'])[1 + i % 3], "
            "(ARRAY['winter','spring','summer','fall'])[1 + i % 4], "
            "CASE WHEN i % 10 = 0 THEN 'draft' ELSE 'published' END, i % 50 = 0, "
            "CASE WHEN i % 20 = 0 THEN ARRAY['title']::varchar[] END, i % 100 = 0, "
            "now() - i * interval '1 hour' FROM generate_series(1, %s) i",
            (anime,),
        ),
        (
            "anime_external",
            "INSERT INTO anime_external (id, anime_id, source_id, external_id) "
            "SELECT i, md5('a' || i)::text::uuid::text, 1, (100000 + i)::text "
            "FROM generate_series(1, %s) i WHERE i % 4 <> 0",
            (anime,),
        ),
        (
            "releases",
            "INSERT INTO releases (id, anime_id, title, created_at) SELECT md5('r' || i)::uuid, "
            "md5('a' || i)::uuid, 'Season 1', now() FROM generate_series(1, %s) i",
            (anime,),
        ),
        (
            "episodes",
            "INSERT INTO episodes (id, release_id, number, title) "
            "SELECT md5('e' || i || '-' || n)::uuid, md5('r' || i)::uuid, n, 'Episode ' || n "
            "FROM generate_series(1, %s) i, generate_series(1, %s) n",
            (anime, args.episodes),
        ),
        (
            "favorites",
            "INSERT INTO favorites (id, user_id, anime_id, created_at) "
            "SELECT md5('f' || n)::uuid, md5('u' || (1 + (n - 1) % %s))::uuid, "
            "md5('a' || (1 + ((n - 1) / %s * 13 + (n - 1) % %s * 7) % %s))::uuid, "
            "now() - n * interval '1 second' FROM generate_series(1, %s) n",
            (users, users, users, anime, args.favorites),
        ),
        (
            "watch_progress",
            "INSERT INTO watch_progress (id, user_id, anime_id, episode, position_seconds, "
            "progress_percent, created_at, last_watched_at) "
            "SELECT md5('w' || n)::uuid, md5('u' || (1 + (n - 1) % %s))::uuid, "
            "md5('a' || (1 + ((n - 1) / %s * 17 + (n - 1) % %s * 11 + 5) % %s))::uuid, "
            "1 + n % 12, n % 1400, (n % 100)::float, now() - n * interval '2 second', "
            "now() - n * interval '1 second' FROM generate_series(1, %s) n",
            (users, users, users, anime, args.progress),
        ),
        (
            "refresh_tokens",
            "INSERT INTO refresh_tokens (id, user_id, token_hash, expires_at, revoked) "
            "SELECT md5('t' || i)::uuid, md5('u' || i)::uuid, "
            "encode(sha256(('tok' || i)::bytea), 'hex'), CASE WHEN i % 10 = 0 "
            "THEN now() - interval '1 day' ELSE now() + interval '7 days' END, "
            "i % 10 = 1 FROM generate_series(1, %s) i",
            (users,),
        ),
        (
            "audit_logs",
            "INSERT INTO audit_logs (id, actor_id, actor_type, action, entity_type, entity_id, "
            "after, ip_address, created_at) SELECT md5('l' || i)::uuid, "
            "md5('u' || (1 + i % 100))::uuid, "
            "'user', 'anime.update', 'anime', md5('a' || (1 + i % %s)), '{\"x\": 1}', "
            "'198.51.100.' || (i % 250), now() - i * interval '1 minute' "
            "FROM generate_series(1, %s) i",
            (anime, args.audit),
        ),
        ("settings", "INSERT INTO parser_settings (id, mode) VALUES (1, 'manual')", ()),
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema_sql())
        conn.execute("SET search_path = public")
        for name, statement, params in steps:
            started = time.monotonic()
            if params:  # the SQL above writes modulo as "%"; with parameters it is "%%"
                statement = statement.replace(" % ", " %% ")
            conn.execute(statement, params or None)
            log(f"old {name}: {time.monotonic() - started:.1f} s")
        conn.execute("ANALYZE")


def add_matched_anime(count: int) -> None:
    """Kitsu already has ``count`` anime synced from Shikimori with the old anime's ids."""
    from catalog.models import Anime

    rows = []
    for i in range(1, count + 1):
        if i % 4 == 0:
            continue
        anime = Anime(shikimori_id=100000 + i, title=f"Synced {i}", state="published")
        anime.search_document = anime.build_search_document()
        rows.append(anime)
    Anime.objects.bulk_create(rows, batch_size=2000)


def run_import(args: argparse.Namespace, report: Path) -> tuple[float, dict[str, object]]:
    env = {**os.environ, **BASE_ENV, "DATABASE_URL": args.database_url, "DB_POOL": "false"}
    env.pop("REDIS_URL", None)
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "import_legacy",
            "--source",
            args.legacy_url,
            "--batch-size",
            str(args.batch_size),
            "--report",
            str(report),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"import_legacy failed:\n{result.stdout}\n{result.stderr}")
    print(result.stdout)
    return elapsed, json.loads(report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--anime", type=int, default=20_000)
    parser.add_argument("--episodes", type=int, default=3, help="per anime")
    parser.add_argument("--favorites", type=int, default=500_000)
    parser.add_argument("--progress", type=int, default=500_000)
    parser.add_argument("--audit", type=int, default=10_000)
    parser.add_argument("--matched", type=int, default=2_000, help="anime Kitsu already has")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/kitsu_bench_legacy_kitsu"
    )
    parser.add_argument(
        "--legacy-url", default="postgres://postgres@127.0.0.1:5432/kitsu_bench_legacy_old"
    )
    parser.add_argument("--no-rerun", action="store_true")
    args = parser.parse_args()
    for url in (args.database_url, args.legacy_url):
        require_local(url, "--database-url/--legacy-url")
        if "bench" not in url.rsplit("/", 1)[-1]:
            raise SystemExit("both database names must contain 'bench' (they are recreated)")

    started = time.monotonic()
    create_database(args.legacy_url, fresh=True)
    fill_legacy(args.legacy_url, args)
    log(f"old database filled in {time.monotonic() - started:.0f} s")
    create_database(args.database_url, fresh=True)
    migrate(args.database_url)
    setup_django(args.database_url)
    add_matched_anime(args.matched)

    with tempfile.TemporaryDirectory() as tmp:
        first, report = run_import(args, Path(tmp) / "first.json")
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        second = None
        again: dict[str, object] = {}
        if not args.no_rerun:
            second, again = run_import(args, Path(tmp) / "second.json")
    rows = args.favorites + args.progress
    print(
        f"import_legacy: {args.users:,} users, {args.anime:,} anime "
        f"({args.anime * args.episodes:,} episodes), {rows:,} favorite + progress rows, "
        f"{args.users:,} refresh tokens, {args.audit:,} audit entries"
    )
    print(f"first run:  {first:7.1f} s wall, {report['changes']:,} rows changed")
    print(f"peak RSS of the import process: {peak_mib:.0f} MiB")
    if second is not None:
        print(f"second run: {second:7.1f} s wall, {again['changes']:,} rows changed (idempotent)")
    print(f"cores: {os.cpu_count()} (shared with other work: numbers are noisy)")


if __name__ == "__main__":
    main()
