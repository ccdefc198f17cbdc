"""The franchise graph (``AnimeRelation``): the sync's write and the public read.

Edges are keyed by Shikimori ids (never by title). The public read shows only public anime on
both ends, with the relation kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from catalog.models import Anime, AnimeRelation

# Reading order of a franchise: the story before, after, around it, then the rest.
KIND_ORDER = [kind.value for kind in AnimeRelation.Kind]


@dataclass(frozen=True)
class RelatedAnime:
    kind: str
    anime: Anime


def relations_set(edges: Mapping[Any, Iterable[tuple[str, int]]]) -> bool:
    """Make each anime's (pk -> (kind, related Shikimori id) pairs) edges exactly these; unknown
    kinds are dropped. Returns whether anything changed. Caller holds the transaction."""
    if not edges:
        return False
    valid = set(AnimeRelation.Kind.values)
    wanted = {
        pk: {(kind, int(target)) for kind, target in pairs if kind in valid}
        for pk, pairs in edges.items()
    }
    current: dict[Any, set[tuple[str, int]]] = {pk: set() for pk in wanted}
    stale: list[int] = []
    for row in AnimeRelation.objects.filter(anime_id__in=list(wanted)):
        pair = (row.kind, row.related_shikimori_id)
        if pair in wanted[row.anime_id]:
            current[row.anime_id].add(pair)
        else:
            stale.append(row.pk)
    new = [
        AnimeRelation(anime_id=pk, kind=kind, related_shikimori_id=target)
        for pk, pairs in wanted.items()
        for kind, target in sorted(pairs - current[pk])
    ]
    if stale:
        AnimeRelation.objects.filter(pk__in=stale).delete()
    AnimeRelation.objects.bulk_create(new, ignore_conflicts=True)
    return bool(stale or new)


def relations_differ(anime: Anime, pairs: Iterable[tuple[str, int]]) -> bool:
    """Would ``relations_set`` change this anime (its ``relations`` prefetched)?"""
    valid = set(AnimeRelation.Kind.values)
    current = {(r.kind, r.related_shikimori_id) for r in anime.relations.all()}
    return current != {(kind, int(target)) for kind, target in pairs if kind in valid}


def anime_related_list(*, anime: Anime) -> list[RelatedAnime]:
    """The public anime related to a (public) anime, in franchise reading order."""
    edges = list(
        AnimeRelation.objects.filter(anime=anime).values_list("kind", "related_shikimori_id")
    )
    targets = {
        a.shikimori_id: a
        for a in Anime.objects.public().filter(shikimori_id__in={t for _, t in edges})
    }
    related = [RelatedAnime(kind, targets[t]) for kind, t in edges if t in targets]
    return sorted(
        related,
        key=lambda r: (
            KIND_ORDER.index(r.kind),
            r.anime.aired_on is None,
            r.anime.aired_on,
            r.anime.shikimori_id,
        ),
    )
