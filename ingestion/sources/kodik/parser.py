"""Kodik ``/search`` and ``/list`` payloads -> typed records (pure functions).

Kodik answers errors with ``{"error": "..."}``, often with HTTP 200, so the body decides.
A payload that is not an object with a ``results`` array raises ``UpstreamParseError``; a
single result that lacks what a record needs (an id, a player link, a translation) is skipped
so one odd material does not cost the rest of a ``/list`` page.
"""

from __future__ import annotations

from typing import Any

from ingestion.records import (
    KodikEpisode,
    KodikPage,
    KodikResult,
    KodikSeason,
    TranslationRecord,
    UpstreamParseError,
)
from ingestion.sources.json_values import json_datetime, json_int, json_positive_int, json_text

UPSTREAM = "kodik"

_SUBTITLES = "subtitles"
_VOICE = "voice"


def parse_results(payload: object) -> KodikPage:
    """One page of ``/search`` or ``/list`` (only ``/list`` has a ``next_page``)."""
    if not isinstance(payload, dict):
        raise UpstreamParseError(UPSTREAM, f"expected an object, got {_type(payload)}")
    error = payload.get("error")
    if error:
        raise UpstreamParseError(UPSTREAM, str(error))
    items = payload.get("results")
    if not isinstance(items, list):
        raise UpstreamParseError(UPSTREAM, f"results: expected an array, got {_type(items)}")
    results = tuple(
        result for result in (_result(item) for item in items if isinstance(item, dict)) if result
    )
    next_page = payload.get("next_page")
    return KodikPage(
        results=results, next_page=next_page if isinstance(next_page, str) and next_page else None
    )


def _result(item: dict[str, Any]) -> KodikResult | None:
    material_id = json_text(item.get("id"))
    link = _absolute_link(item.get("link"))
    translation = _translation(item.get("translation"))
    if not material_id or not link or translation is None:
        return None
    raw_seasons = item.get("seasons")
    is_movie = material_id.startswith("movie-") or (
        not raw_seasons and item.get("last_episode") is None
    )
    if is_movie:
        seasons: tuple[KodikSeason, ...] = (
            KodikSeason(number=1, episodes=(KodikEpisode(number=1, link=link, title=""),)),
        )
    else:
        # No "seasons" key: the request had no with_episodes flag, not "no episodes".
        seasons = _seasons(raw_seasons)
    return KodikResult(
        material_id=material_id,
        shikimori_id=json_positive_int(item.get("shikimori_id")),
        translation=translation,
        quality=json_text(item.get("quality")),
        seasons=seasons,
        updated_at=json_datetime(item.get("updated_at")),  # "...Z"; no offset means UTC
    )


def _translation(value: object) -> TranslationRecord | None:
    if not isinstance(value, dict):
        return None
    raw_id = value.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or not str(raw_id).strip():
        return None
    # Kodik only has voice-overs and subtitles; anything else is treated as a voice-over.
    kind = _SUBTITLES if value.get("type") == _SUBTITLES else _VOICE
    return TranslationRecord(
        external_id=str(raw_id).strip(), name=json_text(value.get("title")), kind=kind
    )


def _seasons(value: object) -> tuple[KodikSeason, ...]:
    if not isinstance(value, dict):
        return ()
    seasons: list[KodikSeason] = []
    for key, season in value.items():
        number = json_int(key)
        if number is None or not isinstance(season, dict):
            continue
        seasons.append(KodikSeason(number=number, episodes=_episodes(season.get("episodes"))))
    return tuple(sorted(seasons, key=lambda season: season.number))


def _episodes(value: object) -> tuple[KodikEpisode, ...]:
    """``with_episodes`` gives link strings, ``with_episodes_data`` gives objects."""
    if not isinstance(value, dict):
        return ()
    episodes: list[KodikEpisode] = []
    for key, episode in value.items():
        number = json_int(key)
        if number is None:
            continue
        if isinstance(episode, dict):
            link, title = _absolute_link(episode.get("link")), json_text(episode.get("title"))
        else:
            link, title = _absolute_link(episode), ""
        if link:
            episodes.append(KodikEpisode(number=number, link=link, title=title))
    return tuple(sorted(episodes, key=lambda episode: episode.number))


def _absolute_link(value: object) -> str:
    """Player links are protocol-relative (``//kodikplayer.com/...``); the site is HTTPS."""
    link = json_text(value)
    return f"https:{link}" if link.startswith("//") else link


def _type(value: object) -> str:
    return "null" if value is None else type(value).__name__
