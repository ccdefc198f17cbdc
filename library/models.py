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
