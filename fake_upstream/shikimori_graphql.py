"""Shikimori's GraphQL ``animes`` query (``POST /api/graphql``), executed by graphql-core
against the subset of Shikimori's schema the clients use (field names and types as in
Shikimori's ``app/graphql``; unknown fields fail validation like the real server, with HTTP
200 and ``{"errors": [...]}``).

``animes`` takes ``page`` (default 1), ``limit`` (default 2, at most 50), ``order``, ``ids``,
``excludeIds``, ``status``, ``kind`` and ``search``, and pages in the same order as the REST
list. Posters are absolute URLs; genres are genres_v2 (ids that are not the legacy ids);
``related`` carries Shikimori's relation kinds with the related anime (or manga).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLSchema, build_schema, graphql_sync

from fake_upstream.data import GENRE_BY_ID, STUDIO_BY_ID, FakeAnime, FakeCatalog, _shikimori_ts

MAX_LIMIT = 50
MAX_DEPTH = 5  # Shikimori's max_depth
# genres_v2 ids are their own numbering, not the legacy /api/genres ids.
GENRE_V2_OFFSET = 1000

SDL = """
scalar ISO8601Date
scalar ISO8601DateTime
scalar PositiveInt
scalar AnimeKindString
scalar AnimeStatusString
scalar SeasonString

enum OrderEnum {
  id id_desc ranked kind popularity name aired_on episodes status random
  created_at created_at_desc
}

type IncompleteDate { year: Int month: Int day: Int date: ISO8601Date }
type Poster { id: ID! originalUrl: String! mainUrl: String! main2xUrl: String! previewUrl: String! }
type Genre { id: ID! name: String! russian: String! kind: String! entryType: String! }
type Studio { id: ID! name: String! imageUrl: String }
type Manga { id: ID! name: String! russian: String }
type Related {
  id: ID!
  relationKind: String!
  relationText: String!
  anime: Anime
  manga: Manga
}

type Anime {
  id: ID!
  malId: ID
  name: String!
  russian: String
  licenseNameRu: String
  english: String
  japanese: String
  synonyms: [String!]!
  kind: String
  rating: String
  score: Float
  status: String
  episodes: Int!
  episodesAired: Int!
  duration: Int
  airedOn: IncompleteDate
  releasedOn: IncompleteDate
  url: String!
  season: String
  poster: Poster
  createdAt: ISO8601DateTime
  updatedAt: ISO8601DateTime
  nextEpisodeAt: ISO8601DateTime
  isCensored: Boolean
  franchise: String
  description: String
  descriptionHtml: String
  genres: [Genre!]
  studios: [Studio!]!
  related: [Related!]
}

type Query {
  animes(
    page: PositiveInt = 1
    limit: PositiveInt = 2
    order: OrderEnum = ranked
    kind: AnimeKindString
    status: AnimeStatusString
    season: SeasonString
    ids: String
    excludeIds: String
    search: String
  ): [Anime!]!
  currentUser: String
}
"""

# Shikimori's relation kinds and their (English) texts.
RELATION_TEXT = {
    "sequel": "Sequel",
    "prequel": "Prequel",
    "side_story": "Side Story",
    "parent_story": "Parent Story",
    "summary": "Summary",
    "spin_off": "Spin-off",
    "alternative_version": "Alternative Version",
    "adaptation": "Adaptation",
    "other": "Other",
}
UNKNOWN_RELATED_OFFSET = 900_000  # ids of related anime that are not in the fake catalog


def related_of(catalog: FakeCatalog, anime_id: int) -> list[tuple[str, int | None, int | None]]:
    """The fake's franchise graph: (relation kind, anime id, manga id), deterministic.

    Anime ``10k+1`` and ``10k+2`` are prequel/sequel of each other (when both exist), ``10k+2``
    also has a side story outside the catalog (an id Kitsu does not know) and ``10k+3`` an
    adaptation (a manga, not an anime)."""
    relations: list[tuple[str, int | None, int | None]] = []
    rest = anime_id % 10
    if rest == 1 and catalog.get(anime_id + 1) is not None:
        relations.append(("sequel", anime_id + 1, None))
    if rest == 2 and catalog.get(anime_id - 1) is not None:
        relations.append(("prequel", anime_id - 1, None))
        relations.append(("side_story", UNKNOWN_RELATED_OFFSET + anime_id, None))
    if rest == 3:
        relations.append(("adaptation", None, anime_id))
    return relations


class GraphQLApi:
    def __init__(self) -> None:
        self.schema: GraphQLSchema = build_schema(SDL)

    def execute(
        self,
        catalog: FakeCatalog,
        body: dict[str, Any],
        *,
        host: str,
        view: Callable[[dict[str, str]], list[FakeAnime]],
    ) -> dict[str, Any]:
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            return {"errors": [{"message": "No query string was present"}]}
        if (depth := _depth(query)) > MAX_DEPTH:
            message = f"Query has depth of {depth}, which exceeds max depth of {MAX_DEPTH}"
            return {"errors": [{"message": message}]}
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            return {"errors": [{"message": "variables must be an object"}]}
        now = datetime.now(UTC)

        def animes(info: Any, **args: Any) -> list[dict[str, Any]]:
            page = max(int(args.get("page") or 1), 1)
            limit = min(max(int(args.get("limit") or 2), 1), MAX_LIMIT)
            params = {
                "order": str(args.get("order") or "ranked"),
                "ids": str(args.get("ids") or ""),
                "exclude_ids": str(args.get("excludeIds") or ""),
                "status": str(args.get("status") or ""),
                "kind": str(args.get("kind") or ""),
                "search": str(args.get("search") or ""),
            }
            rows = view(params)
            start = (page - 1) * limit
            return [anime_node(catalog, a, now, host, depth=0) for a in rows[start : start + limit]]

        result = graphql_sync(
            self.schema,
            query,
            root_value={"animes": animes, "currentUser": None},
            variable_values=variables,
            operation_name=body.get("operationName"),
        )
        payload: dict[str, Any] = {}
        if result.errors:
            payload["errors"] = [
                {
                    "message": error.message,
                    "locations": [
                        {"line": loc.line, "column": loc.column} for loc in error.locations or []
                    ],
                    "path": error.path,
                }
                for error in result.errors
            ]
        if result.data is not None:
            payload["data"] = result.data
        return payload


def _depth(query: str) -> int:
    depth = deepest = 0
    for char in query:
        if char == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif char == "}":
            depth -= 1
    return deepest - 1  # the operation's own braces


def _incomplete(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"year": value.year, "month": value.month, "day": value.day, "date": value.isoformat()}


def poster_of(a: FakeAnime, host: str) -> dict[str, Any]:
    digest = hashlib.sha256(f"poster-{a.id}-{a.image_stamp}".encode()).hexdigest()[:32]
    base = f"http://{host}/uploads/poster/animes/{a.id}"
    return {
        "id": str(a.id),
        "originalUrl": f"{base}/{digest}.jpeg",
        "mainUrl": f"{base}/main-{digest}.webp",
        "main2xUrl": f"{base}/main_2x-{digest}.webp",
        "previewUrl": f"{base}/preview-{digest}.webp",
    }


def anime_node(
    catalog: FakeCatalog, a: FakeAnime, now: datetime, host: str, *, depth: int
) -> dict[str, Any]:
    """One ``Anime`` object; nested ``related`` is built only when asked for (a callable)."""
    next_at = a.next_episode_at(now)
    season = ""
    if a.aired_on is not None:
        month = a.aired_on.month
        name = (
            "winter"
            if month in (12, 1, 2)
            else "spring"
            if month <= 5
            else "summer"
            if month <= 8
            else "fall"
        )
        season = f"{name}_{a.aired_on.year}"

    def related(info: Any) -> list[dict[str, Any]]:
        rows = []
        for index, (kind, anime_id, manga_id) in enumerate(related_of(catalog, a.id)):
            target = catalog.get(anime_id) if anime_id is not None else None
            anime: dict[str, Any] | None = None
            if target is not None:
                anime = anime_node(catalog, target, now, host, depth=depth + 1)
            elif anime_id is not None:
                anime = {
                    "id": str(anime_id),
                    "name": f"Unknown {anime_id}",
                    "russian": None,
                    "synonyms": [],
                    "episodes": 0,
                    "episodesAired": 0,
                    "url": f"/animes/{anime_id}",
                    "studios": [],
                }
            rows.append(
                {
                    "id": str(a.id * 100 + index),
                    "relationKind": kind,
                    "relationText": RELATION_TEXT[kind],
                    "anime": anime,
                    "manga": (
                        {"id": str(manga_id), "name": f"{a.name} (manga)", "russian": None}
                        if manga_id is not None
                        else None
                    ),
                }
            )
        return rows

    return {
        "id": str(a.id),
        "malId": str(a.id),
        "name": a.name,
        "russian": a.russian,
        "licenseNameRu": None,
        "english": a.english,
        "japanese": a.japanese,
        "synonyms": list(a.synonyms),
        "kind": a.kind,
        "rating": a.rating,
        "score": float(a.score),
        "status": a.status,
        "episodes": a.episodes,
        "episodesAired": a.episodes_aired,
        "duration": a.duration,
        "airedOn": _incomplete(a.aired_on),
        "releasedOn": _incomplete(a.released_on),
        "url": f"/animes/{a.id}-{a.slug}",
        "season": season or None,
        "poster": poster_of(a, host),
        "createdAt": _shikimori_ts(a.updated_at),
        "updatedAt": _shikimori_ts(a.updated_at),
        "nextEpisodeAt": _shikimori_ts(next_at) if next_at else None,
        "isCensored": False,
        "franchise": a.franchise,
        "description": a.description,
        "descriptionHtml": f'<div class="b-text_with_paragraphs">{a.description or ""}</div>',
        "genres": [
            {
                "id": str(GENRE_V2_OFFSET + gid),
                "name": GENRE_BY_ID[gid][1],
                "russian": GENRE_BY_ID[gid][2],
                "kind": "genre",
                "entryType": "Anime",
            }
            for gid in a.genre_ids
        ],
        "studios": [
            {
                "id": str(sid),
                "name": STUDIO_BY_ID[sid][1],
                "imageUrl": f"http://{host}/system/studios/original/{sid}.png",
            }
            for sid in a.studio_ids
        ],
        "related": related,
    }
