"""django-q2 tasks of the library app (their schedules live in ingestion.schedules, the one
owner of schedules). Each calls one service and is idempotent: delivery is at-least-once."""

from __future__ import annotations

from library.notifications import new_episodes_notify, notifications_purge


def notify_new_episodes() -> str:
    """Queued when an episode or calendar sync run finishes, and run on a schedule."""
    return str(new_episodes_notify())


def purge_notifications() -> int:
    return notifications_purge()
