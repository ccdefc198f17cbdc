"""Health endpoints, one body format: ``{"status": ..., "checks": {...}}`` (contract A.1)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django_q.models import OrmQ
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from kitsu.api import ErrorDetailOutput, PublicAPIView
from kitsu.errors import envelope

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    # The "shared" alias raises on failure (the default alias deliberately ignores errors).
    shared = caches["shared"]
    key = "health:ping"
    shared.set(key, "1", timeout=10)
    if shared.get(key) != "1":
        raise RuntimeError("cache did not return the value just written")


def _check_queue() -> None:
    OrmQ.objects.exists()  # the django-q2 broker table is reachable


class HealthOutput(serializers.Serializer):
    status = serializers.CharField(help_text='"ok"')
    checks = serializers.DictField(
        child=serializers.CharField(), help_text='check name -> "ok (1.2 ms)" or "error: ..."'
    )


class NotReadyOutput(HealthOutput):
    """The health body plus the error envelope's ``error`` (status "unavailable")."""

    error = ErrorDetailOutput()


_CHECKS = {"database": _check_database, "cache": _check_cache, "queue": _check_queue}


def _timed(name: str, check: Callable[[], None]) -> str:
    """Run one check in a worker thread; its database connection goes back to the pool."""
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # any failure means "not ready"; say which and why
        logger.warning("readiness check %s failed: %s", name, exc)
        return f"error: {exc.__class__.__name__}"
    finally:
        connection.close()  # this thread's own connection (a no-op when it has none)
    return f"ok ({(time.perf_counter() - started) * 1000:.1f} ms)"


def run_checks(timeout: float) -> dict[str, str]:
    """Run every check concurrently and wait at most ``timeout`` seconds for all of them.

    A check still running then (a database or Redis that accepts connections and never
    answers) is reported as ``"error: timeout"``; its thread is left to end on its own bound
    (DB_POOL_TIMEOUT, REDIS_SOCKET_TIMEOUT), so the answer never waits for it."""
    executor = ThreadPoolExecutor(max_workers=len(_CHECKS), thread_name_prefix="readiness")
    try:
        futures = {name: executor.submit(_timed, name, check) for name, check in _CHECKS.items()}
        wait_for(futures.values(), timeout=timeout)
        checks: dict[str, str] = {}
        for name, future in futures.items():
            if future.done():
                checks[name] = future.result()
            else:
                logger.warning("readiness check %s did not finish in %.1f s", name, timeout)
                checks[name] = "error: timeout"
        return checks
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


class LivenessView(PublicAPIView):
    """The process answers. No dependency is touched, so a DB outage does not restart it."""

    @extend_schema(responses=HealthOutput)
    def get(self, request: Request) -> Response:
        return Response(HealthOutput({"status": "ok", "checks": {}}).data)


class ReadinessView(PublicAPIView):
    """Database, cache and job queue reachable; 503 with the envelope when one is not.

    Answers within ``HEALTH_READY_TIMEOUT`` seconds whatever the dependencies do."""

    @extend_schema(responses={200: HealthOutput, 503: NotReadyOutput})
    def get(self, request: Request) -> Response:
        checks = run_checks(settings.HEALTH_READY_TIMEOUT)
        failed = [name for name, result in checks.items() if result.startswith("error")]
        if not failed:
            return Response(HealthOutput({"status": "ok", "checks": checks}).data)
        body = {
            "status": "unavailable",
            "checks": checks,
            **envelope(503, f"Not ready: {', '.join(failed)}", message="Service unavailable"),
        }
        return Response(NotReadyOutput(body).data, status=503)
