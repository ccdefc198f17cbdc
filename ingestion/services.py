"""Ingestion's writes: executing sync runs, and the audited parser controls of the admin API
and the Django admin (settings, mode, emergency stop)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_q.tasks import async_task

from accounts.audit import audited
from ingestion import sync
from ingestion.http import UpstreamError
from ingestion.models import ParserSettings, SyncLogLine, SyncRun
from ingestion.runs import ProgressCallback, StopRequested, SyncFailure, run_log, sync_lock
from ingestion.schedules import schedules_ensure

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
SNAPSHOT_FIELDS = (
    "mode",
    "stage_only",
    "autopublish_enabled",
    "enable_autoupdate",
    "update_interval_minutes",
    "dry_run_default",
    *LIST_SETTINGS,
)


def parser_settings_snapshot(row: ParserSettings) -> dict[str, Any]:
    return {name: getattr(row, name) for name in SNAPSHOT_FIELDS}


@contextmanager
def _settings_change(
    request: HttpRequest | None, action: str, reason: str
) -> Iterator[tuple[ParserSettings, dict[str, Any]]]:
    """The settings row, locked, and ``action`` audited with its snapshot before and after
    (plus what the caller puts in the yielded dict)."""
    row = ParserSettings.objects.select_for_update().get(pk=ParserSettings.load().pk)
    with audited(
        request=request,
        action=action,
        entity_type="parser_settings",
        entity_id=str(row.pk),
        snapshot=lambda: parser_settings_snapshot(row),
        reason=reason,
    ) as extra:
        yield row, extra


@transaction.atomic(durable=True)
def parser_settings_update(
    *, request: HttpRequest | None, changes: dict[str, Any], reason: str = ""
) -> ParserSettings:
    """Partial update, audited. ``stage_only`` stays true and ``autopublish_enabled`` false
    (contract B.7: new anime always go through an editor); the interval is clamped to 30..60."""
    with _settings_change(request, "parser_settings.update", reason) as (row, _):
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


@transaction.atomic(durable=True)
def parser_mode_set(*, request: HttpRequest | None, mode: str, reason: str = "") -> ParserSettings:
    """Manual or auto, audited; going back to auto clears an emergency stop."""
    with _settings_change(request, "parser.mode_change", reason) as (row, _):
        row.mode = mode
        if mode == ParserSettings.Mode.AUTO:
            row.emergency_stopped_at = None
        row.save(update_fields=["mode", "emergency_stopped_at", "updated_at"])
    return row


@transaction.atomic(durable=True)
def parser_emergency_stop(*, request: HttpRequest | None, reason: str) -> int:
    """Manual mode, autoupdate off, and every queued or running run told to stop: queued ones
    stop now, running ones at their next page boundary. Audited; returns how many runs were
    told."""
    with _settings_change(request, "parser.emergency_stop", reason) as (row, extra):
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
        extra["runs_told_to_stop"] = told
    logger.warning("emergency stop (%s): %d runs told to stop", reason, told)
    return told


def run_execute(run_id: int, *, progress: ProgressCallback | None = None) -> SyncRun:
    """Execute a run (the one code path of commands, scheduled tasks and queued jobs).

    Idempotent: a finished run is left alone, a run found "running" (its worker died; the job
    was delivered again) is run again from the start, which upserts to the same end state.
    A second run of the same kind and target while one holds the lock is recorded as skipped.
    """
    run = SyncRun.objects.get(pk=run_id)
    if run.status in SyncRun.FINAL:
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
        run.start()
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
        except (SyncFailure, UpstreamError) as exc:
            # An upstream that keeps failing: one line for the operator, the detail in the
            # run log, no traceback (tracebacks are for bugs).
            detail = exc.detail if isinstance(exc, SyncFailure) else ""
            if detail:
                run_log(run, detail, SyncLogLine.Level.ERROR)
            logger.warning("sync #%s failed: %s", run.pk, exc)
            _finish(run, SyncRun.Status.FAILED, str(exc))
        except Exception as exc:
            logger.exception("sync #%s failed", run.pk)
            _finish(run, SyncRun.Status.FAILED, f"{exc.__class__.__name__}: {exc}")
        else:
            _finish(run, SyncRun.Status.SUCCEEDED, "")
    if run.kind != SyncRun.Kind.CATALOG and not run.dry_run:  # issue 13: new-episode check
        transaction.on_commit(lambda: async_task("library.tasks.notify_new_episodes"))
    return run


def _finish(run: SyncRun, status: str, summary: str) -> None:
    run.finish(status, summary)
    run_log(
        run,
        f"{status}: created {run.created}, updated {run.updated}, unchanged {run.unchanged}, "
        f"failed {run.failed}" + (f" ({summary})" if summary else ""),
        SyncLogLine.Level.ERROR if status == SyncRun.Status.FAILED else SyncLogLine.Level.INFO,
    )
