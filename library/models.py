"""Users' own data about anime: favorites, watch progress, per-episode history, list status.

Every foreign key to the catalog is PROTECT: deleting an anime can never delete users' data
(audit finding 9). Anime leave the public catalog by being unpublished or soft-deleted; the
rows here stay and reappear when the anime is republished. Deleting a user deletes its rows.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from catalog.models import Anime


class Favorite(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites"
    )
    anime = models.ForeignKey(Anime, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "anime"], name="favorite_user_anime"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="favorite_user_newest")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.anime_id}"


# Watched this far (percent), an episode counts as finished.
COMPLETED_PERCENT = 90.0


class WatchProgress(models.Model):
    """Where the user is in an anime (one row per user and anime: "continue watching")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watch_progress"
    )
    anime = models.ForeignKey(Anime, on_delete=models.PROTECT, related_name="+")
    episode = models.PositiveIntegerField()
    position_seconds = models.PositiveIntegerField(default=0)
    progress_percent = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    last_watched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "anime"], name="progress_user_anime"),
        ]
        indexes = [models.Index(fields=["user", "-last_watched_at"], name="progress_user_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.anime_id} #{self.episode}"


class EpisodeView(models.Model):
    """Per-episode history: which episodes the user watched and how far."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="episode_views"
    )
    anime = models.ForeignKey(Anime, on_delete=models.PROTECT, related_name="+")
    episode = models.PositiveIntegerField()
    position_seconds = models.PositiveIntegerField(default=0)
    progress_percent = models.FloatField(default=0)
    first_watched_at = models.DateTimeField(default=timezone.now)
    last_watched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "anime", "episode"], name="episode_view_user_anime_episode"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.anime_id} #{self.episode}"


class LibraryEntry(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        WATCHING = "watching", "Watching"
        COMPLETED = "completed", "Completed"
        ON_HOLD = "on_hold", "On hold"
        DROPPED = "dropped", "Dropped"
        REWATCHING = "rewatching", "Rewatching"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="library"
    )
    anime = models.ForeignKey(Anime, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    episodes_watched = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "library entries"
        constraints = [
            models.UniqueConstraint(fields=["user", "anime"], name="library_user_anime"),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=1, score__lte=10),
                name="library_score_1_10",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "status", "-updated_at"], name="library_user_status"),
            models.Index(fields=["user", "-updated_at"], name="library_user_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.anime_id} {self.status}"


# --- New-episode notifications and the personal airing calendar (issue 13) -----------------


class NotificationSettings(models.Model):
    """A user's follow settings (no row = the defaults). Kept here, keyed by user, so the
    accounts app stays unaware of notifications."""

    class FollowMode(models.TextChoices):
        DEFAULT = "default", "Favorites and library (watching, planned)"
        FAVORITES = "favorites", "Favorites only"
        WATCHING = "watching", "Library: watching only"
        OFF = "off", "Off"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_settings",
    )
    follow_mode = models.CharField(
        max_length=16, choices=FollowMode.choices, default=FollowMode.DEFAULT
    )
    # The secret of the calendar feed URL (it only opens that feed); null until first issued.
    # Stored as issued: the user must be able to see the subscription URL again.
    calendar_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # The feed's validators: its content digest and when that digest last changed.
    calendar_etag = models.CharField(max_length=64, blank=True, editable=False)
    calendar_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"{self.user_id}: {self.follow_mode}"


class Notification(models.Model):
    """ "Episode N of an anime you follow is out". One per (user, anime, episode), enforced by
    the database: the fan-out inserts with ON CONFLICT DO NOTHING, so re-runs add nothing."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    anime = models.ForeignKey(Anime, on_delete=models.PROTECT, related_name="+")
    episode_number = models.PositiveIntegerField()
    available_at = models.DateTimeField()  # when Kitsu found the episode playable
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "anime", "episode_number"], name="notification_once"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_newest"),
            # The polled unread count reads this small partial index only.
            models.Index(
                fields=["user"],
                name="notification_user_unread",
                condition=models.Q(read_at__isnull=True),
            ),
            models.Index(fields=["created_at"], name="notification_created"),  # the purge
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.anime_id} #{self.episode_number}"


class EpisodeWatermark(models.Model):
    """The highest playable episode number the notification job has handled per anime."""

    anime = models.OneToOneField(
        Anime, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    episode_number = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.anime_id} up to #{self.episode_number}"
