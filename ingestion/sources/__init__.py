"""Upstream sources behind one Protocol per kind, so a dead upstream is replaced by writing
one adapter. ``catalog_source()`` and friends return the configured real clients.

Each client (one httpx connection pool) is built once per process, on first use, and closed
at exit or when a setting it was built from changes (tests, ``override_settings``). A forked
child (django-q2 workers) builds its own: a parent's connections are never shared.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.core.signals import setting_changed
from django.dispatch import receiver

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

    def anime_batch(self, shikimori_ids: list[int]) -> list[AnimeRecord]: ...

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


if TYPE_CHECKING:
    from ingestion.sources.kodik.client import KodikClient
    from ingestion.sources.shikimori.client import ShikimoriClient
    from ingestion.sources.stream.client import StreamClient

C = TypeVar("C")
_SETTINGS_PREFIXES = ("SHIKIMORI_", "KODIK_", "STREAM_", "UPSTREAM_")
_lock = threading.Lock()
_clients: dict[str, Any] = {}  # upstream name -> its client (None: not configured)
_owner_pid = os.getpid()


def _shared(name: str, build: Callable[[], C]) -> C:
    global _owner_pid
    with _lock:
        if _owner_pid != os.getpid():
            # Forked: the parent's sockets are not ours to use (nor to close).
            _clients.clear()
            _owner_pid = os.getpid()
        if name not in _clients:
            _clients[name] = build()  # raises (and caches nothing) when misconfigured
        client: C = _clients[name]
        return client


@atexit.register
def close_clients() -> None:
    """Close this process's upstream clients; the next use builds them again."""
    with _lock:
        clients = list(_clients.values()) if _owner_pid == os.getpid() else []
        _clients.clear()
    for client in clients:
        if client is not None:
            client.close()


@receiver(setting_changed)
def _rebuild_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith(_SETTINGS_PREFIXES) or setting == "CACHES":
        close_clients()


def _shikimori() -> ShikimoriClient:
    from ingestion.sources.shikimori.client import ShikimoriClient

    return _shared("shikimori", ShikimoriClient.from_settings)


def catalog_source() -> CatalogSource:
    return _shikimori()


def schedule_source() -> ScheduleSource:
    return _shikimori()


def episode_source() -> EpisodeSource:
    from ingestion.sources.kodik.client import KodikClient

    kodik: KodikClient = _shared("kodik", KodikClient.from_settings)
    return kodik


def stream_source() -> StreamSource | None:
    """The configured stream provider, or None when it is off (STREAM_URL unset)."""
    from ingestion.sources.stream.client import StreamClient

    stream: StreamClient | None = _shared("stream", StreamClient.from_settings)
    return stream
