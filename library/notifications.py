"""Writes of issue 13: the new-episode detection job and its fan-out, reading and deleting
notifications, their purge, the follow settings and the calendar token.

Detection never runs inside a sync: the syncs stay as they are, and this job (queued when an
episode or calendar run finishes, and on a schedule) compares each anime's highest playable
episode with a per-anime watermark:

* the first time an anime is seen its watermark is set to what it has now, silently (no
  flood of old episodes on the first run, or for an anime the catalog just imported);
* an anime that is not public advances its watermark silently: hidden anime produce no
  notifications, not even later when republished;
* a public anime above its watermark gets, for each new playable episode number (the newest
  ``MAX_EPISODES_PER_RUN`` at most), one INSERT ... SELECT of a notification per follower,
  and its watermark advanced in the same transaction.

"Playable" means at least one playback source, whichever sync brought it: an episode the
episode sync adds, or the calendar's aired slot (same numbering) once its sources arrive.

Exactly once: the UNIQUE (user, anime, episode_number) constraint and ON CONFLICT DO NOTHING
make a second job, a retried job or a job killed half-way unable to add a second row; the
watermark row is locked while an anime fans out, so a concurrent job waits and then skips it.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from catalog.models import Anime, Episode, PlaybackSource
from kitsu.errors import NotFound
from library.models import EpisodeWatermark, Notification, NotificationSettings
from library.notification_selectors import anime_followers

logger = logging.getLogger(__name__)

# A jump of hundreds of episodes (a long series imported at once) notifies its newest few.
MAX_EPISODES_PER_RUN = 25
PURGE_BATCH = 10_000


# --- detection and fan-out ----------------------------------------------------------------


@dataclass
class DetectionReport:
    anime: int = 0  # anime looked at
    initialised: int = 0  # watermarks created (silently)
    advanced: int = 0  # watermarks moved up
    notifications: int = 0  # rows inserted

    def __str__(self) -> str:
        return (
            f"{self.anime} anime, {self.initialised} watermarks initialised, "
            f"{self.advanced} advanced, {self.notifications} notifications"
        )


def highest_playable_episodes() -> dict[uuid.UUID, int]:
    """Anime id -> its highest episode with at least one playback source.

    Numbers are per anime (Shikimori's and the airing calendar's numbering): the episodes of
    a later release (a Kodik season) continue after the last episode of the earlier ones.
    One aggregate query over episodes, grouped by release.
    """
    playable = Exists(PlaybackSource.objects.filter(episode_id=OuterRef("pk")))
    rows = (
        Episode.objects.annotate(playable=playable)
        .values("release__anime_id", "release__ordering")
        .annotate(last=Max("number"), last_playable=Max("number", filter=Q(playable=True)))
        .order_by("release__anime_id", "release__ordering")
    )
    by_anime: dict[uuid.UUID, list[tuple[int, int | None]]] = defaultdict(list)
    for row in rows:
        by_anime[row["release__anime_id"]].append((row["last"], row["last_playable"]))
    highest: dict[uuid.UUID, int] = {}
    for anime_id, releases in by_anime.items():
        offset = best = 0
        for last, last_playable in releases:
            if last_playable:
                best = max(best, offset + last_playable)
            offset += last
        highest[anime_id] = best
    return highest


def _absolute_numbers(releases: list[tuple[int, list[int], list[int]]]) -> list[int]:
    """``(ordering, episode numbers, playable numbers)`` per release -> the playable episodes'
    numbers in the anime's numbering (a later release continues after the earlier ones)."""
    numbers, offset = [], 0
    for _, episodes, playable in sorted(releases):
        numbers += [offset + n for n in playable]
        offset += max(episodes, default=0)
    return sorted(numbers)


def _playable_numbers(anime_id: uuid.UUID) -> list[int]:
    playable = Exists(PlaybackSource.objects.filter(episode_id=OuterRef("pk")))
    rows = (
        Episode.objects.filter(release__anime_id=anime_id)
        .annotate(playable=playable)
        .values_list("release__ordering", "number", "playable")
    )
    by_release: dict[int, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for ordering, number, is_playable in rows:
        by_release[ordering][0].append(number)
        if is_playable:
            by_release[ordering][1].append(number)
    return _absolute_numbers([(o, e, p) for o, (e, p) in by_release.items()])


def new_episodes_notify(*, now: datetime | None = None) -> DetectionReport:
    """The detection job (see the module docstring). Safe to run concurrently and again."""
    now = now or timezone.now()
    report = DetectionReport()
    highest = highest_playable_episodes()
    watermarks = dict(EpisodeWatermark.objects.values_list("anime_id", "episode_number"))
    public = set(Anime.objects.public().values_list("id", flat=True))
    anime_ids = list(Anime.objects.values_list("id", flat=True))
    report.anime = len(anime_ids)

    unseen = [
        EpisodeWatermark(anime_id=anime_id, episode_number=highest.get(anime_id, 0))
        for anime_id in anime_ids
        if anime_id not in watermarks
    ]
    if unseen:
        with transaction.atomic():
            created = EpisodeWatermark.objects.bulk_create(
                unseen, batch_size=1000, ignore_conflicts=True
            )
        report.initialised = len(created)

    for anime_id, top in highest.items():
        mark = watermarks.get(anime_id)
        if mark is None or top <= mark:
            continue
        if anime_id in public:
            inserted = _fan_out(anime_id=anime_id, top=top, now=now)
            if inserted is None:
                continue  # another job got there first
            report.notifications += inserted
        else:
            with transaction.atomic():
                EpisodeWatermark.objects.filter(anime_id=anime_id, episode_number__lt=top).update(
                    episode_number=top, updated_at=now
                )
        report.advanced += 1
    logger.info("new-episode notifications: %s", report)
    return report


def _fan_out(*, anime_id: uuid.UUID, top: int, now: datetime) -> int | None:
    """Notify every follower of ``anime_id`` of each episode above its watermark up to
    ``top`` and advance the watermark, in one transaction; None when the (locked) watermark
    is already there."""
    with transaction.atomic():
        mark = (
            EpisodeWatermark.objects.select_for_update()
            .filter(anime_id=anime_id)
            .values_list("episode_number", flat=True)
            .first()
        )
        if mark is None or mark >= top:
            return None
        new = [n for n in _playable_numbers(anime_id) if mark < n <= top]
        inserted = 0
        for number in new[-MAX_EPISODES_PER_RUN:]:
            inserted += notifications_insert(anime_id=anime_id, episode_number=number, at=now)
        EpisodeWatermark.objects.filter(anime_id=anime_id).update(
            episode_number=top, updated_at=now
        )
    return inserted


def notifications_insert(*, anime_id: uuid.UUID, episode_number: int, at: datetime) -> int:
    """One ``INSERT ... SELECT`` of a notification per follower (``anime_followers``);
    conflicts with existing rows are skipped. Returns the rows inserted.

    Raw SQL because the ORM has no INSERT ... SELECT, and 100,000 followers must not travel
    to Python and back; the SELECT itself is the ORM's, so the follow rule stays in one place.
    Precondition: inside the caller's transaction.
    """
    followers_sql, followers_params = anime_followers(anime_id=anime_id).query.sql_with_params()
    table = connection.ops.quote_name(Notification._meta.db_table)
    # The table name is the model's, the SELECT is the ORM's, every value is a parameter.
    # WHERE true: SQLite's parser needs a WHERE before ON CONFLICT in an INSERT ... SELECT.
    sql = (
        f"INSERT INTO {table} (user_id, anime_id, episode_number, available_at, created_at) "  # noqa: S608
        f"SELECT followers.user_id, %s, %s, %s, %s FROM ({followers_sql}) followers "
        "WHERE true ON CONFLICT DO NOTHING"
    )
    anime_param = anime_id.hex if connection.vendor == "sqlite" else anime_id
    with connection.cursor() as cursor:
        cursor.execute(sql, [anime_param, episode_number, at, at, *followers_params])
        return max(cursor.rowcount, 0)


def notifications_purge(*, now: datetime | None = None) -> int:
    """Delete notifications older than ``NOTIFICATIONS_RETENTION_DAYS``, in batches (short
    transactions, whatever the backlog). Returns how many were deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.NOTIFICATIONS_RETENTION_DAYS)
    deleted = 0
    while True:
        with transaction.atomic():
            batch = Notification.objects.filter(created_at__lt=cutoff).values("id")[:PURGE_BATCH]
            count, _ = Notification.objects.filter(id__in=batch).delete()
        deleted += count
        if count < PURGE_BATCH:
            return deleted


# --- the user's notifications -------------------------------------------------------------


def notifications_mark_read(
    *, user: User, ids: list[int] | None = None, up_to: datetime | None = None
) -> int:
    """Mark ``ids``, or every notification created at or before ``up_to``, read (those
    already read keep their time). Returns how many changed."""
    with transaction.atomic():
        unread = Notification.objects.filter(user=user, read_at__isnull=True)
        if ids is not None:
            unread = unread.filter(id__in=ids)
        if up_to is not None:
            unread = unread.filter(created_at__lte=up_to)
        return unread.update(read_at=timezone.now())


def notification_delete(*, user: User, notification_id: int) -> None:
    with transaction.atomic():
        deleted, _ = Notification.objects.filter(user=user, id=notification_id).delete()
    if not deleted:
        raise NotFound("Notification not found")


# --- settings and the calendar token ------------------------------------------------------


def _settings_locked(user: User) -> NotificationSettings:
    """The user's settings row, created if missing, locked (caller holds a transaction)."""
    NotificationSettings.objects.get_or_create(user=user)
    return NotificationSettings.objects.select_for_update().get(user=user)


def notification_settings_update(*, user: User, follow_mode: str) -> NotificationSettings:
    with transaction.atomic():
        row = _settings_locked(user)
        row.follow_mode = follow_mode
        row.updated_at = timezone.now()
        row.save(update_fields=["follow_mode", "updated_at"])
    return row


def calendar_token_rotate(*, user: User) -> NotificationSettings:
    """A new calendar token (the first one, or a replacement: the old URL stops working)."""
    with transaction.atomic():
        row = _settings_locked(user)
        row.calendar_token = secrets.token_urlsafe(32)
        row.updated_at = timezone.now()
        row.save(update_fields=["calendar_token", "updated_at"])
    return row


def calendar_revision(*, settings_row: NotificationSettings, digest: str) -> datetime:
    """When the feed with content ``digest`` was first served (its Last-Modified): the stored
    time while the digest is unchanged, now (stored) when it changed."""
    if settings_row.calendar_etag == digest and settings_row.calendar_changed_at is not None:
        return settings_row.calendar_changed_at
    now = timezone.now().replace(microsecond=0)  # HTTP dates have whole seconds
    with transaction.atomic():
        NotificationSettings.objects.filter(user_id=settings_row.user_id).update(
            calendar_etag=digest, calendar_changed_at=now
        )
    settings_row.calendar_etag, settings_row.calendar_changed_at = digest, now
    return now
