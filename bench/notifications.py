"""New-episode notifications (issue 13): fan-out time and the polled unread count.

1. Creates ``kitsu_bench_notifications`` afresh (``--database-url``, 127.0.0.1 only) and
   migrates it; loads ``--catalog`` background anime with ``--episodes`` playable episodes
   each (what the detection job scans on every run), ``--users`` users, and three published
   anime followed by 1, 10,000 and 100,000 of them (half favorites, half library
   "watching").
2. Runs the detection job once (it initialises every watermark silently), then for each
   followed anime makes one new episode playable and times the job: scan + fan-out
   (one INSERT ... SELECT per new episode). With ``--compare-python`` the same fan-out is
   timed the way the brief allows too (follower ids to Python, ``bulk_create(...,
   ignore_conflicts=True)`` in batches of 5,000), for the ratio.
3. Times what the sync itself pays for notifications: the hook's ``async_task`` (one row in
   the django-q2 queue), whatever the number of followers.
4. Starts gunicorn (``--workers``) and measures ``GET /notifications/unread-count`` for a
   signed-in follower with ``--concurrency`` client threads: requests per second and latency.

Usage: .venv/bin/python bench/notifications.py [--users 100000] [--catalog 3000]
       [--requests 4000] [--concurrency 8] [--workers 4] [--compare-python]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import (
    Server,
    create_database,
    free_port,
    gunicorn_command,
    log,
    markdown_table,
    migrate,
    percentile,
    setup_django,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kitsu_bench_notifications"
FOLLOWER_COUNTS = (1, 10_000, 100_000)


def load(args: argparse.Namespace) -> dict[int, uuid.UUID]:
    from django.db import connection

    from accounts.models import User
    from catalog.models import Anime, Episode, PlaybackSource, Release, Translation
    from library.models import Favorite, LibraryEntry

    started = time.perf_counter()
    translation = Translation.objects.create(provider="kodik", external_id="610", name="Dub")
    followed = {
        count: Anime(title=f"Followed by {count}", state="published", status="ongoing")
        for count in FOLLOWER_COUNTS
    }
    background = [
        Anime(title=f"Background {i}", state="published", shikimori_id=i + 1)
        for i in range(args.catalog)
    ]
    everything = [*followed.values(), *background]
    for anime in everything:
        anime.search_document = anime.build_search_document()
    Anime.objects.bulk_create(everything, batch_size=2000)
    releases = Release.objects.bulk_create(
        (Release(anime=a, ordering=1, title=a.title) for a in everything), batch_size=2000
    )
    episodes = Episode.objects.bulk_create(
        (Episode(release=r, number=n) for r in releases for n in range(1, args.episodes + 1)),
        batch_size=5000,
    )
    PlaybackSource.objects.bulk_create(
        (
            PlaybackSource(episode=e, translation=translation, url=f"https://p.example/{e.pk}")
            for e in episodes
        ),
        batch_size=5000,
    )
    users = User.objects.bulk_create(
        (User(email=f"u{i}@bench.example", password="!") for i in range(args.users)),  # noqa: S106 (unusable)
        batch_size=5000,
    )
    for count, anime in followed.items():
        fans = users[: min(count, len(users))]
        half = len(fans) // 2
        Favorite.objects.bulk_create(
            (Favorite(user=u, anime=anime) for u in fans[half:]), batch_size=5000
        )
        LibraryEntry.objects.bulk_create(
            (LibraryEntry(user=u, anime=anime, status="watching") for u in fans[:half]),
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(
        f"loaded {len(everything)} anime x {args.episodes} playable episodes, "
        f"{len(users)} users in {time.perf_counter() - started:.1f}s"
    )
    return {count: anime.pk for count, anime in followed.items()}


def new_episode(anime_id: uuid.UUID, number: int) -> None:
    from catalog.models import Episode, PlaybackSource, Release, Translation

    release = Release.objects.get(anime_id=anime_id, ordering=1)
    episode = Episode.objects.create(release=release, number=number)
    PlaybackSource.objects.create(
        episode=episode, translation=Translation.objects.get(), url="https://p.example/new"
    )


def python_fan_out(anime_id: uuid.UUID, number: int) -> int:
    """The alternative: follower ids through Python, bulk_create in batches."""
    from django.db import transaction
    from django.utils import timezone

    from library.models import Notification
    from library.notification_selectors import anime_followers

    now = timezone.now()
    ids = list(anime_followers(anime_id=anime_id).values_list("user_id", flat=True))
    with transaction.atomic():
        rows = Notification.objects.bulk_create(
            (
                Notification(user_id=i, anime_id=anime_id, episode_number=number, available_at=now)
                for i in ids
            ),
            batch_size=5000,
            ignore_conflicts=True,
        )
    return len(rows)


def fan_out_table(args: argparse.Namespace, followed: dict[int, uuid.UUID]) -> list[list[str]]:
    from library.models import Notification
    from library.notifications import highest_playable_episodes, new_episodes_notify

    started = time.perf_counter()
    first = new_episodes_notify()
    log(f"first run (initialises): {first} in {time.perf_counter() - started:.2f}s")
    scans = []
    for _ in range(3):
        started = time.perf_counter()
        highest_playable_episodes()
        scans.append(time.perf_counter() - started)
    scan = statistics.median(scans)
    rows = [["(the scan alone, every anime)", "-", f"{scan * 1000:.0f}", "-", "-"]]
    if args.compare_python:
        rows[0].append("-")
    for count, anime_id in followed.items():
        number = args.episodes + 1
        new_episode(anime_id, number)
        started = time.perf_counter()
        report = new_episodes_notify()
        elapsed = time.perf_counter() - started
        inserted = Notification.objects.filter(anime_id=anime_id, episode_number=number).count()
        assert inserted == report.notifications == min(count, args.users), (inserted, report)
        again = time.perf_counter()
        assert new_episodes_notify().notifications == 0  # exactly once
        rerun = time.perf_counter() - again
        row = [f"{count:,} followers", f"{inserted:,}", f"{elapsed * 1000:.0f}"]
        row.append(f"{max(elapsed - scan, 0) * 1000:.0f}")
        row.append(f"{rerun * 1000:.0f}")
        if args.compare_python:
            started = time.perf_counter()
            python_fan_out(anime_id, number + 1)
            row.append(f"{(time.perf_counter() - started) * 1000:.0f}")
        rows.append(row)
    return rows


def enqueue_cost() -> float:
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    timings = []
    for _ in range(200):
        started = time.perf_counter()
        async_task("library.tasks.notify_new_episodes")
        timings.append((time.perf_counter() - started) * 1000)
    OrmQ.objects.all().delete()
    return statistics.median(timings)


def unread_count_plan() -> str:
    """EXPLAIN ANALYZE of the count the endpoint runs (one follower's unread)."""
    from django.db import connection

    from accounts.models import User
    from library.notification_selectors import notification_list

    user = User.objects.get(email="u0@bench.example")
    unread = notification_list(user=user, unread_only=True).order_by()
    sql, params = unread.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ANALYZE SELECT COUNT(*) FROM ({sql}) q", params)  # noqa: S608
        return "\n".join(row[0] for row in cursor.fetchall())


def unread_count_load(args: argparse.Namespace, database_url: str) -> list[dict[str, float]]:
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.services import ClientInfo, session_create

    user = User.objects.get(email="u0@bench.example")  # follows all three anime
    user.groups.add(Group.objects.get(name="user"))
    pair = session_create(user=user, client=ClientInfo(ip="127.0.0.1", user_agent="bench"))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": "redis://127.0.0.1:6379/2",
        "CACHE_KEY_PREFIX": "kitsu-bench-notifications",
        "DEBUG": "false",
        "KITSU_ENV": "development",
        "DB_POOL": "true",
        "LOG_LEVEL": "WARNING",
    }
    server = Server(
        gunicorn_command(workers=args.workers, port=port),
        env,
        port=port,
        log_path=Path(tempfile.gettempdir()) / "kitsu-bench-notifications-gunicorn.log",
    )
    server.start()
    headers = {"Authorization": f"Bearer {pair.access_token}"}

    def measure(path: str) -> dict[str, float]:
        timings: list[float] = []
        errors = 0
        lock = threading.Lock()
        per_client = args.requests // args.concurrency

        def client_loop() -> None:
            nonlocal errors
            with httpx.Client(base_url=server.base_url, headers=headers, trust_env=False) as c:
                for _ in range(20):
                    c.get(path)  # warm-up
                mine = []
                for _ in range(per_client):
                    started = time.perf_counter()
                    response = c.get(path)
                    mine.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        with lock:
                            errors += 1
                with lock:
                    timings.extend(mine)

        threads = [threading.Thread(target=client_loop) for _ in range(args.concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        timings.sort()
        return {
            "requests": len(timings),
            "errors": errors,
            "rps": len(timings) / wall,
            "p50": percentile(timings, 50),
            "p99": percentile(timings, 99),
        }

    try:
        # The same signed-in user on a one-row favorites page: what any authenticated read
        # costs here (session check, permissions, one small query), for the ratio.
        return [measure("/notifications/unread-count"), measure("/favorites?limit=1")]
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--catalog", type=int, default=3000, help="background anime")
    parser.add_argument("--episodes", type=int, default=12, help="playable episodes per anime")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--compare-python", action="store_true")
    args = parser.parse_args()

    create_database(args.database_url, fresh=True)
    migrate(args.database_url)
    setup_django(args.database_url)
    logging.getLogger("django-q").setLevel(logging.WARNING)  # a line per enqueued task
    logging.getLogger("library").setLevel(logging.WARNING)
    followed = load(args)

    print(f"command: {' '.join(sys.argv)}")
    print(
        f"catalog: {args.catalog + len(FOLLOWER_COUNTS)} anime x {args.episodes} playable "
        f"episodes; {args.users:,} users\n"
    )
    headers = ["new episode of an anime with", "notifications", "job (ms)", "fan-out (ms)"]
    headers.append("re-run (ms)")
    if args.compare_python:
        headers.append("Python bulk_create fan-out (ms)")
    print(markdown_table(headers, fan_out_table(args, followed)))
    print(f"\nthe sync's own cost (the hook's async_task, median of 200): {enqueue_cost():.2f} ms")
    print("\nthe unread count's query plan (a follower with unread notifications):")
    print(unread_count_plan())
    count, baseline = unread_count_load(args, args.database_url)
    print(f"\n{args.workers} gunicorn workers, {args.concurrency} client threads:\n")
    print(
        markdown_table(
            ["endpoint", "requests", "errors", "req/s", "p50 (ms)", "p99 (ms)"],
            [
                [
                    name,
                    f"{row['requests']:.0f}",
                    f"{row['errors']:.0f}",
                    f"{row['rps']:.0f}",
                    f"{row['p50']:.1f}",
                    f"{row['p99']:.1f}",
                ]
                for name, row in (
                    ("GET /notifications/unread-count", count),
                    ("GET /favorites?limit=1 (baseline)", baseline),
                )
            ],
        )
    )
    print(f"unread-count throughput / baseline: {count['rps'] / baseline['rps']:.2f}")


if __name__ == "__main__":
    main()
