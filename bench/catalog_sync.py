"""Full catalog sync of N anime (default 20,000) from the fake upstream into PostgreSQL.

Runs the real ``manage.py sync_catalog`` (real clients, parsers, pipeline) as a child process
against a fresh database, twice: the first run imports everything (list pages + one detail
request per anime), the second finds nothing changed. Prints wall time, rows per second and
the child's peak memory (max RSS).

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


def timed_child(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MiB of the child, and its last output line."""
    started = time.perf_counter()
    result = subprocess.run(
        args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, peak_kib // 1024, result.stdout.strip().splitlines()[-1]


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
            "CACHE_KEY_PREFIX": "kitsu-bench-sync",
            "KITSU_UPSTREAM_URL": fake.base_url,
            "KODIK_TOKEN": fake.kodik_token,
            # The fake is ours: no politeness limit (Shikimori's real 90 rpm is documented).
            "SHIKIMORI_RPS": "100000",
            "SHIKIMORI_RPM": "10000000",
            "LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "manage.py", "sync_catalog"]
        first, first_rss, first_line = timed_child(command, env)
        second, second_rss, second_line = timed_child(command, env)

    print(f"anime: {args.anime}; cpu cores: {os.cpu_count()}; fake upstream in this process")
    print(f"command: .venv/bin/python bench/catalog_sync.py --anime {args.anime}")
    rows = [
        [label, f"{wall:.1f}", f"{args.anime / wall:.0f}", rss, line]
        for label, wall, rss, line in (
            ("first (import)", first, first_rss, first_line),
            ("second (unchanged)", second, second_rss, second_line),
        )
    ]
    headers = ["run", "wall (s)", "anime/s", "peak RSS (MiB)", "summary"]
    print(markdown_table(headers, rows, left=(0, 4)))


if __name__ == "__main__":
    main()
