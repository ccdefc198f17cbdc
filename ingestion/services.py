"""Parser settings, sync runs (create, enqueue, execute), locks, emergency stop."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import caches
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_q.tasks import async_task

from accounts.audit import audit_record
from ingestion.models import ParserSettings, SyncLogLine, SyncRun

logger = logging.getLogger(__name__)

INTERVAL_MIN, INTERVAL_MAX = 30, 60  # contract B.7: autoupdate interval clamped to 30..60 min
LIST_SETTINGS = (
    "allowed_translation_types",
    "allowed_translations",
    "allowed_qualities",
    "preferred_translation_priority",
    "preferred_quality_priority",
    "blacklist_titles",
    "blacklist_external_ids",
)


def parser_settings_get() -> ParserSettings:
    settings_row, _ = ParserSettings.objects.get_or_create(pk=1)
    return settings_row


def parser_settings_update(**changes: Any) -> ParserSettings:
    """Partial update. ``stage_only`` stays true and ``autopublish_enabled`` false (contract
    B.7: new anime always go through an editor); the interval is clamped to 30..60."""
    from ingestion.schedules import schedules_ensure

    with transaction.atomic():
        row = ParserSettings.objects.select_for_update().get(pk=parser_settings_get().pk)
        for name, value in changes.items():
            if name in LIST_SETTINGS:
                value = [str(item).strip() for item in value or [] if str(item).strip()]
            if name == "allowed_translation_types":
                value = sorted({"subtitles" if v == "sub" else v for v in value})
            setattr(row, name, value)
        row.stage_only = True
        row.autopublish_enabled = False
        row.update_interval_minutes = min(
            INTERVAL_MAX, max(INTERVAL_MIN, row.update_interval_minutes)
        )
        row.save()
        transaction.on_commit(schedules_ensure)  # the autoupdate interval may have changed
    return row


def parser_mode_set(*, mode: str) -> ParserSettings:
    with transaction.atomic():
        row = ParserSettings.objects.select_for_update().get(pk=parser_settings_get().pk)
        row.mode = mode
        if mode == ParserSettings.Mode.AUTO:
            row.emergency_stopped_at = None
        row.save(update_fields=["mode", "emergency_stopped_at", "updated_at"])
    return row


def emergency_stop(*, reason: str) -> int:
    """Manual mode, autoupdate off, and every queued or running run told to stop: queued ones
    stop now, running ones at their next page boundary. Returns how many runs were told."""
    with transaction.atomic():
        row = ParserSettings.objects.select_for_update().get(pk=parser_settings_get().pk)
        row.mode = ParserSettings.Mode.MANUAL
        row.enable_autoupdate = False
        row.emergency_stopped_at = timezone.now()
        row.save()
        active = SyncRun.objects.filter(status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING])
        told = active.update(stop_requested=True)
        SyncRun.objects.filter(status=SyncRun.Status.QUEUED).update(
            status=SyncRun.Status.STOPPED,
            finished_at=timezone.now(),
            error_summary=f"Emergency stop: {reason}",
        )
    logger.warning("emergency stop (%s): %d runs told to stop", reason, told)
    return told


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
        dry_run = parser_settings_get().dry_run_default
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


def stop_requested(run: SyncRun) -> bool:
    return SyncRun.objects.filter(pk=run.pk, stop_requested=True).exists()


ProgressCallback = Callable[[SyncRun], None]


def run_execute(run_id: int, *, progress: ProgressCallback | None = None) -> SyncRun:
    """Execute a run (the one code path of commands, scheduled tasks and queued jobs).

    Idempotent: a finished run is left alone, a run found "running" (its worker died; the job
    was delivered again) is run again from the start, which upserts to the same end state.
    A second run of the same kind and target while one holds the lock is recorded as skipped.
    """
    from ingestion import sync

    run = SyncRun.objects.get(pk=run_id)
    if run.status in (
        SyncRun.Status.SUCCEEDED,
        SyncRun.Status.FAILED,
        SyncRun.Status.STOPPED,
        SyncRun.Status.SKIPPED,
    ):
        return run
    with sync_lock(f"sync:{run.kind}:{run.target}") as taken:
        if not taken:
            if run.status == SyncRun.Status.QUEUED:  # else: this very run is alive elsewhere
                _finish(
                    run,
                    SyncRun.Status.SKIPPED,
                    "another run of this kind and target holds the lock",
                )
            return run
        # Holding the lock proves any other "running" run of this kind and target is dead
        # (its process was killed: PostgreSQL released its lock with the connection).
        SyncRun.objects.filter(
            kind=run.kind, target=run.target, status=SyncRun.Status.RUNNING
        ).exclude(pk=run.pk).update(
            status=SyncRun.Status.FAILED,
            finished_at=timezone.now(),
            error_summary="interrupted: its process died before it finished",
        )
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRun.Status.RUNNING,
            started_at=timezone.now(),
            created=0,
            updated=0,
            unchanged=0,
            failed=0,
            pages=0,
        )
        run.refresh_from_db()
        run_log(
            run, f"started ({run.trigger}, target {run.target}{', dry run' if run.dry_run else ''})"
        )
        runner = {
            SyncRun.Kind.CATALOG: sync.catalog_sync,
            SyncRun.Kind.CALENDAR: sync.calendar_sync,
            SyncRun.Kind.EPISODES: sync.episodes_sync,
        }[SyncRun.Kind(run.kind)]
        try:
            runner(run, progress=progress)
        except StopRequested:
            _finish(run, SyncRun.Status.STOPPED, "stopped on request at a page boundary")
        except Exception as exc:
            logger.exception("sync #%s failed", run.pk)
            _finish(run, SyncRun.Status.FAILED, f"{exc.__class__.__name__}: {exc}")
        else:
            _finish(run, SyncRun.Status.SUCCEEDED, "")
    return run


def _finish(run: SyncRun, status: str, summary: str) -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.error_summary = summary
    run.save(
        update_fields=[
            "status",
            "finished_at",
            "error_summary",
            "created",
            "updated",
            "unchanged",
            "failed",
            "pages",
        ]
    )
    run_log(
        run,
        f"{status}: created {run.created}, updated {run.updated}, unchanged {run.unchanged}, "
        f"failed {run.failed}" + (f" ({summary})" if summary else ""),
        SyncLogLine.Level.ERROR if status == SyncRun.Status.FAILED else SyncLogLine.Level.INFO,
    )


# --- audited changes from the admin API ---------------------------------------------------


def parser_settings_snapshot(row: ParserSettings) -> dict[str, Any]:
    fields = (
        "mode",
        "stage_only",
        "autopublish_enabled",
        "enable_autoupdate",
        "update_interval_minutes",
        "dry_run_default",
        *LIST_SETTINGS,
    )
    return {name: getattr(row, name) for name in fields}


def parser_settings_change(*, request: HttpRequest, changes: dict[str, Any]) -> ParserSettings:
    with transaction.atomic():
        before = parser_settings_snapshot(parser_settings_get())
        row = parser_settings_update(**changes)
        audit_record(
            request=request,
            action="parser_settings.update",
            entity_type="parser_settings",
            entity_id=str(row.pk),
            before=before,
            after=parser_settings_snapshot(row),
        )
    return row


def parser_mode_change(*, request: HttpRequest, mode: str, reason: str) -> ParserSettings:
    with transaction.atomic():
        before = parser_settings_get().mode
        row = parser_mode_set(mode=mode)
        audit_record(
            request=request,
            action="parser.mode_change",
            entity_type="parser_settings",
            entity_id=str(row.pk),
            before={"mode": before},
            after={"mode": row.mode},
            reason=reason,
        )
    return row


def parser_emergency_stop(*, request: HttpRequest, reason: str) -> int:
    with transaction.atomic():
        told = emergency_stop(reason=reason)
        audit_record(
            request=request,
            action="parser.emergency_stop",
            entity_type="parser_settings",
            entity_id=str(parser_settings_get().pk),
            after={"runs_told_to_stop": told},
            reason=reason,
        )
    return told
