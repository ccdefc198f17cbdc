"""Public schedule and player endpoints, served from Kitsu's own data (contract A.11, A.12,
B.4.1-B.4.3). Upstream failures answer 502, timeouts 504, in the envelope."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.cache import cached_catalog_read
from catalog.models import AiringSlot, Anime, Episode
from ingestion import player
from ingestion.api.serializers import EpisodeServersOutput, EpisodeSourcesOutput, ScheduleOutput
from ingestion.http import UpstreamError, UpstreamTimeout
from kitsu.api import PublicAPIView, error_response
from kitsu.errors import ApiError, BadRequest, NotFound

_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_schedule_date(value: str | None) -> date:
    """``YYYY-MM-DD`` or the frontend's ``M/D/YYYY``; today (UTC) when absent."""
    if not value:
        return timezone.now().date()
    try:
        if match := _US_DATE.match(value.strip()):
            month, day, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadRequest("Invalid value for 'date': use YYYY-MM-DD or M/D/YYYY") from exc


@contextmanager
def upstream_errors() -> Iterator[None]:
    """Never pass an upstream's 401/403/404 through (the frontend logs out on 403)."""
    try:
        yield
    except UpstreamTimeout as exc:
        raise ApiError(
            f"{exc.upstream} timed out", message="Upstream service timed out", status_code=504
        ) from exc
    except UpstreamError as exc:
        raise ApiError(str(exc), message="Upstream service unavailable", status_code=502) from exc


class ScheduleView(PublicAPIView):
    @extend_schema(parameters=[OpenApiParameter("date", str)], responses=ScheduleOutput)
    @cached_catalog_read
    def get(self, request: Request) -> Response:
        day = parse_schedule_date(request.query_params.get("date"))
        start = datetime.combine(day, time.min, tzinfo=UTC)
        slots = (
            AiringSlot.objects.filter(
                airs_at__gte=start,
                airs_at__lt=start + timedelta(days=1),
                anime__in=Anime.objects.public(),
            )
            .select_related("anime")
            .order_by("airs_at", "anime__title")
        )
        now = timezone.now()
        items = [
            {
                "id": str(slot.anime_id),
                "time": slot.airs_at.astimezone(UTC).strftime("%H:%M"),
                "name": slot.anime.title,
                "jname": slot.anime.title_original or slot.anime.title_ja or None,
                "airingTimestamp": int(slot.airs_at.timestamp() * 1000),
                "secondsUntilAiring": max(0, int((slot.airs_at - now).total_seconds())),
                "episode": slot.episode,
            }
            for slot in slots
        ]
        return Response(ScheduleOutput({"data": {"scheduledAnimes": items}}).data)


def _public_episode(request: Request) -> Episode:
    value = request.query_params.get("animeEpisodeId", "")
    try:
        episode_id = uuid.UUID(value)
    except ValueError:
        episode_id = None  # a legacy HiAnime slug: Kitsu does not scrape, so unknown here
    episode = (
        Episode.objects.select_related("release__anime")
        .filter(pk=episode_id, release__anime__in=Anime.objects.public())
        .first()
        if episode_id
        else None
    )
    if episode is None:
        raise NotFound("Episode not found")
    return episode


# Unknown episode (no path parameter, so not derived by the schema class), dead upstream.
_EPISODE_ERRORS = {code: error_response(code) for code in (404, 502, 504)}


class EpisodeServersView(PublicAPIView):
    @extend_schema(
        parameters=[OpenApiParameter("animeEpisodeId", str, required=True)],
        responses={200: EpisodeServersOutput, **_EPISODE_ERRORS},
    )
    def get(self, request: Request) -> Response:
        episode = _public_episode(request)
        with upstream_errors():
            servers = player.episode_servers(episode)
        body = {
            "data": {
                "episodeId": str(episode.pk),
                "episodeNo": str(episode.number),
                **servers.by_category(),
            }
        }
        return Response(EpisodeServersOutput(body).data)


class EpisodeSourcesView(PublicAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("animeEpisodeId", str, required=True),
            OpenApiParameter("server", str),
            OpenApiParameter("category", str, enum=list(player.CATEGORIES)),
        ],
        responses={200: EpisodeSourcesOutput, **_EPISODE_ERRORS},
    )
    def get(self, request: Request) -> Response:
        episode = _public_episode(request)
        category = request.query_params.get("category", "sub")
        if category not in player.CATEGORIES:
            raise BadRequest("Invalid value for 'category': use sub, dub or raw")
        with upstream_errors():
            servers = player.episode_servers(episode)
            server = player.pick_server(
                servers, name=request.query_params.get("server"), category=category
            )
            if server is None:
                raise NotFound("No server for this episode")
            data = player.server_sources(
                server, category=server.category, mal_id=episode.release.anime.mal_id
            )
        return Response(EpisodeSourcesOutput({"data": data}).data)
