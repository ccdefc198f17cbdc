"""Reads behind the schedule, player and parser-admin endpoints. Each returns rows with what
their output serializers touch loaded in bulk (a constant number of queries per request)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from catalog.models import AiringSlot, Anime, Episode, PlaybackSource
from ingestion.models import SyncLogLine, SyncRun


def airing_slots_on(*, day: date) -> QuerySet[AiringSlot]:
    """Public anime airing on ``day`` (UTC), earliest first."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return (
        AiringSlot.objects.filter(
            airs_at__gte=start,
            airs_at__lt=start + timedelta(days=1),
            anime__in=Anime.objects.public(),
        )
        .select_related("anime")
        .order_by("airs_at", "anime__title")
    )


def episode_public_get(*, episode_id: str) -> Episode | None:
    """The episode with its release and anime, if its anime is public. A value that is not a
    UUID (a legacy HiAnime slug: Kitsu does not scrape) is simply unknown."""
    try:
        pk = uuid.UUID(episode_id)
    except ValueError:
        return None
    return (
        Episode.objects.select_related("release__anime")
        .filter(pk=pk, release__anime__in=Anime.objects.public())
        .first()
    )


@dataclass(frozen=True)
class ParserSource:
    id: int
    code: str
    enabled: bool


@dataclass(frozen=True)
class ParserDashboard:
    sources: list[ParserSource]
    anime_external_count: int
    unmapped_anime_count: int
    episodes_external_count: int
    jobs_last_24h: int
    errors_count: int


def parser_dashboard() -> ParserDashboard:
    """The parser admin's counters (contract B.5.2); the last 24 hours for jobs and errors."""
    day_ago = timezone.now() - timedelta(hours=24)
    return ParserDashboard(
        sources=[
            ParserSource(1, "shikimori", bool(settings.SHIKIMORI_URL)),
            ParserSource(2, "kodik", bool(settings.KODIK_TOKEN)),
            ParserSource(3, "stream", bool(settings.STREAM_URL)),
        ],
        anime_external_count=Anime.objects.filter(shikimori_id__isnull=False).count(),
        unmapped_anime_count=Anime.objects.filter(shikimori_id__isnull=True).count(),
        episodes_external_count=PlaybackSource.objects.count(),
        jobs_last_24h=SyncRun.objects.filter(created_at__gte=day_ago).count(),
        errors_count=SyncLogLine.objects.filter(
            level=SyncLogLine.Level.ERROR, created_at__gte=day_ago
        ).count(),
    )


def sync_log_lines(
    *,
    limit: int,
    level: str = "",
    source: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[SyncLogLine]:
    """The newest ``limit`` run-log lines matching the filters."""
    lines = SyncLogLine.objects.all()
    if level:
        lines = lines.filter(level=level.lower())
    if source:
        lines = lines.filter(run__source=source)
    if since is not None:
        lines = lines.filter(created_at__gte=since)
    if until is not None:
        lines = lines.filter(created_at__lte=until)
    return list(lines.order_by("-created_at", "-id")[:limit])
