"""Kitsu's django-q2 schedules (syncs, the session purge, the new-episode notification job
and the notification purge), created idempotently by name.

This module is their one owner: ``schedules_ensure`` runs after every ``migrate``
(post_migrate), by ``manage.py ensure_schedules`` and whenever the parser settings change;
never in a web process at start-up (audit finding 1.2). On
PostgreSQL the scheduler of every qcluster locks the schedule rows, so each slot fires once.
"""

from __future__ import annotations

from typing import Any

from django_q.models import Schedule

from ingestion.models import ParserSettings


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
        "library.notify_new_episodes": {  # also queued after every episode/calendar run
            "func": "library.tasks.notify_new_episodes",
            "args": None,
            "schedule_type": "I",
            "minutes": 15,
        },
        "library.purge_notifications": {
            "func": "library.tasks.purge_notifications",
            "args": None,
            "schedule_type": "D",
        },
        "accounts.purge_sessions": {
            "func": "accounts.tasks.purge_sessions",
            "args": None,
            "schedule_type": "D",
        },
    }


def schedules_ensure() -> int:
    """Create or update every schedule; existing rows keep their next run. Returns how many
    rows were created (0 on a re-run)."""
    interval = ParserSettings.load().update_interval_minutes
    created = 0
    for name, spec in schedule_specs(interval).items():
        _, was_created = Schedule.objects.update_or_create(
            name=name, defaults={**spec, "repeats": -1}
        )
        created += int(was_created)
    return created
