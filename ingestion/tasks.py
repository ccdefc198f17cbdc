"""django-q2 tasks. They take ids and call one service; qcluster runs them, never a web
process. Delivery is at-least-once, and every task is idempotent (see run_execute)."""

from __future__ import annotations

from ingestion.models import ParserSettings, SyncRun
from ingestion.runs import run_create
from ingestion.services import run_execute


def execute_run(run_id: int) -> str:
    """A run queued by the admin, the admin API or a command's ``--queue``."""
    return run_execute(run_id).status


def scheduled_sync(kind: str, target: str = "all") -> str:
    """What the schedules call. Scheduled syncs run only in auto mode (an emergency stop
    switches to manual); the episode autoupdate also needs ``enable_autoupdate``."""
    settings_row = ParserSettings.load()
    if settings_row.mode != ParserSettings.Mode.AUTO:
        return "skipped: manual mode"
    if kind == SyncRun.Kind.EPISODES and not settings_row.enable_autoupdate:
        return "skipped: autoupdate is off"
    run = run_create(kind=kind, trigger=SyncRun.Trigger.SCHEDULE, target=target)
    return run_execute(run.pk).status
