"""django-q2 tasks of the accounts app (their schedule is defined in ingestion.schedules)."""

from __future__ import annotations

from accounts.services import sessions_purge


def purge_sessions() -> int:
    return sessions_purge()
