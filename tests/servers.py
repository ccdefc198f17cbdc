"""Real server processes for multi-process tests (gunicorn against the test database)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_url() -> str:
    """DATABASE_URL of the database pytest-django created (test_<name>)."""
    base = settings.DATABASE_URL.split("?", 1)[0].rsplit("/", 1)[0]
    return f"{base}/{connection.settings_dict['NAME']}"


def server_env(**overrides: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_KEY_PREFIX": settings.CACHE_KEY_PREFIX,
        "DB_POOL_MIN": "0",
        "DB_POOL_MAX": "4",
        **overrides,
    }


@contextmanager
def gunicorn(workers: int, log_dir: Path, **env: str) -> Iterator[str]:
    """Start ``gunicorn kitsu.wsgi`` with ``workers`` processes; yield its base URL.

    The access log records the worker pid of every request (``<pid> <status> <path>``)."""
    port = free_port()
    args = [
        *("--workers", str(workers), "--bind", f"127.0.0.1:{port}"),
        *("--access-logfile", str(log_dir / "access.log")),
        *("--access-logformat", "%(p)s %(s)s %(U)s"),
        *("--error-logfile", str(log_dir / "error.log")),
    ]
    with serving(args, port, log_dir, server_env(**env)) as base:
        yield base


@contextmanager
def serving(
    gunicorn_args: list[str],
    port: int,
    log_dir: Path,
    env: dict[str, str],
    health_headers: dict[str, str] | None = None,
) -> Iterator[str]:
    """Run ``gunicorn kitsu.wsgi:application *gunicorn_args`` listening on ``port`` until
    ``/health`` answers; yield its base URL; stop it on exit. Output goes to
    ``log_dir/gunicorn.log`` (unless the args send it elsewhere)."""
    log = (log_dir / "gunicorn.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "kitsu.wsgi:application", *gunicorn_args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/health", headers=health_headers, timeout=1)
                if health.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                logs = "".join(
                    path.read_text()[-3000:]
                    for path in (log_dir / "error.log", log_dir / "gunicorn.log")
                    if path.exists()
                )
                raise RuntimeError(f"gunicorn did not start:\n{logs}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def worker_pids(log_dir: Path, path: str) -> set[str]:
    lines = (log_dir / "access.log").read_text().splitlines()
    return {line.split()[0] for line in lines if line.endswith(f" {path}")}


@contextmanager
def qcluster(
    log_dir: Path, name: str = "qcluster", **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``manage.py qcluster`` in its own process group (so a test can SIGKILL the whole
    cluster: sentinel, pusher, monitor and workers)."""
    log = (log_dir / f"{name}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=server_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        kill_group(process, graceful=True)
        log.close()


def kill_group(process: subprocess.Popen[bytes], *, graceful: bool = False) -> None:
    import signal

    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM if graceful else signal.SIGKILL)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
