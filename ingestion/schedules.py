"""Kitsu's django-q2 schedules (syncs and the session purge), created idempotently by name.

They are created by a migration and re-synced by ``manage.py ensure_schedules`` and whenever
the parser settings change; never by a web process at start-up (audit finding 1.2). On
PostgreSQL the scheduler of every qcluster locks the schedule rows, so each slot fires once.
"""

from __future__ import annotations

from typing import Any


def schedule_specs(update_interval_minutes: int) -> dict[str, dict[str, Any]]:
    return {
        "ingestion.catalog_daily": {
            "func": "ingestion.tasks.scheduled_sync",
            "args": "'catalog'",
            "schedule_type": "D",
        },
        "ingestion.calendar_hourly": {
            "func": "ingestion.tasks.scheduled_sync",
            "args": "'calendar'",
            "schedule_type": "H",
        },
        "ingestion.episodes_autoupdate": {
            "func": "ingestion.tasks.scheduled_sync",
            "args": "'episodes','ongoing'",
            "schedule_type": "I",  # every N minutes
            "minutes": update_interval_minutes,
        },
        # Not ingestion's own, but all schedules are kept in one place.
        "accounts.purge_sessions": {
            "func": "accounts.tasks.purge_sessions",
            "args": None,
            "schedule_type": "D",
        },
    }


def schedules_ensure(schedule_model: Any = None, interval: int | None = None) -> int:
    """Create or update every schedule; existing rows keep their next run. Returns how many
    rows were created (0 on a re-run)."""
    if schedule_model is None:
        from django_q.models import Schedule

        from ingestion.services import parser_settings_get

        schedule_model = Schedule
        interval = parser_settings_get().update_interval_minutes
    created = 0
    for name, spec in schedule_specs(interval or 60).items():
        _, was_created = schedule_model.objects.update_or_create(
            name=name, defaults={**spec, "repeats": -1}
        )
        created += int(was_created)
    return created
