"""What every benchmark shares: a scratch PostgreSQL database on 127.0.0.1 (created if missing,
or dropped and created afresh) and migrated, Django set up in the benchmark's own process, a
server process started and waited for, percentiles and tables.

Import it as ``bench.harness`` after putting the repository root on ``sys.path`` (a script run
as ``python bench/x.py`` only has ``bench/`` there)::

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.harness import create_database, migrate

``free_port`` comes from ``tests.servers`` (the one copy; tests never import bench).
"""

from __future__ import annotations

import logging
import math
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
from psycopg import sql

from tests.servers import free_port

__all__ = [
    "REPO_ROOT",
    "Server",
    "create_database",
    "database_name",
    "free_port",
    "gunicorn_command",
    "log",
    "markdown_table",
    "migrate",
    "percentile",
    "require_local",
    "setup_django",
    "text_table",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Every benchmark process and the servers it starts run like production: no DEBUG (it keeps
# every SQL query in memory), the development environment checks.
BASE_ENV = {"DEBUG": "false", "KITSU_ENV": "development"}


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- Database ---------------------------------------------------------------------------------
def require_local(url: str, what: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"{what} must point at 127.0.0.1 (got host {host!r})")


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _maintenance_connection(url: str) -> psycopg.Connection:
    """Autocommit connection to the server's ``postgres`` database (CREATE/DROP DATABASE)."""
    require_local(url, "the benchmark database URL")
    admin_url = urlsplit(url)._replace(path="/postgres", query="").geturl()
    return psycopg.connect(admin_url, autocommit=True)


def create_database(url: str, *, fresh: bool = False) -> bool:
    """Create the database of ``url`` if missing; ``fresh`` drops it first (closing its
    sessions). True when it was created."""
    name = database_name(url)
    with _maintenance_connection(url) as conn:
        if fresh:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def migrate(url: str) -> None:
    """``manage.py migrate`` against ``url`` in a child process (no Redis needed)."""
    env = {**os.environ, **BASE_ENV, "DATABASE_URL": url}
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py migrate failed:\n{result.stdout}\n{result.stderr}")


def setup_django(url: str, **env: str) -> None:
    """Configure Django in this process against ``url``: no Redis (local-memory cache), no
    connection pool, plus ``env``."""
    os.environ.update({"DJANGO_SETTINGS_MODULE": "kitsu.settings", **BASE_ENV})
    os.environ.update({"DATABASE_URL": url, "DB_POOL": "false", **env})
    if "REDIS_URL" not in env:
        os.environ.pop("REDIS_URL", None)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()
    # The project's LOGGING sends INFO to the console: one httpx line per request would cost
    # a load generator CPU and drown the report.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


# --- Server -----------------------------------------------------------------------------------
def gunicorn_command(*, workers: int, port: int, threads: int = 0) -> list[str]:
    """``gunicorn kitsu.wsgi:application`` on 127.0.0.1 (gthread workers when ``threads``)."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "kitsu.wsgi:application",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    if threads > 0:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    return command


class Server:
    """A server as a child process in its own session, healthy once ``GET /health`` answers
    200; ``stop()`` always reaps it."""

    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        *,
        port: int,
        log_path: Path,
        cwd: Path = REPO_ROOT,
    ) -> None:
        self.cwd = cwd
        self.command = list(command)
        self.env = dict(env)
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 30.0) -> None:
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    if client.get("/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        self.stop()
        tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"the server did not become healthy within {timeout:.0f}s:\n{tail}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()  # SIGTERM to the master: graceful shutdown of the workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the session started above, nothing else
            process.wait(timeout=5)


# --- Numbers and tables -----------------------------------------------------------------------
def raise_open_file_limit(wanted: int = 65_536) -> int:
    """Raise this process's open-file limit (children inherit it) towards ``wanted``, within the
    hard limit: wrk needs one descriptor per connection, and the default 1,024 stops it short of
    1,000 connections. Returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(cells)
        )

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, rows)])


def markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, left: Sequence[int] = (0,)
) -> str:
    """A markdown table: the ``left`` columns left-aligned (text), the others right-aligned."""
    align = ["---" if i in left else "---:" for i in range(len(headers))]
    lines = [list(headers), align, *([str(cell) for cell in row] for row in rows)]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)
