"""Upstream sources behind one Protocol per kind, so a dead upstream is replaced by writing
one adapter. ``catalog_source()`` and friends build the configured real clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from ingestion.records import (
    AnimeRecord,
    CalendarRecord,
    GenreRecord,
    KodikPage,
    KodikResult,
    StreamAnime,
    StreamEpisode,
    StreamServers,
    StreamSources,
)


class CatalogSource(Protocol):
    def anime_pages(
        self, *, start_page: int = 1, max_pages: int | None = None, status: str | None = None
    ) -> Iterator[tuple[int, list[AnimeRecord]]]: ...

    def anime_detail(self, shikimori_id: int) -> AnimeRecord: ...

    def anime_by_ids(self, ids: list[int]) -> list[AnimeRecord]: ...

    def genres(self) -> list[GenreRecord]: ...


class ScheduleSource(Protocol):
    def calendar(self) -> list[CalendarRecord]: ...


class EpisodeSource(Protocol):
    def materials(self, shikimori_id: int) -> list[KodikResult]: ...

    def list_pages(self) -> Iterator[KodikPage]: ...


class StreamSource(Protocol):
    def search(self, query: str) -> list[StreamAnime]: ...

    def episodes(self, stream_id: str) -> list[StreamEpisode]: ...

    def servers(self, episode_id: str) -> StreamServers: ...

    def sources(self, episode_id: str, *, server: str, category: str) -> StreamSources: ...


def catalog_source() -> CatalogSource:
    from ingestion.sources.shikimori.client import ShikimoriClient

    return ShikimoriClient.from_settings()


def schedule_source() -> ScheduleSource:
    from ingestion.sources.shikimori.client import ShikimoriClient

    return ShikimoriClient.from_settings()


def episode_source() -> EpisodeSource:
    from ingestion.sources.kodik.client import KodikClient

    return KodikClient.from_settings()


def stream_source() -> StreamSource | None:
    """The configured stream provider, or None when it is off (STREAM_URL unset)."""
    from ingestion.sources.stream.client import StreamClient

    return StreamClient.from_settings()
