"""The compiled catalog statements (catalog.pages, search, kitsu.sql) answer exactly what
the querysets they were compiled from answer: every filter shape, ordering and cursor step is
requested twice through the API, with CATALOG_COMPILED_SQL on and off, and compared."""

from __future__ import annotations

import random
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db.models import Q

from catalog.models import Anime
from kitsu import sql
from tests.factories import AnimeFactory, GenreFactory, StudioFactory

pytestmark = pytest.mark.django_db

ORDERINGS = ("newest", "score", "popular", "title", "year")


@pytest.fixture
def catalog(db):
    rng = random.Random(7)
    genres = [GenreFactory(name=f"Genre {i}") for i in range(4)]
    studios = [StudioFactory(name=f"Studio {i}") for i in range(3)]
    for i in range(36):
        AnimeFactory(
            title=rng.choice(["Alpha", "Beta", "Gamma"]) + f" {i % 7}",  # ties in every order
            kind=rng.choice(["tv", "movie", "ova"]),
            status=rng.choice(["anons", "ongoing", "released"]),
            year=rng.choice([None, 2001, 2015, 2020, 2024]),
            season=rng.choice(["", "spring", "fall"]),
            score=Decimal(rng.choice(["0", "6.5", "7.25", "8", "9.1"])),
            genres=rng.sample(genres, rng.randint(0, 3)),
            studios=rng.sample(studios, rng.randint(0, 2)),
            state=rng.choice(["published"] * 5 + ["draft"]),
        )
    return genres, studios


def _queries(genres, studios) -> list[str]:
    g, s = genres, studios
    return [
        "",
        "kind=tv",
        "kind=tv&kind=ova",
        "kind=tv&kind=tv",
        "status=ongoing&status=released&season=fall",
        "year=2020",
        "year=2020.0",
        "year_from=2010&year_to=2022",
        "year=99999999",
        "year_from=-5",
        "score_min=7.25",
        "score_min=8.005",
        "score_min=1e30",
        f"genre={g[0].slug}",
        f"genre={g[1].id}",
        f"genre={g[0].slug},{g[2].id}",
        f"genre={g[0].slug},{g[1].slug},{g[2].slug}",
        f"genre=,{g[3].slug.upper()},",
        f"studio={s[0].slug}",
        f"studio={s[1].id}&genre={g[1].slug}&kind=tv&kind=movie&year_from=2001",
        "genre=no-such-genre",
        f"genre={g[0].slug},999999999",
        "studio=no-such-studio",
        "kind=special",
        "year=abc",
    ]


def _get(api, settings, compiled: bool, url: str):
    settings.CATALOG_COMPILED_SQL = compiled
    response = api.get(url)
    return response.status_code, response.json(), response.headers.get("Link")


def test_every_filter_shape_and_ordering_answers_as_the_queryset_does(api, settings, catalog):
    settings.CATALOG_CACHE_SECONDS = 0
    genres, studios = catalog
    sql._CACHE.clear()
    compared = 0
    for query in _queries(genres, studios):
        for ordering in ORDERINGS:
            for page in ("limit=5", "limit=5&offset=3", "limit=100"):
                url = f"/anime?{query}&ordering={ordering}&{page}"
                assert _get(api, settings, True, url) == _get(api, settings, False, url), url
                compared += 1
    assert compared == 25 * 5 * 3
    # ... and every valid shape was served by a compiled statement, not by the fallback
    assert len(sql._CACHE) > 20
    assert all(statement is not None for statement in sql._CACHE.values())


def test_cursor_walks_answer_as_the_queryset_does(api, settings, catalog):
    settings.CATALOG_CACHE_SECONDS = 0
    genres, _ = catalog
    sql._CACHE.clear()
    for query in ("", "kind=tv&kind=ova", f"genre={genres[0].slug}", "score_min=7"):
        for ordering in ("newest", "score", "title"):
            urls = {True: f"/anime?{query}&ordering={ordering}&limit=4&cursor=", False: None}
            urls[False] = urls[True]
            seen = {True: [], False: []}
            for compiled in (True, False):
                url: str | None = urls[compiled]
                while url is not None:
                    status, body, link = _get(api, settings, compiled, url)
                    assert status == 200, (url, body)
                    seen[compiled].append((body, link))
                    nxt = [part for part in (link or "").split(", ") if 'rel="next"' in part]
                    url = nxt[0].split(";")[0].strip("<>") if nxt else None
            assert seen[True] == seen[False], (query, ordering)
            expected = Anime.objects.public()
            if query:
                expected = expected.filter(
                    {
                        "kind=tv&kind=ova": Q(kind__in=["tv", "ova"]),
                        f"genre={genres[0].slug}": Q(genres=genres[0]),
                        "score_min=7": Q(score__gte=7),
                    }[query]
                )
            walked = [item["id"] for body, _ in seen[True] for item in body]
            assert sorted(walked) == sorted(str(i) for i in expected.values_list("id", flat=True))
    assert all(statement is not None for statement in sql._CACHE.values())


def test_each_shape_compiles_once_and_is_bound_after(
    api, settings, catalog, django_assert_num_queries
):
    """The shapes above are served by compiled statements, not by the queryset fallback: a
    statement is cached per shape and the same shape with other values reuses it."""
    settings.CATALOG_CACHE_SECONDS = 0
    genres, _ = catalog
    sql._CACHE.clear()
    api.get(f"/anime?genre={genres[0].slug}&kind=tv&year_from=2001&ordering=score")
    api.get(f"/anime?genre={genres[1].slug}&kind=ova&year_from=2015&ordering=score")
    api.get(
        f"/anime?genre={quote(genres[2].slug)}&kind=movie&year_from=2020&ordering=score&cursor="
    )
    statements = [statement for statement in sql._CACHE.values()]
    # one page shape (the first cursor page has the offset shape) and one slug lookup
    assert len(statements) == 2
    assert all(statement is not None for statement in statements)


def test_a_shape_the_mechanism_cannot_bind_falls_back_to_the_queryset(db):
    """A lookup that transforms its value (icontains wraps it in %...%) is not bindable:
    compiled() refuses it instead of binding the raw value."""
    statement = sql.compiled(
        ("test-icontains",),
        lambda slot: Anime.objects.filter(title__icontains=slot("q", "x")).values_list("id"),
    )
    assert statement is None
    bindable = sql.compiled(
        ("test-exact",),
        lambda slot: Anime.objects.filter(title=slot("q", "x")).values_list("id"),
    )
    assert bindable is not None


@pytest.mark.parametrize(
    "query",
    ["alpha", "alph", "aplha", "beta 3", "gamma 5 alpha", "%%", "a_b", "\\\\", "it's", "al%", "zz"],
)
def test_search_pages_answer_as_the_queryset_does(api, settings, catalog, query):
    settings.CATALOG_CACHE_SECONDS = 0
    sql._CACHE.clear()
    for page in ("limit=5", "limit=5&offset=4", "limit=100"):
        url = f"/search/anime?q={quote(query)}&{page}"
        compiled, plain = _get(api, settings, True, url), _get(api, settings, False, url)
        assert compiled == plain, url
        assert compiled[0] == 200
    assert all(statement is not None for statement in sql._CACHE.values())


def test_client_chosen_shapes_cannot_grow_the_statement_cache(api, settings, catalog, monkeypatch):
    """genre=a / a,b / a,b,c ... and each id/slug mix is a new shape: the cache keeps the most
    recent MAX_STATEMENTS of them and every answer stays right."""
    settings.CATALOG_CACHE_SECONDS = 0
    genres, _ = catalog
    monkeypatch.setattr(sql, "MAX_STATEMENTS", 3)
    sql._CACHE.clear()
    for count in range(1, 5):
        for by_id in (False, True):
            names = [str(g.id) if by_id else g.slug for g in genres[:count]]
            url = f"/anime?genre={','.join(names)}&limit=100"
            expected = Anime.objects.public()
            for genre in genres[:count]:
                expected = expected.filter(genres=genre)
            body = api.get(url).json()
            assert sorted(item["id"] for item in body) == sorted(
                str(i) for i in expected.values_list("id", flat=True)
            ), url
            assert len(sql._CACHE) <= 3
