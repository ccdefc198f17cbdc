"""Full catalog sync of N anime (default 20,000) from the fake upstream into PostgreSQL.

Runs the real ``manage.py sync_catalog`` (real clients, parsers, pipeline) as a child process
against a fresh database, twice: the first run imports everything (GraphQL catalog pages of 50
full anime), the second finds nothing changed. Prints wall time, rows per second, the child's
peak memory (max RSS), the Shikimori requests each run sent (from the fake's own request log)
and the time those requests take at Shikimori's real limits (5 rps and 90 rpm: the fake is
unthrottled here, so the wall time is the pipeline's own cost), next to the REST design it
replaced (a list page per 50 anime plus one detail request per anime).

Usage: .venv/bin/python bench/catalog_sync.py [--anime 20000]
       [--database-url postgres://postgres@127.0.0.1:5432/kitsu_bench_sync]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import REPO_ROOT, create_database, markdown_table, migrate
from fake_upstream.server import start_in_thread

DEFAULT_MARGIN = 0.5  # kitsu/settings.py UPSTREAM_RATE_MARGIN


def timed_child(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MiB of the child, and its last output line."""
    started = time.perf_counter()
    result = subprocess.run(
        args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, peak_kib // 1024, result.stdout.strip().splitlines()[-1]


def at_shikimori_limits(
    requests: int, rps: int = 5, rpm: int = 90, margin: float = DEFAULT_MARGIN
) -> float:
    """Seconds ``requests`` take when every 1 s window holds at most ``rps`` and every 60 s
    window at most ``rpm``, each kept ``margin`` seconds longer (the moving windows the client
    keeps, ``UPSTREAM_RATE_MARGIN``): whole minutes of ``rpm`` requests, the rest at ``rps``."""
    if requests <= 0:
        return 0.0
    minutes, rest = divmod(requests - 1, rpm)
    return minutes * (60 + margin) + rest / rps * (1 + margin)


def duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--anime", type=int, default=20_000)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/kitsu_bench_sync"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    args = parser.parse_args()

    create_database(args.database_url, fresh=True)
    migrate(args.database_url)
    with start_in_thread(anime=args.anime) as fake:
        env = {
            **os.environ,
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            # Its own rate buckets and cache keys per database (parallel benchmarks).
            "CACHE_KEY_PREFIX": "kitsu-bench-" + args.database_url.rsplit("/", 1)[-1],
            "KITSU_UPSTREAM_URL": fake.base_url,
            "KODIK_TOKEN": fake.kodik_token,
            # The fake is ours: no politeness limit (Shikimori's real 90 rpm is documented).
            "SHIKIMORI_RPS": "100000",
            "SHIKIMORI_RPM": "10000000",
            "LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "manage.py", "sync_catalog"]
        first, first_rss, first_line = timed_child(command, env)
        first_requests = len(fake.requests("/api/"))
        fake.reset()
        second, second_rss, second_line = timed_child(command, env)
        second_requests = len(fake.requests("/api/"))

    print(f"anime: {args.anime}; cpu cores: {os.cpu_count()}; fake upstream in this process")
    print(
        f"command: .venv/bin/python bench/catalog_sync.py --anime {args.anime} "
        f"--database-url {args.database_url}"
    )
    rows = [
        [label, f"{wall:.1f}", f"{args.anime / wall:.0f}", rss, line]
        for label, wall, rss, line in (
            ("first (import)", first, first_rss, first_line),
            ("second (unchanged)", second, second_rss, second_line),
        )
    ]
    headers = ["run", "wall (s)", "anime/s", "peak RSS (MiB)", "summary"]
    print(markdown_table(headers, rows, left=(0, 4)))
    print()
    rest_requests = -(-args.anime // 50) + 1 + args.anime  # pages (+ the short one) + details
    requests = [
        ["first import, GraphQL (measured)", first_requests, first],
        ["unchanged re-run, GraphQL (measured)", second_requests, second],
        ["first import, REST list + details (computed)", rest_requests, None],
    ]
    print(
        markdown_table(
            ["run", "Shikimori requests", "requests/anime", "wall here", "at 5 rps + 90 rpm"],
            [
                [
                    label,
                    count,
                    f"{count / args.anime:.3f}",
                    duration(wall) if wall is not None else "-",
                    duration(max(at_shikimori_limits(count), wall or 0.0)),
                ]
                for label, count, wall in requests
            ],
            left=(0,),
        )
    )


if __name__ == "__main__":
    main()
