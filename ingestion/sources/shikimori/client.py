"""Shikimori REST client: catalog pages, details, calendar, genres."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from django.conf import settings

from ingestion.http import UpstreamClient, configured_rates
from ingestion.records import AnimeRecord, CalendarRecord, GenreRecord
from ingestion.sources.shikimori import parser

PAGE_SIZE = 50  # Shikimori clamps /animes limit to 1..50


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

    def close(self) -> None:
        self.http.close()

    def _json(self, path: str, params: dict[str, str | int] | None = None) -> object:
        return self.http.get_json(f"/api{path}", params=params)

    def anime_page(self, page: int, *, status: str | None = None) -> tuple[list[AnimeRecord], int]:
        """One list page: its records and how many items the upstream sent (a page is the
        last one when fewer than PAGE_SIZE items came back, whatever the parser kept)."""
        params: dict[str, str | int] = {"page": page, "limit": PAGE_SIZE, "order": "id"}
        if status:
            params["status"] = status
        payload = self._json("/animes", params)
        sent = len(payload) if isinstance(payload, list) else 0
        return self.http.parsed(partial(parser.parse_anime_list, host=self.host), payload), sent

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

    def anime_detail(self, shikimori_id: int) -> AnimeRecord:
        payload = self._json(f"/animes/{shikimori_id}")
        return self.http.parsed(partial(parser.parse_anime_detail, host=self.host), payload)

    def calendar(self) -> list[CalendarRecord]:
        payload = self._json("/calendar")
        return self.http.parsed(partial(parser.parse_calendar, host=self.host), payload)

    def genres(self) -> list[GenreRecord]:
        return self.http.parsed(parser.parse_genres, self._json("/genres"))
