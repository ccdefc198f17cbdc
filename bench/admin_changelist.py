"""Django admin anime changelist at catalog scale (default 50,000 anime).

Grows the benchmark database to N anime by copying the rows bench/catalog_read.py loaded
(new UUIDs and Shikimori ids, titles suffixed), then renders the changelist in-process with
Django's test client as a superuser: the default page, searches (Russian, romaji, a miss)
and the editorial filters. Prints the median and p90 render time and the query count.

With ``--explain``, also runs EXPLAIN ANALYZE on each catalog_anime query of every scenario
and prints its execution time and the part of it spent in JIT compilation.

Usage: .venv/bin/python bench/admin_changelist.py [--anime 50000] [--repeat 15] [--explain]
       (run bench/catalog_read.py --skip-load-test first: it creates kitsu_bench)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import markdown_table, percentile, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kitsu_bench"
SCENARIOS = [
    ("default page", {}),
    ("search Russian", {"q": "клинок"}),
    ("search romaji", {"q": "hikari"}),
    ("search miss", {"q": "zzzqqq"}),
    ("state=draft", {"state__exact": "draft"}),
    ("has problems", {"has_problems": "yes"}),
    ("has video = no", {"has_video": "no"}),
    ("locked", {"locked": "yes"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--anime", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE each scenario's anime queries"
    )
    args = parser.parse_args()

    setup_django(args.database_url, ALLOWED_HOSTS="testserver")
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    grow(args.anime)
    admin = User.objects.filter(email="bench-admin@example.com").first()
    if admin is None:
        admin = User.objects.create_superuser(email="bench-admin@example.com", password="x" * 20)
    client = Client()
    client.force_login(admin)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_anime")
        total = cursor.fetchone()[0]
    print(f"anime rows: {total}; repeats per scenario: {args.repeat}")
    print(f"command: .venv/bin/python bench/admin_changelist.py --anime {args.anime}")
    plans: list[tuple[str, list[str]]] = []
    rows = []
    for label, params in SCENARIOS:
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get("/admin/catalog/anime/", params)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        with CaptureQueriesContext(connection) as queries:
            client.get("/admin/catalog/anime/", params)
        timings.sort()
        median, p90 = statistics.median(timings), percentile(timings, 90)
        rows.append([label, f"{median:.0f}", f"{p90:.0f}", len(queries)])
        if args.explain:
            plans.append((label, [q["sql"] for q in queries.captured_queries]))
    print(markdown_table(["changelist", "median ms", "p90 ms", "queries"], rows))
    for label, statements in plans:
        print(f"\n### EXPLAIN ANALYZE: {label}")
        for sql in statements:
            if "catalog_anime" in sql:
                print(explain_summary(connection, sql))


def explain_summary(connection: Any, sql: str) -> str:
    """One line: the query's start, its execution time and its JIT compile time, if any."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else plan
    jit = plan.get("JIT", {}).get("Timing", {}).get("Total")
    head = " ".join(sql.split())[:60]
    jit_text = f"{jit:.0f} ms" if jit is not None else "none"
    return f"- `{head}...`: execution {plan['Execution Time']:.0f} ms, of which JIT {jit_text}"


def grow(target: int) -> None:
    """Copy the originally loaded anime (new ids) until the table has ``target`` rows."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_anime")
        current = cursor.fetchone()[0]
        if current == 0:
            raise SystemExit("empty catalog: run bench/catalog_read.py --skip-load-test first")
        cursor.execute("SELECT count(*) FROM catalog_anime WHERE shikimori_id < 100000000")
        originals = cursor.fetchone()[0]
        round_no = 0
        while current < target:
            round_no += 1
            batch = min(originals, target - current)
            with transaction.atomic():
                cursor.execute(
                    """
                    INSERT INTO catalog_anime (id, shikimori_id, mal_id,
                        title, title_original, title_ru, title_en, title_ja,
                        synonyms, description, poster_url, kind, status,
                        year, season, aired_on, released_on, episodes_total,
                        episodes_aired, duration_minutes, rating, score,
                        franchise, next_episode_at, state, source,
                        created_by_id, updated_by_id, deleted_at,
                        deleted_by_id, delete_reason, search_document,
                        created_at, updated_at, is_locked, locked_fields,
                        locked_by_id, locked_reason, locked_at, stream_id)
                    SELECT (md5(random()::text || id::text))::uuid,
                        shikimori_id + %(offset)s, mal_id, title || ' ' ||
                        %(round)s, title_original, title_ru, title_en,
                        title_ja, synonyms, description, poster_url, kind,
                        status, year, season, aired_on, released_on,
                        episodes_total, episodes_aired, duration_minutes,
                        rating, score, franchise, next_episode_at, state,
                        source, created_by_id, updated_by_id, deleted_at,
                        deleted_by_id, delete_reason, search_document || ' |
                        ' || %(round)s, created_at, updated_at, is_locked,
                        locked_fields, locked_by_id, locked_reason,
                        locked_at, stream_id
                    FROM catalog_anime WHERE shikimori_id < 100000000
                    ORDER BY created_at, id LIMIT %(batch)s
                    """,
                    {"offset": 100_000_000 * round_no, "round": f"copy{round_no}", "batch": batch},
                )
            current += batch
        cursor.execute("ANALYZE catalog_anime")


if __name__ == "__main__":
    main()
