"""Public schedule and player endpoints, served from Kitsu's own data (contract A.11, A.12,
B.4.1-B.4.3). Upstream failures answer 502, timeouts 504, in the envelope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.cache import cached_catalog_read
from catalog.models import Episode
from ingestion import player, selectors
from ingestion.api.serializers import (
    EpisodeFilter,
    EpisodeServersOutput,
    EpisodeSourcesFilter,
    EpisodeSourcesOutput,
    ScheduledAnimeOutput,
    ScheduleFilter,
    ScheduleOutput,
)
from ingestion.http import UpstreamError, UpstreamTimeout
from kitsu.api import PublicAPIView, error_response, filtered
from kitsu.errors import ApiError, NotFound


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
    @extend_schema(parameters=[ScheduleFilter], responses=ScheduleOutput)
    @cached_catalog_read
    def get(self, request: Request) -> Response:
        params = filtered(ScheduleFilter, request, status=400)
        slots = selectors.airing_slots_on(day=params.get("date") or timezone.now().date())
        items = ScheduledAnimeOutput(slots, many=True, context={"now": timezone.now()}).data
        return Response({"data": {"scheduledAnimes": items}})


def _public_episode(episode_id: str) -> Episode:
    episode = selectors.episode_public_get(episode_id=episode_id)
    if episode is None:
        raise NotFound("Episode not found")
    return episode


# Unknown episode (no path parameter, so not derived by the schema class), dead upstream.
_EPISODE_ERRORS = {code: error_response(code) for code in (404, 502, 504)}


class EpisodeServersView(PublicAPIView):
    @extend_schema(
        parameters=[EpisodeFilter], responses={200: EpisodeServersOutput, **_EPISODE_ERRORS}
    )
    def get(self, request: Request) -> Response:
        params = filtered(EpisodeFilter, request, status=400)
        episode = _public_episode(params["animeEpisodeId"])
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
        parameters=[EpisodeSourcesFilter],
        responses={200: EpisodeSourcesOutput, **_EPISODE_ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = filtered(EpisodeSourcesFilter, request, status=400)
        episode = _public_episode(params["animeEpisodeId"])
        with upstream_errors():
            servers = player.episode_servers(episode)
            server = player.pick_server(
                servers, name=params.get("server"), category=params["category"]
            )
            if server is None:
                raise NotFound("No server for this episode")
            data = player.server_sources(
                server, category=server.category, mal_id=episode.release.anime.mal_id
            )
        return Response(EpisodeSourcesOutput({"data": data}).data)
