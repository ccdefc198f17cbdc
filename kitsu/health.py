"""Health endpoints, one body format: ``{"status": ..., "checks": {...}}`` (contract A.1)."""

from __future__ import annotations

import logging
import time

from django.core.cache import caches
from django.db import connection
from django_q.models import OrmQ
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from kitsu.api import PublicAPIView
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


_CHECKS = {"database": _check_database, "cache": _check_cache, "queue": _check_queue}


class LivenessView(PublicAPIView):
    """The process answers. No dependency is touched, so a DB outage does not restart it."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response({"status": "ok", "checks": {}})


class ReadinessView(PublicAPIView):
    """Database, cache and job queue reachable; 503 with the envelope when one is not."""

    @extend_schema(responses={200: dict, 503: dict})
    def get(self, request: Request) -> Response:
        checks: dict[str, str] = {}
        for name, check in _CHECKS.items():
            started = time.perf_counter()
            try:
                check()
            except Exception as exc:  # any failure means "not ready"; say which and why
                logger.warning("readiness check %s failed: %s", name, exc)
                checks[name] = f"error: {exc.__class__.__name__}"
            else:
                checks[name] = f"ok ({(time.perf_counter() - started) * 1000:.1f} ms)"
        failed = [name for name, result in checks.items() if result.startswith("error")]
        if not failed:
            return Response({"status": "ok", "checks": checks})
        body = {
            "status": "unavailable",
            "checks": checks,
            **envelope(503, f"Not ready: {', '.join(failed)}", message="Service unavailable"),
        }
        return Response(body, status=503)
