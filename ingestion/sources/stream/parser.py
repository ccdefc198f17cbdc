"""aniwatch-api (HiAnime scraper) payloads -> typed records (pure functions).

The API wraps everything as ``{"status": 200, "data": {...}}`` (older builds:
``{"success": true, "data": {...}}``) and errors as ``{"status": 4xx/5xx, "message": "..."}``.
An error envelope, or one without a ``data`` object, raises ``UpstreamParseError`` carrying
the upstream message. Inside ``data``, list entries that lack what a record needs (an
episode id, a server name, a URL) are skipped.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from ingestion.records import (
    StreamAnime,
    StreamEpisode,
    StreamServer,
    StreamServers,
    StreamSource,
    StreamSources,
    StreamSubtitle,
    UpstreamParseError,
)
from ingestion.sources.json_values import json_int, json_positive_int, json_text

UPSTREAM = "stream"

_CATEGORIES = ("sub", "dub", "raw")


def parse_episodes(payload: object) -> list[StreamEpisode]:
    """``/anime/{id}/episodes``."""
    data = _data(payload)
    items = _required_list(data, "episodes")
    episodes: list[StreamEpisode] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        number = json_int(item.get("number"))
        episode_id = json_text(item.get("episodeId"))
        if number is None or not episode_id:
            continue
        episodes.append(
            StreamEpisode(
                number=number,
                title=json_text(item.get("title")),
                episode_id=episode_id,
                is_filler=item.get("isFiller") is True,
            )
        )
    return episodes


def parse_search(payload: object) -> list[StreamAnime]:
    """``/search?q=``: ``data.animes[]`` with ``id``, ``name``, ``jname``."""
    hits = []
    for item in _required_list(_data(payload), "animes"):
        if isinstance(item, dict) and json_text(item.get("id")):
            hits.append(
                StreamAnime(
                    stream_id=json_text(item["id"]),
                    name=json_text(item.get("name")),
                    jname=json_text(item.get("jname")),
                )
            )
    return hits


def parse_servers(payload: object) -> StreamServers:
    """``/episode/servers``: ``episodeNo`` arrives as an int or a string."""
    data = _data(payload)
    episode_id = json_text(data.get("episodeId"))
    if not episode_id:
        raise UpstreamParseError(UPSTREAM, "servers: episodeId is missing")
    episode_no = json_int(data.get("episodeNo"))
    if episode_no is None:
        raise UpstreamParseError(UPSTREAM, "servers: episodeNo is not an integer")
    sub, dub, raw = (_servers(data.get(category)) for category in _CATEGORIES)
    return StreamServers(episode_id=episode_id, episode_no=episode_no, sub=sub, dub=dub, raw=raw)


def parse_sources(payload: object) -> StreamSources:
    """``/episode/sources``: only ``sources`` is required; the rest defaults to "unknown"."""
    data = _data(payload)
    raw_headers = data.get("headers")
    headers = (
        {str(name): value for name, value in raw_headers.items() if isinstance(value, str)}
        if isinstance(raw_headers, dict)
        else {}
    )
    sources = tuple(
        source
        for source in (_source(item) for item in _required_list(data, "sources"))
        if source is not None
    )
    return StreamSources(
        headers=headers,
        sources=sources,
        subtitles=_subtitles(data),
        intro=_span(data.get("intro")),
        outro=_span(data.get("outro")),
        anilist_id=json_positive_int(_first_present(data, "anilistID", "anilistId")),
        mal_id=json_positive_int(_first_present(data, "malID", "malId")),
    )


# --- pieces ----------------------------------------------------------------------------------


def _data(payload: object) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise UpstreamParseError(UPSTREAM, f"expected an object envelope, got {_type(payload)}")
    message = json_text(payload.get("message"))
    status = json_int(payload.get("status"))
    if status is not None and status >= 400:
        raise UpstreamParseError(UPSTREAM, message or f"status {status}")
    if payload.get("success") is False:
        raise UpstreamParseError(UPSTREAM, message or "success is false")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise UpstreamParseError(UPSTREAM, message or "the envelope has no data object")
    return data


def _required_list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise UpstreamParseError(UPSTREAM, f"{key}: expected an array, got {_type(value)}")
    return value


def _servers(value: object) -> tuple[StreamServer, ...]:
    if not isinstance(value, list):
        return ()
    servers: list[StreamServer] = []
    for item in value:
        if not isinstance(item, dict):
            continue
        name = json_text(item.get("serverName"))
        server_id = json_int(item.get("serverId"))
        if name and server_id is not None:
            servers.append(StreamServer(name=name, server_id=server_id))
    return tuple(servers)


def _source(item: object) -> StreamSource | None:
    if not isinstance(item, dict):
        return None
    url = json_text(item.get("url"))
    if not url:
        return None
    kind = json_text(item.get("type"))
    path = urlsplit(url).path.lower()
    is_m3u8 = item.get("isM3U8")
    if not isinstance(is_m3u8, bool):
        is_m3u8 = kind == "hls" or path.endswith(".m3u8")
    if not kind:
        kind = "hls" if is_m3u8 else ("mp4" if path.endswith(".mp4") else "")
    return StreamSource(url=url, type=kind, is_m3u8=is_m3u8)


def _subtitles(data: dict[str, Any]) -> tuple[StreamSubtitle, ...]:
    """``subtitles`` ({url, lang, default}) or, in some builds, ``tracks`` ({file, label, kind,
    default}); a ``tracks`` entry of kind "thumbnails" is the seek-preview sprite, not a
    subtitle."""
    entries = data.get("subtitles")
    if not isinstance(entries, list):
        entries = data.get("tracks")
    if not isinstance(entries, list):
        return ()
    subtitles: list[StreamSubtitle] = []
    for entry in entries:
        if not isinstance(entry, dict) or json_text(entry.get("kind")).lower() == "thumbnails":
            continue
        url = json_text(entry.get("url")) or json_text(entry.get("file"))
        if url:
            lang = json_text(entry.get("lang")) or json_text(entry.get("label"))
            default = entry.get("default") is True
            subtitles.append(StreamSubtitle(url=url, lang=lang, default=default))
    return tuple(subtitles)


def _span(value: object) -> tuple[int, int]:
    """``{"start": 31, "end": 111}`` -> (31, 111); missing or malformed -> (0, 0)."""
    if not isinstance(value, dict):
        return (0, 0)
    start, end = _seconds(value.get("start")), _seconds(value.get("end"))
    if start is None or end is None:
        return (0, 0)
    return (start, end)


def _seconds(value: object) -> int | None:
    number: int | None
    if isinstance(value, float):
        # Fractional seconds are truncated: whole seconds are precise enough for skip buttons.
        number = int(value) if math.isfinite(value) else None
    else:
        number = json_int(value)
    return number if number is not None and number >= 0 else None


def _first_present(data: dict[str, Any], *keys: str) -> object:
    for key in keys:
        if data.get(key) is not None:
            return data[key]
    return None


def _type(value: object) -> str:
    return "null" if value is None else type(value).__name__
