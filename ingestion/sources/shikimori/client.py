"""Shikimori client: catalog pages and details through GraphQL (50 full anime a request:
titles, synonyms, genres v2, studios, poster, dates, next episode, related), the calendar and
the legacy genre list through REST (GraphQL has no calendar)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from django.conf import settings

from ingestion.http import UpstreamClient, UpstreamError, configured_rates
from ingestion.records import AnimeRecord, CalendarRecord, GenreRecord
from ingestion.sources.shikimori import parser

PAGE_SIZE = 50  # Shikimori clamps the animes limit to 1..50 (REST and GraphQL)

# Every field the sync stores (depth 4 and well under Shikimori's max_complexity 190).
ANIMES_QUERY = """
query($page: PositiveInt, $limit: PositiveInt, $status: AnimeStatusString, $ids: String) {
  animes(page: $page, limit: $limit, order: id, status: $status, ids: $ids) {
    id malId name russian english japanese synonyms kind rating score status
    episodes episodesAired duration franchise description nextEpisodeAt
    airedOn { date } releasedOn { date }
    poster { originalUrl mainUrl }
    genres { id name russian kind entryType }
    studios { id name }
    related { relationKind anime { id } }
  }
}
""".strip()


class ShikimoriClient:
    def __init__(self, http: UpstreamClient, host: str) -> None:
        self.http = http
        self.host = host

    @classmethod
    def from_settings(cls) -> ShikimoriClient:
        http = UpstreamClient(
            "shikimori",
            settings.SHIKIMORI_URL,
            rates=configured_rates("shikimori"),
            headers={"User-Agent": settings.SHIKIMORI_USER_AGENT, "Accept": "application/json"},
        )
        return cls(http, settings.SHIKIMORI_URL)

    @property
    def name(self) -> str:
        return self.http.name

    def close(self) -> None:
        self.http.close()

    def _json(self, path: str, params: dict[str, str | int] | None = None) -> object:
        return self.http.get_json(f"/api{path}", params=params)

    def _animes(self, variables: dict[str, object]) -> tuple[list[AnimeRecord], int]:
        payload = self.http.post_json(
            "/api/graphql", {"query": ANIMES_QUERY, "variables": variables}
        )
        data = payload.get("data") if isinstance(payload, dict) else None
        items = data.get("animes") if isinstance(data, dict) else None
        sent = len(items) if isinstance(items, list) else 0
        records = self.http.parsed(partial(parser.parse_graphql_animes, host=self.host), payload)
        return records, sent

    def anime_page(self, page: int, *, status: str | None = None) -> tuple[list[AnimeRecord], int]:
        """One catalog page of full records (GraphQL), and how many items the upstream sent (a
        page is the last one when fewer than PAGE_SIZE came back, whatever the parser kept)."""
        variables: dict[str, object] = {"page": page, "limit": PAGE_SIZE}
        if status:
            variables["status"] = status
        return self._animes(variables)

    def anime_pages(
        self, *, start_page: int = 1, max_pages: int | None = None, status: str | None = None
    ) -> Iterator[tuple[int, list[AnimeRecord]]]:
        """Pages in id order; stops after a short page (Shikimori sends no total)."""
        page = start_page
        while max_pages is None or page < start_page + max_pages:
            records, sent = self.anime_page(page, status=status)
            yield page, records
            if sent < PAGE_SIZE:
                return
            page += 1

    def anime_batch(self, shikimori_ids: list[int]) -> list[AnimeRecord]:
        """Full records of these anime, PAGE_SIZE per request; unknown ids are left out."""
        records: list[AnimeRecord] = []
        for start in range(0, len(shikimori_ids), PAGE_SIZE):
            chunk = shikimori_ids[start : start + PAGE_SIZE]
            variables = {"page": 1, "limit": PAGE_SIZE, "ids": ",".join(map(str, chunk))}
            records += self._animes(variables)[0]
        return records

    def anime_detail(self, shikimori_id: int) -> AnimeRecord:
        found = self.anime_batch([shikimori_id])
        if not found:
            raise UpstreamError(self.name, f"no anime {shikimori_id}", status=404)
        return found[0]

    def calendar(self) -> list[CalendarRecord]:
        payload = self._json("/calendar")
        return self.http.parsed(partial(parser.parse_calendar, host=self.host), payload)

    def genres(self) -> list[GenreRecord]:
        return self.http.parsed(parser.parse_genres, self._json("/genres"))
