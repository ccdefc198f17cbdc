"""Outages fail fast and say so: PostgreSQL or Redis down or hanging (docs/deployment.md,
"What an outage looks like").

"Hanging" is a loopback listener that accepts TCP connections and never sends a byte: the
PostgreSQL client waits for the server's first reply, the Redis client for its answer."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from django.conf import settings as django_settings
from django.core.cache import caches

from kitsu.cache import CircuitBreaker, CircuitBreakerRedisCache
from tests.factories import AnimeFactory
from tests.servers import ROOT, free_port, gunicorn, server_env

# The promise of the issue: a client learns about an outage within this many seconds.
FAIL_FAST_SECONDS = 2.0


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP listener on 127.0.0.1 that accepts connections and never answers; yields its
    port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    listener.settimeout(0.05)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)  # held open, never written to

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def _point_caches_at(settings, url: str) -> None:
    settings.CACHES = {
        alias: {**config, "LOCATION": url} for alias, config in settings.CACHES.items()
    }


def _timed_get(client, path: str, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    response = client.get(path, **kwargs)
    return time.perf_counter() - started, response


def _assert_unavailable(response) -> None:
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


# --- The circuit breaker itself ------------------------------------------------------------


def test_breaker_opens_on_failure_and_closes_after_its_window():
    now = [100.0]
    breaker = CircuitBreaker("redis://test", cooldown=10, clock=lambda: now[0])
    assert not breaker.is_open()
    breaker.trip(TimeoutError())
    assert breaker.is_open()
    now[0] += 9.9
    assert breaker.is_open()
    now[0] += 0.2
    assert not breaker.is_open()  # the next call tries Redis again


def test_timeouts_are_short_and_only_the_default_alias_ignores_errors():
    default, shared = django_settings.CACHES["default"], django_settings.CACHES["shared"]
    assert default["BACKEND"] == "kitsu.cache.CircuitBreakerRedisCache"
    assert default["OPTIONS"]["IGNORE_EXCEPTIONS"] is True
    assert not shared["OPTIONS"].get("IGNORE_EXCEPTIONS")
    assert shared["BACKEND"] == "django_redis.cache.RedisCache"
    for config in (default, shared):
        assert config["OPTIONS"]["SOCKET_TIMEOUT"] <= 0.5
        assert config["OPTIONS"]["SOCKET_CONNECT_TIMEOUT"] <= 0.5
    db = django_settings.DATABASES["default"]
    assert db["OPTIONS"]["connect_timeout"] == 2
    assert db["OPTIONS"]["pool"]["timeout"] < FAIL_FAST_SECONDS


# --- Redis hangs (in process) ----------------------------------------------------------------


@pytest.mark.django_db
def test_catalog_reads_pay_one_short_timeout_then_skip_a_hanging_redis(
    api, settings, catalog_cache
):
    AnimeFactory.create_batch(3)
    with silent_server() as port:
        _point_caches_at(settings, f"redis://127.0.0.1:{port}/0")
        cache = caches["default"]
        assert isinstance(cache, CircuitBreakerRedisCache)

        first, response = _timed_get(api, "/anime")
        assert response.status_code == 200
        assert len(response.json()) == 3
        # One socket timeout (0.3 s), not one per cache call (five of them: 5 x 2 s before).
        assert first < 1.0, f"first read took {first:.2f} s"
        assert cache.breaker.is_open()

        started = time.perf_counter()
        for _ in range(10):
            assert api.get("/anime").status_code == 200
        ten_reads = time.perf_counter() - started
        # The breaker is open: no Redis wait at all (before: 10 x 10 s).
        assert ten_reads < 1.0, f"10 reads took {ten_reads:.2f} s"

        # After the window the next read tries Redis again, pays one timeout, reopens.
        real_clock = cache.breaker.clock
        cache.breaker.clock = lambda: real_clock() + settings.CACHE_BREAKER_SECONDS + 1
        retry, response = _timed_get(api, "/anime")
        assert response.status_code == 200
        assert settings.REDIS_SOCKET_TIMEOUT * 0.8 <= retry < 1.0, f"retry took {retry:.2f} s"
        assert cache.breaker.is_open()
        cache.breaker.clock = real_clock


@pytest.mark.django_db
def test_sign_in_fails_closed_and_fast_when_redis_hangs(api, settings):
    with silent_server() as port:
        _point_caches_at(settings, f"redis://127.0.0.1:{port}/0")
        started = time.perf_counter()
        response = api.post(
            "/auth/login", {"email": "a@example.com", "password": "whatever"}, format="json"
        )
        elapsed = time.perf_counter() - started
    _assert_unavailable(response)  # the shared alias raises: no unlimited guessing
    assert elapsed < FAIL_FAST_SECONDS, f"login took {elapsed:.2f} s"


@pytest.mark.django_db
def test_readiness_is_a_fast_503_when_redis_hangs(api, settings):
    with silent_server() as port:
        _point_caches_at(settings, f"redis://127.0.0.1:{port}/0")
        elapsed, response = _timed_get(api, "/health/ready")
    _assert_unavailable(response)
    assert elapsed < FAIL_FAST_SECONDS, f"/health/ready took {elapsed:.2f} s"
    checks = response.json()["checks"]
    assert checks["cache"].startswith("error")
    assert checks["database"].startswith("ok")


# --- PostgreSQL down or hanging (real gunicorn workers) -------------------------------------


def _warm_up(base: str, workers: int) -> None:
    """One catalog request per worker, concurrently: the first request of a worker also pays
    for imports (URLconf, views, psycopg_pool), which would blur the timings below."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for response in pool.map(lambda _: httpx.get(f"{base}/anime", timeout=30), range(workers)):
            _assert_unavailable(response)


@pytest.mark.slow
def test_hanging_database_is_a_fast_503_and_liveness_stays_fast(tmp_path):
    with (
        silent_server() as db_port,
        gunicorn(
            2, tmp_path, DATABASE_URL=f"postgres://postgres@127.0.0.1:{db_port}/kitsu"
        ) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        _warm_up(base, 2)
        elapsed, response = _timed_get(client, "/anime")
        _assert_unavailable(response)
        assert response.headers["Retry-After"]
        assert elapsed < FAIL_FAST_SECONDS, f"/anime took {elapsed:.2f} s"

        elapsed, response = _timed_get(client, "/health/ready")
        _assert_unavailable(response)
        assert elapsed < FAIL_FAST_SECONDS, f"/health/ready took {elapsed:.2f} s"
        checks = response.json()["checks"]
        assert checks["database"].startswith("error")
        assert checks["queue"].startswith("error")
        assert checks["cache"].startswith("ok")

        # One worker busy waiting for the database; the other answers liveness at once.
        with ThreadPoolExecutor(max_workers=1) as pool:
            in_flight = pool.submit(httpx.get, f"{base}/anime", timeout=30)
            time.sleep(0.2)  # let the catalog request reach a worker first
            elapsed, response = _timed_get(httpx, f"{base}/health", timeout=5)
            assert response.status_code == 200
            assert elapsed < 0.5, f"/health took {elapsed:.2f} s"
            _assert_unavailable(in_flight.result())


REFUSED_PROBE = """
import time
from django.test import Client
client = Client()
client.get("/health")  # load the URLconf and the views first
started = time.perf_counter()
response = client.get("/anime")
print(response.status_code, response.json()["error"]["code"], time.perf_counter() - started)
"""


@pytest.mark.slow
def test_refused_database_is_a_fast_503():
    """Nothing listens on the port: the pool keeps failing to connect; the request waits
    DB_POOL_TIMEOUT, not 10 s."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", REFUSED_PROBE],
        cwd=ROOT,
        env=server_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/kitsu"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    status, code, elapsed = result.stdout.split()[-3:]
    assert (status, code) == ("503", "SERVICE_UNAVAILABLE")
    assert float(elapsed) < FAIL_FAST_SECONDS, f"/anime took {elapsed} s"


@pytest.mark.slow
def test_readiness_answers_within_two_seconds_when_database_and_redis_both_hang(tmp_path):
    with (
        silent_server() as db_port,
        silent_server() as redis_port,
        gunicorn(
            2,
            tmp_path,
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{db_port}/kitsu",
            REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        ) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        elapsed, response = _timed_get(client, "/health/ready")
        _assert_unavailable(response)
        assert elapsed < FAIL_FAST_SECONDS, f"/health/ready took {elapsed:.2f} s"
        assert all(check.startswith("error") for check in response.json()["checks"].values())

        # A catalog read: at most one Redis timeout, then the database's bound.
        _warm_up(base, 2)
        elapsed, response = _timed_get(client, "/anime")
        _assert_unavailable(response)
        assert elapsed < FAIL_FAST_SECONDS, f"/anime took {elapsed:.2f} s"
