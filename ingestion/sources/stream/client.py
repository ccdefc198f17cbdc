"""Client of an aniwatch-api compatible stream provider, at an operator-configured URL."""

from __future__ import annotations

from django.conf import settings

from ingestion.http import UpstreamClient, configured_rates
from ingestion.records import StreamAnime, StreamEpisode, StreamServers, StreamSources
from ingestion.sources.stream import parser


class StreamClient:
    def __init__(self, http: UpstreamClient) -> None:
        self.http = http

    @classmethod
    def from_settings(cls) -> StreamClient | None:
        if not settings.STREAM_URL:
            return None
        http = UpstreamClient(
            "stream",
            settings.STREAM_URL,
            rates=configured_rates("stream"),
            headers={"Accept": "application/json"},
            retries=1,  # serves players live: fail fast
        )
        return cls(http)

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, params: dict[str, str] | None = None) -> object:
        # httpx joins relative paths onto the base URL's path (/api/v2/hianime).
        return self.http.get_json(path.lstrip("/"), params=params)

    def search(self, query: str) -> list[StreamAnime]:
        """Candidates for mapping an anime (an editor sets ``Anime.stream_id`` from them)."""
        return self.http.parsed(parser.parse_search, self._get("search", {"q": query, "page": "1"}))

    def episodes(self, stream_id: str) -> list[StreamEpisode]:
        return self.http.parsed(parser.parse_episodes, self._get(f"anime/{stream_id}/episodes"))

    def servers(self, episode_id: str) -> StreamServers:
        payload = self._get("episode/servers", {"animeEpisodeId": episode_id})
        return self.http.parsed(parser.parse_servers, payload)

    def sources(self, episode_id: str, *, server: str, category: str) -> StreamSources:
        params = {"animeEpisodeId": episode_id, "server": server, "category": category}
        return self.http.parsed(parser.parse_sources, self._get("episode/sources", params))
