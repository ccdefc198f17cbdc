"""Kodik API client: player links per translation, by Shikimori id (and /list paging)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings

from ingestion.http import UpstreamClient, UpstreamError, configured_rates
from ingestion.records import KodikPage, KodikResult
from ingestion.sources.kodik import parser


class KodikClient:
    def __init__(self, http: UpstreamClient, token: str, *, method: str = "GET") -> None:
        self.http = http
        self.token = token
        self.method = method

    @classmethod
    def from_settings(cls) -> KodikClient:
        if not settings.KODIK_TOKEN:
            raise UpstreamError("kodik", "KODIK_TOKEN is not configured")
        http = UpstreamClient(
            "kodik",
            settings.KODIK_URL,
            rates=configured_rates("kodik"),
            headers={"Accept": "application/json"},
        )
        return cls(http, settings.KODIK_TOKEN)

    def close(self) -> None:
        self.http.close()

    def _page(self, url: str, params: dict[str, Any] | None) -> KodikPage:
        payload = self.http.get_json(url, params=params, method=self.method)
        # Kodik answers {"error": ...} (bad token, bad params) even with HTTP 200: the parser
        # turns that into the upstream error.
        return self.http.parsed(parser.parse_results, payload)

    def materials(self, shikimori_id: int) -> list[KodikResult]:
        """Every material x translation Kodik has for this anime, with episode links."""
        params = {
            "token": self.token,
            "shikimori_id": shikimori_id,
            "with_episodes_data": "true",
            "limit": 100,
        }
        return list(self._page("/search", params).results)

    def list_pages(
        self, *, limit: int = 100, types: str = "anime,anime-serial"
    ) -> Iterator[KodikPage]:
        """Recently updated materials, newest first, following ``next_page``."""
        page = self._page(
            "/list",
            {
                "token": self.token,
                "limit": limit,
                "types": types,
                "sort": "updated_at",
                "with_episodes_data": "true",
            },
        )
        yield page
        while page.next_page:
            page = self._page(page.next_page, None)  # a full URL that carries the token
            yield page
