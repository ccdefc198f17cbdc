"""The anime read model: each anime's card and detail JSON, stored and served as text.

``GET /anime``, ``GET /search/anime`` and ``GET /anime/{id}`` run one query that returns the
page's stored documents (``catalog.models.AnimeDocument``) and join them into the response
body: no model instances and no serializer on the hot path. The documents carry exactly what
``AnimeCardOutput`` / ``AnimeDetailOutput`` produce (``tests/catalog/test_read_model.py``
compares them field by field); those serializers stay the schema's description of the shape.

Consistency does not depend on the writers: triggers clear a document whenever the anime, its
genres, studios, their links or its releases change (migration ``0006_anime_documents``).
A cleared document is rebuilt after the writing transaction commits (``rebuild_stale``, a
bounded batch, scheduled by ``catalog.cache.catalog_changed``) and, if a read gets there first,
within that read (``cards`` / ``detail``). A rebuild stores its result only if the document's
``version`` did not move meanwhile, so a concurrent write is never overwritten by older data.
Which anime are visible is always decided by the live ``catalog_anime`` row, never here.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from catalog.models import Anime, AnimeDocument, Genre, Release, public_anime
from kitsu import sql

logger = logging.getLogger(__name__)

# One row of a page query: (anime id, stored card or None when stale, document version or None
# when the document row is missing).
CardRow = tuple[uuid.UUID, str | None, int | None]


def _blank_as_null(value: str) -> str | None:
    return value or None


def _datetime(value: datetime | None) -> str | None:
    """DRF's ISO 8601 rendering: in the current time zone, ``+00:00`` written as ``Z``."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _score(value: Decimal | float) -> float:
    return float(value)


def card_data(anime: Anime) -> dict[str, Any]:
    """``AnimeCardOutput(anime).data`` (genres prefetched, ordered by name)."""
    return {
        "id": str(anime.id),
        "title": anime.title,
        "title_original": _blank_as_null(anime.title_original),
        "title_ru": _blank_as_null(anime.title_ru),
        "title_en": _blank_as_null(anime.title_en),
        "year": anime.year,
        "season": _blank_as_null(anime.season),
        "status": anime.status,
        "kind": anime.kind,
        "poster": _blank_as_null(anime.poster_url),
        "score": _score(anime.score),
        "episodes_total": anime.episodes_total,
        "episodes_aired": anime.episodes_aired,
        "genres": [
            {
                "id": genre.id,
                "name": genre.name,
                "name_ru": genre.name_ru,
                "slug": genre.slug,
                "kind": genre.kind,
            }
            for genre in anime.genres.all()
        ],
    }


def detail_data(anime: Anime, card: dict[str, Any] | None = None) -> dict[str, Any]:
    """``AnimeDetailOutput(anime).data`` (genres, studios and releases prefetched)."""
    return {
        **(card if card is not None else card_data(anime)),
        "title_ja": _blank_as_null(anime.title_ja),
        "synonyms": anime.synonyms,
        "description": _blank_as_null(anime.description),
        "aired_on": _date(anime.aired_on),
        "released_on": _date(anime.released_on),
        "duration": anime.duration_minutes,
        "rating": anime.rating,
        "franchise": _blank_as_null(anime.franchise),
        "next_episode_at": _datetime(anime.next_episode_at),
        "shikimori_id": anime.shikimori_id,
        "mal_id": anime.mal_id,
        "studios": [
            {"id": studio.id, "name": studio.name, "slug": studio.slug}
            for studio in anime.studios.all()
        ],
        "releases": [
            {
                "id": str(release.id),
                "anime_id": str(release.anime_id),
                "title": release.title,
                "kind": release.kind,
                "year": release.year,
                "status": release.status,
                "ordering": release.ordering,
            }
            for release in anime.releases.all()
        ],
        "created_at": _datetime(anime.created_at),
        "updated_at": _datetime(anime.updated_at),
    }


def _dumps(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()


def build(anime_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    """Card and detail JSON of each anime (4 queries, whatever the number of ids)."""
    anime = Anime.objects.filter(id__in=list(anime_ids)).prefetch_related(
        Prefetch("genres", queryset=Genre.objects.order_by("name")),
        "studios",
        Prefetch("releases", queryset=Release.objects.order_by("ordering")),
    )
    built = {}
    for item in anime:
        card = card_data(item)
        built[item.id] = (_dumps(card), _dumps(detail_data(item, card)))
    return built


# SKIP LOCKED: a document locked by an open write transaction is about to change anyway; the
# reader serves what it built instead of waiting for that commit.
_STORE_PG = (
    "UPDATE catalog_animedocument SET card = %s, detail = %s WHERE anime_id = "
    "(SELECT anime_id FROM catalog_animedocument WHERE anime_id = %s AND version = %s "
    "FOR UPDATE SKIP LOCKED)"
)
_STORE_SQLITE = (
    "UPDATE catalog_animedocument SET card = %s, detail = %s WHERE anime_id = %s AND version = %s"
)


def _store(built: dict[uuid.UUID, tuple[str, str]], versions: dict[uuid.UUID, int | None]) -> None:
    """Save rebuilt documents whose version is still the one read before building them."""
    updates = [
        (card, detail, anime_id, versions[anime_id])
        for anime_id, (card, detail) in built.items()
        if versions.get(anime_id) is not None
    ]
    missing = [anime_id for anime_id in built if versions.get(anime_id) is None]
    if updates:
        params: list[tuple[Any, ...]] = list(updates)
        sql = _STORE_PG
        if connection.vendor != "postgresql":  # SQLite stores UUIDs as 32 hex digits
            sql = _STORE_SQLITE
            params = [(c, d, uuid.UUID(str(a)).hex, v) for c, d, a, v in updates]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
    if missing:  # no document row at all (rows older than the triggers): create it
        AnimeDocument.objects.bulk_create(
            [
                AnimeDocument(anime_id=anime_id, card=built[anime_id][0], detail=built[anime_id][1])
                for anime_id in missing
            ],
            ignore_conflicts=True,
        )


def rebuild(versions: dict[uuid.UUID, int | None]) -> dict[uuid.UUID, tuple[str, str]]:
    """Build and store the documents of ``versions`` (anime id -> version read, or None)."""
    built = build(versions)
    _store(built, versions)
    return built


def card_rows(queryset: QuerySet[Anime]) -> QuerySet[Any]:
    """``queryset`` (filtered and ordered public anime) as CardRow tuples."""
    return queryset.values_list("id", "document__card", "document__version")


def cards(rows: Sequence[CardRow]) -> list[str]:
    """The card JSON of each row, rebuilding (and storing) any stale one."""
    stale = {anime_id: version for anime_id, card, version in rows if card is None}
    fresh = rebuild(stale) if stale else {}
    return [
        card if card is not None else fresh[anime_id][0]
        for anime_id, card, _ in rows
        if card is not None or anime_id in fresh  # gone since the page query: left out
    ]


def cards_by_id(anime_ids: Sequence[uuid.UUID]) -> list[str]:
    """The cards of these public anime, in this order (ranked search results)."""
    if not anime_ids:
        return []
    names = [f"id.{i}" for i in range(len(anime_ids))]
    found = sql.run(
        ("cards-by-id", len(anime_ids)),
        lambda slot: card_rows(
            Anime.objects.filter(
                public_anime(), id__in=[slot(name, anime_ids[0]) for name in names]
            ).order_by()
        ),
        dict(zip(names, anime_ids, strict=True)),
    )
    rows = {_uuid(row[0]): (_uuid(row[0]), row[1], row[2]) for row in found}
    return cards([rows[anime_id] for anime_id in anime_ids if anime_id in rows])


def cards_from_dicts(rows: Sequence[dict[str, Any]]) -> list[str]:
    return cards([(r["id"], r["document__card"], r["document__version"]) for r in rows])


def json_array(documents: Sequence[str]) -> bytes:
    return ("[" + ",".join(documents) + "]").encode()


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def detail(anime_id: uuid.UUID) -> str | None:
    """The detail JSON of a public anime, or None when it is hidden or unknown (1 query)."""
    rows = sql.run(
        ("detail",),
        lambda slot: (
            Anime.objects.filter(public_anime(), id=slot("id", anime_id))
            .order_by()
            .values_list("document__detail", "document__version")
        ),
        {"id": anime_id},
    )
    if not rows:
        return None
    document, version = rows[0]
    if document is not None:
        return document
    built = rebuild({anime_id: version})
    return built[anime_id][1] if anime_id in built else None


def _stale_public(limit: int, after: uuid.UUID | None = None) -> dict[uuid.UUID, int | None]:
    stale = AnimeDocument.objects.filter(card__isnull=True).filter(public_anime("anime__"))
    if after is not None:
        stale = stale.filter(anime_id__gt=after)
    return dict(stale.order_by("anime_id").values_list("anime_id", "version")[:limit])


def rebuild_stale(limit: int) -> int:
    """Rebuild up to ``limit`` cleared documents of public anime; how many were rebuilt."""
    if limit <= 0:
        return 0
    stale = _stale_public(limit)
    if stale:
        rebuild(stale)
    return len(stale)


def rebuild_all(batch_size: int = 500) -> int:
    """Rebuild every cleared document of a public anime (``manage.py rebuild_anime_documents``)."""
    total, after = 0, None
    while stale := _stale_public(batch_size, after):
        rebuild(stale)
        total += len(stale)
        after = max(stale)
    return total
