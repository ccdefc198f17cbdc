"""Shikimori REST and GraphQL payloads -> typed records (pure functions: no ORM, no network).

Strict about shape, lenient about values: a payload that is not the documented container, or
a detail/calendar item without an integer id, raises ``UpstreamParseError`` for the whole
payload; a value that does not parse (a score of ``"n/a"``, a date of ``"2023-13-40"``)
becomes its "unknown" form (0, ``None``, ``""``) so one odd field does not stop a sync.
The list parser skips items without a usable id instead of failing the page.

``season`` follows the calendar month of ``aired_on`` (12, 1, 2 -> winter; 3-5 spring; 6-8
summer; 9-11 fall) and ``year`` is ``aired_on.year`` as is: a title that starts airing in
December 2023 is "winter 2023", not "winter 2024". Simple and predictable beats guessing the
broadcast season.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from ingestion.records import (
    AnimeRecord,
    CalendarRecord,
    GenreRecord,
    RelatedRecord,
    StudioRecord,
    UpstreamParseError,
)
from ingestion.sources.json_values import (
    json_date,
    json_datetime,
    json_int,
    json_positive_int,
    json_text,
)

UPSTREAM = "shikimori"

KINDS = frozenset({"tv", "movie", "ova", "ona", "special", "tv_special", "music", "pv", "cm"})
# Shikimori's episode-length subkinds of TV (a filter value that can leak into payloads).
_TV_SUBKIND = re.compile(r"tv_\d+")
STATUSES = frozenset({"anons", "ongoing", "released"})
RATINGS = frozenset({"none", "g", "pg", "pg_13", "r", "r_plus", "rx"})
# Legacy genres have kind "genre" for everything; these names are demographics.
DEMOGRAPHICS = frozenset({"Shounen", "Seinen", "Shoujo", "Josei", "Kids"})
_GENRE_KINDS = frozenset({"genre", "theme", "demographic"})

# "/assets/globals/missing_original.jpg" (and the _preview/_x96/... variants): no poster.
_MISSING_IMAGE_PREFIX = "/assets/globals/missing"
# Shikimori's server time; only used if a timestamp ever comes without an offset.
_MOSCOW = timezone(timedelta(hours=3))

_SCORE_STEP = Decimal("0.01")
_ZERO_SCORE = Decimal("0.00")
_MAX_SCORE = Decimal(10)

_BBCODE_BREAK = re.compile(r"\[br\]", re.IGNORECASE)
# Any BBCode tag token: [i], [/i], [character=184947], [url=https://…], [spoiler=текст], [*].
# Only lowercase-latin tag names, so prose in brackets ("[Written by MAL Rewrite]", "[1]")
# survives.
_BBCODE_TAG = re.compile(r"\[/?(?:[a-z][a-z0-9_]*|\*)(?:=[^\[\]\n]*)?\]")
_RUNS_OF_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_NEWLINE = re.compile(r"[ \t]+\n")


# --- public API ------------------------------------------------------------------------------


def parse_anime_list(payload: object, *, host: str) -> list[AnimeRecord]:
    """``GET /api/animes``: a JSON array of the short shape. Items without an id are skipped."""
    if not isinstance(payload, list):
        raise UpstreamParseError(UPSTREAM, f"anime list: expected an array, got {_type(payload)}")
    records: list[AnimeRecord] = []
    for item in payload:
        if not isinstance(item, dict):
            continue
        shikimori_id = json_positive_int(item.get("id"))
        if shikimori_id is None:
            continue
        records.append(_short_anime(item, shikimori_id, host))
    return records


def parse_anime_detail(payload: object, *, host: str) -> AnimeRecord:
    """``GET /api/animes/{id}``: the short fields plus every detail-only field."""
    if not isinstance(payload, dict):
        raise UpstreamParseError(
            UPSTREAM, f"anime detail: expected an object, got {_type(payload)}"
        )
    shikimori_id = _required_id(payload, "anime detail")
    short = _short_anime(payload, shikimori_id, host)
    return replace(
        short,
        mal_id=json_positive_int(payload.get("myanimelist_id")) or shikimori_id,
        title_en=_first_text(payload.get("english")),
        title_ja=_first_text(payload.get("japanese")),
        synonyms=_texts(payload.get("synonyms")),
        description=strip_bbcode(json_text(payload.get("description"))),
        duration_minutes=json_positive_int(payload.get("duration")),
        rating=_choice(payload.get("rating"), RATINGS, default="none"),
        franchise=json_text(payload.get("franchise")),
        next_episode_at=_moscow_datetime(payload.get("next_episode_at")),
        genres=tuple(_genres(payload.get("genres"))),
        studios=tuple(_studios(payload.get("studios"))),
    )


RELATION_KINDS = frozenset(
    {
        "adaptation",
        "alternative_setting",
        "alternative_version",
        "character",
        "full_story",
        "other",
        "parent_story",
        "prequel",
        "sequel",
        "side_story",
        "spin_off",
        "summary",
    }
)


def parse_graphql_animes(payload: object, *, host: str) -> list[AnimeRecord]:
    """``POST /api/graphql`` with the ``animes`` query: every item is a full record (list and
    detail fields, genres_v2, studios, related). A GraphQL ``errors`` answer, or one without
    ``data.animes``, is the whole page's failure; items without an id are skipped."""
    if not isinstance(payload, dict):
        raise UpstreamParseError(UPSTREAM, f"graphql: expected an object, got {_type(payload)}")
    errors = payload.get("errors")
    if errors:
        first = errors[0] if isinstance(errors, list) and errors else errors
        message = first.get("message") if isinstance(first, dict) else first
        raise UpstreamParseError(UPSTREAM, f"graphql error: {json_text(message) or errors!r}")
    data = payload.get("data")
    items = data.get("animes") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise UpstreamParseError(UPSTREAM, "graphql: data.animes is not an array")
    records: list[AnimeRecord] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        shikimori_id = json_positive_int(_int_text(item.get("id")))
        if shikimori_id is None:
            continue
        records.append(_graphql_anime(item, shikimori_id, host))
    return records


def _int_text(value: object) -> object:
    """GraphQL ``ID`` values are strings ("52991")."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _graphql_date(value: object) -> object:
    return value.get("date") if isinstance(value, dict) else None


def _graphql_anime(item: dict[str, Any], shikimori_id: int, host: str) -> AnimeRecord:
    short = _short_anime(
        {
            "name": item.get("name"),
            "russian": item.get("russian"),
            "kind": item.get("kind"),
            "status": item.get("status"),
            "score": item.get("score"),
            "episodes": item.get("episodes"),
            "episodes_aired": item.get("episodesAired"),
            "aired_on": _graphql_date(item.get("airedOn")),
            "released_on": _graphql_date(item.get("releasedOn")),
            "image": _graphql_poster(item.get("poster")),
        },
        shikimori_id,
        host,
    )
    return replace(
        short,
        mal_id=json_positive_int(_int_text(item.get("malId"))) or shikimori_id,
        title_en=_first_text(item.get("english")),
        title_ja=_first_text(item.get("japanese")),
        synonyms=_texts(item.get("synonyms")),
        description=strip_bbcode(json_text(item.get("description"))),
        duration_minutes=json_positive_int(item.get("duration")),
        rating=_choice(item.get("rating"), RATINGS, default="none"),
        franchise=json_text(item.get("franchise")),
        next_episode_at=_moscow_datetime(item.get("nextEpisodeAt")),
        # genres_v2 ids are not the legacy ids Kitsu stores: matched by name.
        genres=tuple(
            GenreRecord(None, g.name, g.name_ru, g.kind)
            for g in _genres(
                [
                    {**g, "id": _int_text(g.get("id")), "entry_type": g.get("entryType")}
                    for g in item.get("genres") or []
                    if isinstance(g, dict)
                ]
            )
        ),
        studios=tuple(
            _studios(
                [
                    {**s, "id": _int_text(s.get("id"))}
                    for s in item.get("studios") or []
                    if isinstance(s, dict)
                ]
            )
        ),
        related=_related(item.get("related")),
    )


def _graphql_poster(poster: object) -> object:
    if not isinstance(poster, dict):
        return None
    return poster.get("originalUrl") or poster.get("mainUrl")


def _related(items: object) -> tuple[RelatedRecord, ...] | None:
    """Anime relations only (manga adaptations are not in the catalog), by Shikimori id."""
    if not isinstance(items, list):
        return None
    found: dict[tuple[str, int], RelatedRecord] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("anime"), dict):
            continue
        kind = item.get("relationKind")
        target = json_positive_int(_int_text(item["anime"].get("id")))
        if isinstance(kind, str) and kind in RELATION_KINDS and target is not None:
            found.setdefault((kind, target), RelatedRecord(kind=kind, shikimori_id=target))
    return tuple(found.values())


def parse_calendar(payload: object, *, host: str) -> list[CalendarRecord]:
    """``GET /api/calendar``: every entry must carry an anime id, an episode and a time."""
    if not isinstance(payload, list):
        raise UpstreamParseError(UPSTREAM, f"calendar: expected an array, got {_type(payload)}")
    records: list[CalendarRecord] = []
    for index, entry in enumerate(payload):
        where = f"calendar[{index}]"
        if not isinstance(entry, dict):
            raise UpstreamParseError(UPSTREAM, f"{where}: expected an object, got {_type(entry)}")
        anime = entry.get("anime")
        if not isinstance(anime, dict):
            raise UpstreamParseError(UPSTREAM, f"{where}.anime: expected an object")
        shikimori_id = _required_id(anime, f"{where}.anime")
        next_episode = json_positive_int(entry.get("next_episode"))
        if next_episode is None:
            raise UpstreamParseError(UPSTREAM, f"{where}: next_episode is not a positive integer")
        next_episode_at = _moscow_datetime(entry.get("next_episode_at"))
        if next_episode_at is None:
            raise UpstreamParseError(UPSTREAM, f"{where}: next_episode_at is not an ISO timestamp")
        records.append(
            CalendarRecord(
                shikimori_id=shikimori_id,
                next_episode=next_episode,
                next_episode_at=next_episode_at,
                # Already seconds (minutes x 60); 0 or null both mean "unknown".
                duration_seconds=json_positive_int(entry.get("duration")),
                anime=_short_anime(anime, shikimori_id, host),
            )
        )
    return records


def parse_genres(payload: object) -> list[GenreRecord]:
    """``GET /api/genres``: anime genres only (manga entries and malformed items are dropped)."""
    if not isinstance(payload, list):
        raise UpstreamParseError(UPSTREAM, f"genres: expected an array, got {_type(payload)}")
    return list(_genres(payload))


def strip_bbcode(text: str) -> str:
    """BBCode to plain text: tags go, their inner text stays; ``[br]`` becomes a newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BBCODE_BREAK.sub("\n", text)
    text = _BBCODE_TAG.sub("", text)
    # A removed media tag ("see [image=1] here") leaves doubled spaces behind.
    text = _RUNS_OF_SPACES.sub(" ", text)
    text = _SPACE_BEFORE_NEWLINE.sub("\n", text)
    return text.strip()


# --- records ---------------------------------------------------------------------------------


def _short_anime(item: dict[str, Any], shikimori_id: int, host: str) -> AnimeRecord:
    aired_on = json_date(item.get("aired_on"))
    title = json_text(item.get("name")) or json_text(item.get("russian")) or str(shikimori_id)
    return AnimeRecord(
        shikimori_id=shikimori_id,
        title=title,
        title_ru=json_text(item.get("russian")),
        kind=_kind(item.get("kind")),
        status=_choice(item.get("status"), STATUSES, default=""),
        score=_score(item.get("score")),
        episodes_total=_count(item.get("episodes")),
        episodes_aired=_count(item.get("episodes_aired")),
        aired_on=aired_on,
        released_on=json_date(item.get("released_on")),
        year=aired_on.year if aired_on else None,
        season=_season(aired_on.month) if aired_on else "",
        poster_url=_poster_url(item.get("image"), host),
    )


def _genres(items: object) -> list[GenreRecord]:
    if not isinstance(items, list):
        return []
    records: list[GenreRecord] = []
    for item in items:
        if not isinstance(item, dict) or not _is_anime_genre(item):
            continue
        genre_id = json_positive_int(item.get("id"))
        name = json_text(item.get("name"))
        if genre_id is None or not name:
            continue
        records.append(
            GenreRecord(
                shikimori_id=genre_id,
                name=name,
                name_ru=json_text(item.get("russian")),
                kind=_genre_kind(name, item.get("kind")),
            )
        )
    return records


def _is_anime_genre(item: dict[str, Any]) -> bool:
    if "entry_type" in item:
        return item["entry_type"] == "Anime"
    # The older /api/genres form put the entry type in "kind" ("anime" / "manga").
    kind = item.get("kind")
    if kind in ("anime", "manga"):
        return kind == "anime"
    return True


def _genre_kind(name: str, upstream_kind: object) -> str:
    # genres_v2 already says theme/demographic; the legacy list says "genre" for everything.
    if upstream_kind in _GENRE_KINDS and upstream_kind != "genre":
        return str(upstream_kind)
    return "demographic" if name in DEMOGRAPHICS else "genre"


def _studios(items: object) -> list[StudioRecord]:
    if not isinstance(items, list):
        return []
    records: list[StudioRecord] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        name = json_text(item.get("name")) or json_text(item.get("filtered_name"))
        if name:
            records.append(StudioRecord(shikimori_id=json_positive_int(item.get("id")), name=name))
    return records


# --- values ----------------------------------------------------------------------------------


def _required_id(item: dict[str, Any], where: str) -> int:
    shikimori_id = json_positive_int(item.get("id"))
    if shikimori_id is None:
        raise UpstreamParseError(UPSTREAM, f"{where}: id is not a positive integer")
    return shikimori_id


def _count(value: object) -> int:
    number = json_int(value)
    return number if number is not None and number >= 0 else 0


def _first_text(value: object) -> str:
    """``english``/``japanese`` are one-element arrays (``[null]`` and ``[]`` happen)."""
    if isinstance(value, list):
        return json_text(value[0]) if value else ""
    return json_text(value)


def _texts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(text for text in (json_text(item) for item in value) if text)


def _choice(value: object, allowed: frozenset[str], *, default: str) -> str:
    return value if isinstance(value, str) and value in allowed else default


def _kind(value: object) -> str:
    if isinstance(value, str) and _TV_SUBKIND.fullmatch(value):
        return "tv"
    return _choice(value, KINDS, default="")


def _score(value: object) -> Decimal:
    """``"9.29"`` (or 9.29) -> ``Decimal("9.29")``; anything outside 0..10 or unparseable -> 0."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return _ZERO_SCORE
    try:
        score = Decimal(str(value).strip())
    except InvalidOperation:
        return _ZERO_SCORE
    if not score.is_finite() or not 0 <= score <= _MAX_SCORE:
        return _ZERO_SCORE
    return score.quantize(_SCORE_STEP, rounding=ROUND_HALF_UP)


def _moscow_datetime(value: object) -> datetime | None:
    """``"2025-12-15T05:30:00.000+03:00"`` -> aware UTC datetime; naive values are Moscow time."""
    return json_datetime(value, naive_tz=_MOSCOW)


def _season(month: int) -> str:
    if month in (12, 1, 2):
        return "winter"
    if month <= 5:
        return "spring"
    if month <= 8:
        return "summer"
    return "fall"


def _poster_url(image: object, host: str) -> str:
    # A site-relative path in image.original; some payloads give a bare URL string instead.
    raw = (image.get("original") or image.get("preview")) if isinstance(image, dict) else image
    if not isinstance(raw, str) or not raw.strip():
        return ""
    url = _absolute_url(raw.strip(), host)
    return "" if urlsplit(url).path.startswith(_MISSING_IMAGE_PREFIX) else url


def _absolute_url(url: str, host: str) -> str:
    if url.startswith("//"):
        return f"https:{url}"
    if "://" in url:
        return url
    return f"{host.rstrip('/')}/{url.lstrip('/')}"


def _type(value: object) -> str:
    return "null" if value is None else type(value).__name__
