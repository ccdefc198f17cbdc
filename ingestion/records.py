"""Typed records that upstream parsers produce and the sync pipeline consumes.

Parsers (``ingestion/sources/<provider>/parser.py``) are pure functions from upstream JSON to
these records. ``None`` on an optional field means "this upstream shape does not carry it"
(the list shape of Shikimori has no description, genres or studios), so the sync leaves the
stored value alone; an empty string or tuple means "the upstream says it is empty".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


class UpstreamParseError(ValueError):
    """The payload does not have the documented shape (the whole payload is unusable)."""

    def __init__(self, upstream: str, message: str) -> None:
        super().__init__(f"{upstream}: {message}")
        self.upstream = upstream
        self.reason = message


# --- Shikimori ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GenreRecord:
    # Legacy genre id (REST); None for GraphQL's genres_v2, whose ids are another numbering
    # (matched by name).
    shikimori_id: int | None
    name: str  # English name, e.g. "Adventure"
    name_ru: str  # e.g. "Приключения"
    kind: str  # "genre" | "theme" | "demographic"


@dataclass(frozen=True)
class StudioRecord:
    shikimori_id: int | None
    name: str


@dataclass(frozen=True)
class RelatedRecord:
    """One edge of Shikimori's franchise graph: this anime's ``kind`` (sequel, prequel,
    side_story...) is the anime ``shikimori_id``."""

    kind: str
    shikimori_id: int


@dataclass(frozen=True)
class AnimeRecord:
    shikimori_id: int
    title: str  # Shikimori "name" (romaji); never empty (falls back to russian, then the id)
    title_ru: str  # "" when null upstream
    kind: str  # Anime.Kind value; "" when unknown/null
    status: str  # "anons" | "ongoing" | "released"; "" when unknown
    score: Decimal  # "9.29" -> Decimal("9.29"); 0 when missing/unparseable
    episodes_total: int  # 0 when unknown
    episodes_aired: int
    aired_on: date | None
    released_on: date | None
    year: int | None  # from aired_on
    season: str  # "winter" | "spring" | "summer" | "fall" from aired_on's month; "" when no date
    poster_url: str  # absolute URL (site-relative paths prefixed with the host); "" if none
    # Detail-only fields: None in the list shape.
    mal_id: int | None = None
    title_en: str | None = None  # english[0] ("" for [] or [null])
    title_ja: str | None = None  # japanese[0]
    synonyms: tuple[str, ...] | None = None  # nulls dropped
    description: str | None = None  # plain text ("" for null); BBCode tags stripped
    duration_minutes: int | None = None
    rating: str | None = None  # none g pg pg_13 r r_plus rx
    franchise: str | None = None  # "" when null
    next_episode_at: datetime | None = None  # UTC
    genres: tuple[GenreRecord, ...] | None = None
    studios: tuple[StudioRecord, ...] | None = None
    # Related anime (GraphQL ``related``): None when the shape does not carry them.
    related: tuple[RelatedRecord, ...] | None = None

    @property
    def is_detail(self) -> bool:
        return self.description is not None


@dataclass(frozen=True)
class CalendarRecord:
    shikimori_id: int
    next_episode: int
    next_episode_at: datetime  # UTC
    duration_seconds: int | None  # Shikimori sends minutes x 60, or null
    anime: AnimeRecord  # list shape


# --- Kodik --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TranslationRecord:
    external_id: str  # Kodik translation id as a string, e.g. "610"
    name: str  # "AniLibria.TV"
    kind: str  # "voice" | "subtitles"


@dataclass(frozen=True)
class KodikEpisode:
    number: int
    link: str  # absolute https URL (protocol-relative links get "https:")
    title: str  # "" when none


@dataclass(frozen=True)
class KodikSeason:
    number: int  # Kodik season number; a movie is season 1 with one episode
    episodes: tuple[KodikEpisode, ...]


@dataclass(frozen=True)
class KodikResult:
    """One material x translation (Kodik returns one result per translation)."""

    material_id: str  # "serial-53973" / "movie-20623": the record's identity
    shikimori_id: int | None  # None when Kodik omits it
    translation: TranslationRecord
    quality: str  # "WEB-DLRip 720p"
    seasons: tuple[KodikSeason, ...]  # movies: one season, episode 1 -> the material's player
    updated_at: datetime | None


@dataclass(frozen=True)
class KodikPage:
    results: tuple[KodikResult, ...]
    next_page: str | None  # full URL (contains the token: never log it)


# --- Stream provider (aniwatch-api compatible) ------------------------------------------------


@dataclass(frozen=True)
class StreamEpisode:
    number: int
    title: str
    episode_id: str  # "steinsgate-3?ep=213"
    is_filler: bool


@dataclass(frozen=True)
class StreamAnime:
    """A search hit of the stream provider: its anime id is what ``Anime.stream_id`` holds."""

    stream_id: str  # "steinsgate-3"
    name: str
    jname: str


@dataclass(frozen=True)
class StreamServer:
    name: str  # "hd-1"
    server_id: int


@dataclass(frozen=True)
class StreamServers:
    episode_id: str
    episode_no: int
    sub: tuple[StreamServer, ...]
    dub: tuple[StreamServer, ...]
    raw: tuple[StreamServer, ...]


@dataclass(frozen=True)
class StreamSource:
    url: str
    type: str  # "hls" | "mp4" | ...
    is_m3u8: bool


@dataclass(frozen=True)
class StreamSubtitle:
    url: str
    lang: str
    default: bool


@dataclass(frozen=True)
class StreamSources:
    headers: dict[str, str]
    sources: tuple[StreamSource, ...]
    subtitles: tuple[StreamSubtitle, ...]
    intro: tuple[int, int]  # (start, end) seconds; (0, 0) when unknown
    outro: tuple[int, int]
    anilist_id: int | None
    mal_id: int | None
