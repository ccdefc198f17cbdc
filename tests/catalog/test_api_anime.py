from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Anime
from tests.factories import AnimeFactory, GenreFactory, ReleaseFactory, StudioFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    return [item["id"] for item in response.json()]


def test_list_shape_is_the_contract_card(api):
    genre = GenreFactory(name="Adventure")
    anime = AnimeFactory(
        title="Frieren",
        title_original="Sousou no Frieren",
        title_ru="Фрирен",
        poster_url="https://img.example/f.jpg",
        kind="tv",
        status="ongoing",
        score=Decimal("9.29"),
        episodes_total=28,
        episodes_aired=10,
        genres=[genre],
    )
    response = api.get("/anime?limit=20&offset=0")
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": str(anime.id),
            "title": "Frieren",
            "title_original": "Sousou no Frieren",
            "title_ru": "Фрирен",
            "title_en": None,
            "year": 2020,
            "season": "spring",
            "status": "ongoing",
            "kind": "tv",
            "poster": "https://img.example/f.jpg",
            "score": 9.29,
            "episodes_total": 28,
            "episodes_aired": 10,
            "genres": [
                {
                    "id": genre.id,
                    "name": "Adventure",
                    "name_ru": "",
                    "slug": "adventure",
                    "kind": "genre",
                }
            ],
        }
    ]


def test_trailing_slash_is_served_without_redirect(api):
    AnimeFactory()
    assert api.get("/anime/").status_code == 200
    assert api.get("/anime").status_code == 200


def test_only_published_not_deleted_anime_are_visible(api):
    visible = AnimeFactory()
    for state in ("draft", "pending", "broken", "archived"):
        AnimeFactory(state=state, title=f"Zyxwvut {state}")
    deleted = AnimeFactory(deleted_at=timezone.now(), delete_reason="dupe")
    assert ids(api.get("/anime")) == [str(visible.id)]
    assert api.get(f"/anime/{deleted.id}").status_code == 404
    hidden = Anime.objects.get(state="draft")
    assert api.get(f"/anime/{hidden.id}").status_code == 404
    assert api.get("/search/anime?q=zyxwvut").json() == []


def test_public_endpoints_ignore_a_stale_authorization_header(api):
    AnimeFactory()
    api.credentials(HTTP_AUTHORIZATION="Bearer expired.garbage.token")
    assert api.get("/anime").status_code == 200
    assert api.get("/genres").status_code == 200


def test_default_order_is_newest_first(api):
    old = AnimeFactory(created_at=timezone.now() - timezone.timedelta(days=2))
    new = AnimeFactory()
    assert ids(api.get("/anime")) == [str(new.id), str(old.id)]
    assert ids(api.get("/anime?ordering=newest")) == [str(new.id), str(old.id)]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("score", ["high", "mid", "low"]),
        ("popular", ["high", "mid", "low"]),
        ("title", ["high", "low", "mid"]),
        ("year", ["mid", "low", "high"]),
    ],
)
def test_orderings(api, ordering, expected):
    AnimeFactory(title="A high", score=9, year=2001)
    AnimeFactory(title="B low", score=5, year=2010)
    AnimeFactory(title="C mid", score=7, year=2020)
    AnimeFactory(title="D unknown year", score=1, year=None)
    titles = [item["title"].split()[1] for item in api.get(f"/anime?ordering={ordering}").json()]
    assert titles[:3] == expected
    if ordering == "year":
        assert titles[-1] == "unknown"  # NULL years last


def test_unknown_ordering_is_400_naming_the_parameter(api):
    response = api.get("/anime?ordering=random")
    assert response.status_code == 400
    assert "'ordering'" in response.json()["error"]["details"]


def test_filters(api):
    action, drama = GenreFactory(name="Action"), GenreFactory(name="Drama")
    madhouse = StudioFactory(name="Madhouse")
    tv = AnimeFactory(
        kind="tv",
        status="ongoing",
        year=2023,
        season="fall",
        score=9,
        genres=[action, drama],
        studios=[madhouse],
    )
    movie = AnimeFactory(
        kind="movie", status="released", year=2016, season="summer", score=8.5, genres=[drama]
    )
    ova = AnimeFactory(kind="ova", status="anons", year=2026, season="", score=0)

    def found(query: str) -> set[str]:
        response = api.get(f"/anime?{query}")
        assert response.status_code == 200, response.json()
        return set(ids(response))

    assert found("kind=tv") == {str(tv.id)}
    assert found("kind=tv&kind=movie") == {str(tv.id), str(movie.id)}
    assert found("status=anons") == {str(ova.id)}
    assert found("year=2016") == {str(movie.id)}
    assert found("year_from=2017&year_to=2024") == {str(tv.id)}
    assert found("season=fall") == {str(tv.id)}
    assert found("genre=drama") == {str(tv.id), str(movie.id)}
    assert found(f"genre={action.id}") == {str(tv.id)}
    assert found("genre=action,drama") == {str(tv.id)}
    assert found("studio=madhouse") == {str(tv.id)}
    assert found("score_min=8.5") == {str(tv.id), str(movie.id)}
    assert found("genre=drama&kind=movie") == {str(movie.id)}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("kind=cartoon", "kind"),
        ("status=airing", "status"),
        ("season=monsoon", "season"),
        ("year=abc", "year"),
        ("score_min=high", "score_min"),
        ("genre=no-such-genre", "genre"),
        ("studio=no-such-studio", "studio"),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(api, query, parameter):
    AnimeFactory()
    response = api.get(f"/anime?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert f"'{parameter}'" in error["details"]


def test_detail_has_genres_studios_and_releases(api):
    anime = AnimeFactory(
        description="A mage outlives her party.",
        title_ja="葬送のフリーレン",
        synonyms=["Frieren at the Funeral"],
        genres=[GenreFactory(name="Fantasy")],
        studios=[StudioFactory(name="Madhouse")],
        duration_minutes=24,
    )
    second = ReleaseFactory(anime=anime, ordering=2, title="Part 2")
    first = ReleaseFactory(anime=anime, ordering=1, title="Part 1")
    body = api.get(f"/anime/{anime.id}").json()
    assert body["id"] == str(anime.id)
    assert body["description"] == "A mage outlives her party."
    assert body["title_ja"] == "葬送のフリーレン"
    assert body["synonyms"] == ["Frieren at the Funeral"]
    assert body["duration"] == 24
    assert [g["name"] for g in body["genres"]] == ["Fantasy"]
    assert [s["name"] for s in body["studios"]] == ["Madhouse"]
    assert [r["id"] for r in body["releases"]] == [str(first.id), str(second.id)]
    assert {"created_at", "updated_at", "poster", "status", "year"} <= body.keys()


def test_detail_errors(api):
    missing = api.get(f"/anime/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "NOT_FOUND",
        "message": "Resource not found",
        "details": "Anime not found",
    }
    invalid = api.get("/anime/one-piece-100")
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "VALIDATION_ERROR"
    assert invalid.json()["error"]["details"][0]["loc"] == ["path", "anime_id"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=10001", "offset"),
    ],
)
def test_pagination_edges_are_422(api, query, parameter):
    response = api.get(f"/anime?{query}")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["query", parameter]


def test_limit_and_offset_page_through(api):
    created = [
        AnimeFactory(created_at=timezone.now() - timezone.timedelta(minutes=i)) for i in range(5)
    ]
    expected = [str(a.id) for a in created]
    assert ids(api.get("/anime?limit=2&offset=0")) == expected[:2]
    assert ids(api.get("/anime?limit=2&offset=4")) == expected[4:]
    assert ids(api.get("/anime?limit=100&offset=10000")) == []
    assert len(ids(api.get("/anime?limit=100"))) == 5


def _follow(api, url: str) -> tuple[list[str], str | None]:
    response = api.get(url)
    assert response.status_code == 200, response.json()
    link = response.headers.get("Link", "")
    next_url = None
    for part in link.split(","):
        if 'rel="next"' in part:
            next_url = part.split(";")[0].strip()[1:-1].replace("http://testserver", "")
    return ids(response), next_url


@pytest.mark.parametrize("ordering", ["newest", "score", "title"])
def test_cursor_walk_returns_every_row_once(api, ordering):
    for i in range(7):
        AnimeFactory(score=i % 3, title=f"T{i % 4}")  # ties on the leading key
    seen: list[str] = []
    url: str | None = f"/anime?cursor=&limit=3&ordering={ordering}"
    while url:
        page, url = _follow(api, url)
        seen += page
    assert sorted(seen) == sorted(str(a.id) for a in Anime.objects.all())
    assert len(seen) == 7


def test_stale_cursor_still_continues_after_the_boundary_row_is_hidden(api):
    rows = [
        AnimeFactory(created_at=timezone.now() - timezone.timedelta(minutes=i)) for i in range(6)
    ]
    first_page, next_url = _follow(api, "/anime?cursor=&limit=3")
    assert first_page == [str(a.id) for a in rows[:3]]
    rows[2].state = "archived"  # the row the cursor points at disappears
    rows[2].save()
    second_page, _ = _follow(api, next_url)
    assert second_page == [str(a.id) for a in rows[3:]]


def test_cursor_errors(api):
    AnimeFactory()
    assert api.get("/anime?cursor=zzz").status_code == 400
    assert api.get("/anime?cursor=&offset=20").status_code == 400
    response = api.get("/anime?cursor=&ordering=year")
    assert response.status_code == 400
    assert "'cursor'" in response.json()["error"]["details"]


def test_list_query_count_does_not_grow_with_rows(api, django_assert_num_queries):
    """Fresh documents: the genre slugs turned into ids, then one page query. Documents the
    triggers cleared add a constant rebuild: anime + genres + studios + releases + one batched
    store, for 3 rows as for 30. An unknown slug stops at the lookup; an unknown id costs the
    (empty) page plus one check."""
    genres = [GenreFactory(name=f"G{i}") for i in range(3)]
    for _ in range(3):
        AnimeFactory(genres=genres)
    with django_assert_num_queries(2 + 5):  # genre lookup + anime page + rebuild of 3
        assert len(api.get("/anime?limit=100&genre=g1").json()) == 3
    with django_assert_num_queries(2):  # genre lookup + anime page
        assert len(api.get("/anime?limit=100&genre=g1").json()) == 3
    with django_assert_num_queries(1):  # by id: no lookup
        assert len(api.get(f"/anime?limit=100&genre={genres[1].id}").json()) == 3
    with django_assert_num_queries(1):
        assert len(api.get("/anime?limit=100&ordering=score").json()) == 3
    for _ in range(27):
        AnimeFactory(genres=genres)
    with django_assert_num_queries(2 + 5):  # rebuild of the 27 new ones
        assert len(api.get("/anime?limit=100&genre=g1&cursor=").json()) == 30
    with django_assert_num_queries(2):
        assert len(api.get("/anime?limit=100&genre=g1&cursor=").json()) == 30
    with django_assert_num_queries(1):
        assert len(api.get("/anime?limit=100&ordering=score").json()) == 30
    with django_assert_num_queries(1):  # the slug lookup finds no such genre
        assert api.get("/anime?genre=g1,no-such-genre").status_code == 400
    with django_assert_num_queries(2):  # the empty page, then: is there such a genre?
        assert api.get(f"/anime?genre={genres[0].id},999999").status_code == 400


def test_detail_query_count(api, django_assert_num_queries):
    anime = AnimeFactory(genres=[GenreFactory()], studios=[StudioFactory()])
    for i in range(1, 4):
        ReleaseFactory(anime=anime, ordering=i)
    # the document + its rebuild: anime, genres, studios, releases, store
    with django_assert_num_queries(6):
        api.get(f"/anime/{anime.id}")
    with django_assert_num_queries(1):  # the stored document
        api.get(f"/anime/{anime.id}")


def test_conditional_get_answers_304_for_a_matching_etag(api):
    AnimeFactory()
    first = api.get("/anime")
    etag = first.headers["ETag"]
    again = api.get("/anime", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.django_db(transaction=True)  # invalidation runs on commit
def test_catalog_reads_are_cached_and_invalidated_on_change(
    api, catalog_cache, django_assert_num_queries
):
    anime = AnimeFactory(title="Before")
    assert api.get(f"/anime/{anime.id}").json()["title"] == "Before"
    with django_assert_num_queries(0):  # served from the cache
        cached = api.get(f"/anime/{anime.id}")
    assert cached.headers["X-Cache"] == "hit"
    anime.title = "After"
    anime.save()
    refreshed = api.get(f"/anime/{anime.id}")
    assert refreshed.headers["X-Cache"] == "miss"
    assert refreshed.json()["title"] == "After"


@pytest.mark.django_db(transaction=True)
def test_unpublishing_invalidates_cached_lists(api, catalog_cache):
    anime = AnimeFactory()
    assert ids(api.get("/anime")) == [str(anime.id)]
    anime.state = Anime.State.DRAFT
    anime.save(update_fields=["state"])
    assert ids(api.get("/anime")) == []


def test_cached_links_carry_nothing_from_the_request_headers(api, catalog_cache):
    """Cache poisoning: a crafted Host and X-Forwarded-Proto must not reach other clients."""
    AnimeFactory.create_batch(3)
    poisoned = api.get(
        "/anime?cursor=&limit=2", HTTP_HOST="localhost:1", HTTP_X_FORWARDED_PROTO="https"
    )
    assert poisoned.status_code == 200
    assert poisoned.headers["Link"].startswith("</anime?"), poisoned.headers["Link"]
    served = api.get("/anime?cursor=&limit=2")
    link = served.headers["Link"]
    assert "localhost:1" not in link
    assert "https" not in link
    assert link == poisoned.headers["Link"]
    _, next_url = _follow(api, "/anime?cursor=&limit=2")
    assert next_url is not None
    assert ids(api.get(next_url))  # the relative link is followable as it is
