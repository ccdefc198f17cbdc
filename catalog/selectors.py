"""Reads of the public catalog. Each returns rows with their relations loaded in bulk, so a
list costs the same number of queries for 3 rows and for 100 (audit findings 8 and 11)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Value, When

from catalog import documents
from catalog.filters import InvalidFilters, UnknownFilterValue, anime_filters, resolve_slugs
from catalog.models import (
    Anime,
    AnimeDocument,
    Episode,
    Genre,
    PlaybackSource,
    Release,
    normalize_search_text,
    public_anime,
)
from catalog.pages import AnimePage
from kitsu.errors import BadRequest, NotFound
from kitsu.sql import Like, Slots, compiled, like_contains, like_prefix

SEARCH_CONFIG = "simple"  # titles mix romaji, English, Russian and Japanese: no stemming


@dataclass(frozen=True)
class AnimeOrdering:
    order_by: tuple[str, ...]
    # Keyset ordering for cursor pagination; None where the leading key can be NULL.
    cursor: tuple[str, ...] | None


ANIME_ORDERINGS: dict[str, AnimeOrdering] = {
    "newest": AnimeOrdering(("-created_at", "-id"), ("-created_at", "-id")),
    "score": AnimeOrdering(("-score", "-id"), ("-score", "-id")),
    "popular": AnimeOrdering(("-score", "-id"), ("-score", "-id")),
    "title": AnimeOrdering(("title", "id"), ("title", "id")),
    "year": AnimeOrdering((F("year").desc(nulls_last=True), "-id"), None),  # type: ignore[arg-type]
}


def anime_public() -> QuerySet[Anime]:
    return Anime.objects.public()


def anime_ordering(ordering: str) -> AnimeOrdering:
    """The list ordering named ``ordering``; BadRequest naming the parameter when unknown."""
    if ordering not in ANIME_ORDERINGS:
        allowed = ", ".join(ANIME_ORDERINGS)
        raise BadRequest(f"Invalid value for 'ordering': use one of {allowed}")
    return ANIME_ORDERINGS[ordering]


def anime_list(
    *, filters: Mapping[str, object], ordering: str = "newest"
) -> tuple[AnimePage, AnimeOrdering]:
    """Public anime matching the query-string ``filters``, as pages of stored cards
    (``catalog.pages``); raises BadRequest on bad values (an unknown genre or studio id: when
    its page is read)."""
    spec = anime_ordering(ordering)
    try:
        parsed = resolve_slugs(anime_filters(filters)) if filters else {}
    except (InvalidFilters, UnknownFilterValue) as exc:
        raise BadRequest(str(exc)) from exc
    return AnimePage(parsed, spec.order_by), spec


def anime_public_get(*, anime_id: uuid.UUID) -> Anime:
    """One public anime row (no relations loaded); 404 when hidden or unknown."""
    anime = anime_public().filter(pk=anime_id).first()
    if anime is None:
        raise NotFound("Anime not found")
    return anime


def anime_detail_document(*, anime_id: uuid.UUID) -> str:
    """The stored detail JSON of a public anime (catalog.documents); 404 when hidden or unknown."""
    document = documents.detail(anime_id)
    if document is None:
        raise NotFound("Anime not found")
    return document


def _search_words(normalized: str) -> str | None:
    """A raw tsquery for ``normalized``: every word of it (AND), each as itself OR any word of
    the catalog within ``SEARCH_TRIGRAM_THRESHOLD`` trigram similarity of it (typos:
    "freiren" -> frieren). None when the query has no word the parser keeps."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT q.word, w.word FROM unnest(tsvector_to_array(to_tsvector(%s, %s))) AS q(word)"
            " LEFT JOIN catalog_searchword w ON w.word %% q.word",
            [SEARCH_CONFIG, normalized],
        )
        alternatives: dict[str, set[str]] = {}
        for word, similar in cursor.fetchall():
            alternatives.setdefault(word, {word}).update([similar] if similar else [])
    if not alternatives:
        return None

    def lexeme(word: str) -> str:
        return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"

    return " & ".join(
        "(" + " | ".join(lexeme(w) for w in sorted(words)) + ")"
        for _, words in sorted(alternatives.items())
    )


def _ranked(
    base: QuerySet[Anime], *, contains: str, prefix: str, words: str | None
) -> QuerySet[Anime]:
    """``base`` narrowed to search matches and ranked (PostgreSQL). ``contains`` and ``prefix``
    are LIKE patterns, ``words`` a raw tsquery; any of them may be slots (``kitsu.sql``)."""
    substring = Like(F("search_document"), contains)
    matches: QuerySet[Anime]
    if words is not None:
        vector = SearchVector("search_document", config=SEARCH_CONFIG)
        ts_query = SearchQuery(words, config=SEARCH_CONFIG, search_type="raw")
        # Substring first: PostgreSQL stops at the first true operand of the OR when it rechecks
        # a candidate, and the substring is far cheaper than rebuilding its tsvector.
        matches = base.annotate(fts=vector).filter(Q(substring) | Q(fts=ts_query))
    else:
        matches = base.filter(substring)
    ranked = matches.annotate(
        rank=Case(When(substring, then=Value(2)), default=Value(0))
        + Case(When(Like(F("search_document"), prefix), then=Value(1)), default=Value(0))
    )
    return ranked.order_by("-rank", "-score", "id")


def anime_search(*, query: str) -> QuerySet[Anime]:
    """Public anime whose titles match ``query``, most relevant first.

    PostgreSQL: full-text match over every title variant (``simple`` config, so Cyrillic,
    romaji and English tokens all match as typed), where each query word also matches the
    catalog's words within trigram similarity ``SEARCH_TRIGRAM_THRESHOLD`` of it (typos:
    "freiren", "shoubotai"), found in the word table (``SearchWord``, the pg_trgm
    documentation's approach: the trigram work is on short words, not on every candidate's
    whole document); OR a substring hit ("frie", Japanese). Ranked: the whole query as a
    substring first (at the start of the document, i.e. of the main title, before elsewhere),
    then typo and word matches; then by score. The predicates use the GIN indexes on
    ``search_document`` (migration 0002).
    SQLite (embedded mode): substring match on the normalized document, ranked by score.
    """
    normalized = normalize_search_text(query)
    base = anime_public()
    if connection.vendor != "postgresql":
        matches = base.filter(search_document__contains=normalized)
        return matches.order_by("-score", "title", "id")
    return _ranked(
        base,
        contains=like_contains(normalized),
        prefix=like_prefix(normalized),
        words=_search_words(normalized),
    )


def _search_cards_from_queryset(*, query: str, limit: int, offset: int) -> list[str]:
    ranked = anime_search(query=query).values_list("id", flat=True)
    return documents.cards_by_id(list(ranked[offset : offset + limit]))


def anime_search_cards(*, query: str, limit: int, offset: int) -> list[str]:
    """The stored cards of one page of ``anime_search(query=query)``: on PostgreSQL one
    statement per shape (with or without typo words), compiled once (``kitsu.sql``)."""
    if connection.vendor != "postgresql" or not settings.CATALOG_COMPILED_SQL:
        return _search_cards_from_queryset(query=query, limit=limit, offset=offset)
    normalized = normalize_search_text(query)
    values = {
        "contains": like_contains(normalized),
        "prefix": like_prefix(normalized),
        "words": _search_words(normalized),
    }
    with_words = values["words"] is not None

    def build(slot: Slots) -> QuerySet[Any]:
        ranked = _ranked(
            anime_public(),
            contains=slot("contains", ""),
            prefix=slot("prefix", ""),
            words=slot("words", "") if with_words else None,
        )
        return ranked.values_list("id", "rank", "score")  # type: ignore[misc]

    statement = compiled(("search", with_words), build)
    if statement is None:
        return _search_cards_from_queryset(query=query, limit=limit, offset=offset)
    # The page first, then its 20 documents: joined before the LIMIT, PostgreSQL would fetch
    # the document of every match (hundreds for a common word) to keep 20.
    rows = statement.fetch(
        values,
        prefix="SELECT page.id, d.card, d.version FROM (",
        suffix=f""" LIMIT %s OFFSET %s) AS page(id, rank, score)
            LEFT JOIN {AnimeDocument._meta.db_table} d ON d.anime_id = page.id
            ORDER BY page.rank DESC, page.score DESC, page.id""",
        extra=(limit, offset),
    )
    return documents.cards([(anime_id, card, version) for anime_id, card, version in rows])


def _public_release_or_404(release_id: uuid.UUID) -> Release:
    release = Release.objects.filter(id=release_id, anime__in=anime_public()).first()
    if release is None:
        raise NotFound("Release not found")
    return release


def release_list(*, anime_id: uuid.UUID | None = None) -> QuerySet[Release]:
    releases = Release.objects.filter(anime__in=anime_public())
    if anime_id is not None:
        releases = releases.filter(anime_id=anime_id)
    return releases.order_by("-created_at", "-id")


def release_get(*, release_id: uuid.UUID) -> Release:
    return _public_release_or_404(release_id)


def episode_list(
    *, release_id: uuid.UUID | None = None, anime_id: uuid.UUID | None = None
) -> QuerySet[Episode]:
    """Episodes of a public release (by number) or of every release of a public anime."""
    episodes = Episode.objects.all()
    if release_id is not None:
        release = _public_release_or_404(release_id)
        episodes = episodes.filter(release=release)
    if anime_id is not None:
        if not anime_public().filter(id=anime_id).exists():
            raise NotFound("Anime not found")
        episodes = episodes.filter(release__anime_id=anime_id)
    return episodes.order_by("release__ordering", "number")


def genre_list() -> QuerySet[Genre]:
    """Every genre with the number of public anime in it."""
    public = public_anime("anime__")
    return Genre.objects.annotate(anime_count=Count("anime", filter=public)).order_by("name")


# --- Editorial reads (the admin API and the Django admin) ---------------------------------


def with_video(queryset: QuerySet[Anime]) -> QuerySet[Anime]:
    """Annotate ``has_video``: some episode of the anime has a player source."""
    playable = PlaybackSource.objects.filter(episode__release__anime=OuterRef("pk"))
    return queryset.annotate(has_video=Exists(playable))


# The problems rule, twice: per row in Python (anime_problems) and as one database condition
# for lists and filters (PROBLEMS, over a queryset annotated by with_video). Change both.
PROBLEMS = Q(title="") | Q(description="") | Q(poster_url="") | Q(has_video=False)


def anime_problems(anime: Anime, *, has_video: bool) -> list[str]:
    problems = []
    if not anime.title.strip():
        problems.append("Missing title")
    if not anime.description.strip():
        problems.append("Missing description")
    if not anime.poster_url.strip():
        problems.append("Missing poster")
    if not has_video:
        problems.append("No video content available")
        if anime.state == Anime.State.PUBLISHED:
            problems.append("Published anime must have video content")
    return problems


ADMIN_ANIME_SORTS = ("created_at", "title", "updated_at")


def admin_anime_list(
    *,
    sort_by: str = "updated_at",
    descending: bool = True,
    state: str | None = None,
    source: str | None = None,
    has_video: bool | None = None,
) -> QuerySet[Anime]:
    """Every anime not deleted, published or not, annotated with ``has_video``."""
    anime = with_video(Anime.objects.filter(deleted_at__isnull=True))
    if state:
        anime = anime.filter(state=state)
    if source:
        anime = anime.filter(source=source)
    if has_video is not None:
        anime = anime.filter(has_video=has_video)  # type: ignore[misc]
    prefix = "-" if descending else ""
    return anime.order_by(f"{prefix}{sort_by}", f"{prefix}id")


def admin_anime_get(*, anime_id: uuid.UUID) -> Anime:
    """Any anime (deleted ones too) with its genres and ``has_video``; 404 when unknown."""
    anime = with_video(Anime.objects.prefetch_related("genres")).filter(pk=anime_id).first()
    if anime is None:
        raise NotFound("Anime not found")
    return anime
