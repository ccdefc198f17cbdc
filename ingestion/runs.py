"""Sync runs as the operator sees them: creating and queueing them, their log, the lock that
keeps one run per kind and target, and the stop signal a running sync checks.

Below the sync pipelines and above the models: ``ingestion.sync`` uses this module, and
``ingestion.services`` (which executes runs) uses both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import caches
from django.db import connection, transaction
from django_q.tasks import async_task

from ingestion.models import ParserSettings, SyncLogLine, SyncRun

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[SyncRun], None]


def run_log(run: SyncRun, message: str, level: str = SyncLogLine.Level.INFO) -> None:
    """A log line of ``run``, committed at once so every process sees it while it runs."""
    SyncLogLine.objects.create(run=run, level=level, message=message[:5000])
    logger.log(logging.getLevelName(level.upper()), "sync #%s: %s", run.pk, message)


def run_create(
    *,
    kind: str,
    trigger: str,
    target: str = "all",
    options: dict[str, Any] | None = None,
    dry_run: bool | None = None,
) -> SyncRun:
    if dry_run is None:
        dry_run = ParserSettings.load().dry_run_default
    source = "kodik" if kind == SyncRun.Kind.EPISODES else "shikimori"
    return SyncRun.objects.create(
        kind=kind,
        source=source,
        trigger=trigger,
        target=target,
        options=options or {},
        dry_run=dry_run,
    )


def run_enqueue(**kwargs: Any) -> SyncRun:
    """A durable job: the run row and its django-q2 task (a row in PostgreSQL) are committed
    together, and qcluster picks it up (at-least-once; the run is idempotent)."""
    with transaction.atomic():
        run = run_create(**kwargs)
        transaction.on_commit(
            lambda: async_task("ingestion.tasks.execute_run", run.pk, task_name=f"sync-{run.pk}")
        )
    return run


@contextmanager
def sync_lock(name: str) -> Iterator[bool]:
    """Try to take the lock ``name`` for this process; yields whether it was taken.

    PostgreSQL: a session advisory lock, released on exit or when the process dies. SQLite
    (embedded mode, one process): a cache key.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [f"kitsu:{name}"])
            taken = bool(cursor.fetchone()[0])
        try:
            yield taken
        finally:
            if taken:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"kitsu:{name}"])
        return
    cache = caches["shared"]
    taken = cache.add(f"sync-lock:{name}", 1, timeout=6 * 3600)
    try:
        yield taken
    finally:
        if taken:
            cache.delete(f"sync-lock:{name}")


class StopRequested(Exception):
    pass


class SyncFailure(Exception):
    """A run cannot go on because an upstream keeps failing (after the client's retries):
    ``where`` names the page or call ("catalog page 2"). Its text is the one line the
    operator sees: "shikimori: catalog page 2: answered with malformed JSON (...)"; ``detail``
    goes to the run log. An upstream failure, not a bug: no traceback."""

    def __init__(self, upstream: str, where: str, reason: str, *, detail: str = "") -> None:
        super().__init__(f"{upstream}: {where}: {reason}")
        self.upstream = upstream
        self.where = where
        self.reason = reason
        self.detail = detail


def stop_requested(run: SyncRun) -> bool:
    return SyncRun.objects.filter(pk=run.pk, stop_requested=True).exists()
