from __future__ import annotations

import pytest

from tests.factories import AnimeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    frieren = AnimeFactory(
        title="Frieren: Beyond Journey's End",
        title_original="Sousou no Frieren",
        title_ru="Провожающая в последний путь Фрирен",
        title_en="Frieren: Beyond Journey's End",
        title_ja="葬送のフリーレン",
        synonyms=["Frieren at the Funeral"],
        score=9.3,
    )
    others = [
        AnimeFactory(
            title="Fire Force",
            title_original="Enen no Shouboutai",
            title_ru="Пожарная бригада пламенных",
            score=7.5,
        ),
        AnimeFactory(title="Fruits Basket", title_ru="Корзинка фруктов", score=8.0),
        AnimeFactory(
            title="Attack on Titan",
            title_original="Shingeki no Kyojin",
            title_ru="Атака титанов",
            score=8.5,
        ),
        AnimeFactory(title="Steins;Gate", title_ru="Врата Штейна", score=9.1),
    ]
    return frieren, others


@pytest.mark.parametrize(
    "query",
    [
        "frieren",
        "Frieren",
        "FRIEREN",
        "Фрирен",
        "фрирен",
        "sousou no frieren",
        "freiren",
        "frieren at the funeral",
        "葬送のフリーレン",
        "beyond journey",
        "последний путь",
        "frie",
    ],
)
def test_every_title_variant_and_typos_find_frieren_first(api, catalog, query):
    frieren, _ = catalog
    response = api.get("/search/anime", {"q": query})
    assert response.status_code == 200
    results = response.json()
    assert results, f"{query!r} found nothing"
    assert results[0]["id"] == str(frieren.id)


def test_search_matches_other_scripts_and_ranks_relevance(api, catalog):
    _, (fire_force, _, titan, steins) = catalog
    assert api.get("/search/anime", {"q": "атака титанов"}).json()[0]["id"] == str(titan.id)
    assert api.get("/search/anime", {"q": "shingeki"}).json()[0]["id"] == str(titan.id)
    assert api.get("/search/anime", {"q": "steins gate"}).json()[0]["id"] == str(steins.id)
    assert api.get("/search/anime", {"q": "shoubotai"}).json()[0]["id"] == str(fire_force.id)


def test_unrelated_query_finds_nothing(api, catalog):
    assert api.get("/search/anime", {"q": "zzzqqq"}).json() == []


def test_search_items_have_the_list_shape(api, catalog):
    item = api.get("/search/anime", {"q": "frieren", "limit": 5}).json()[0]
    list_item = api.get("/anime").json()[0]
    assert item.keys() == list_item.keys()


@pytest.mark.parametrize(
    ("params", "details"),
    [
        ({}, "Query parameter 'q' is required"),
        ({"q": " a "}, "Query parameter 'q' must be at least 2 characters"),
        ({"q": "x" * 201}, "Query parameter 'q' must be at most 200 characters"),
    ],
)
def test_query_validation(api, params, details):
    response = api.get("/search/anime", params)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "VALIDATION_ERROR",
        "message": "Validation error",
        "details": details,
    }


def test_search_paging_and_limits(api, catalog):
    for i in range(4):
        AnimeFactory(title=f"Frieren spin-off {i}", score=i)
    first = api.get("/search/anime", {"q": "frieren", "limit": 2, "offset": 0}).json()
    second = api.get("/search/anime", {"q": "frieren", "limit": 2, "offset": 2}).json()
    assert len(first) == 2
    assert len(second) == 2
    assert not {a["id"] for a in first} & {a["id"] for a in second}
    assert api.get("/search/anime", {"q": "frieren", "limit": 101}).status_code == 422
    assert api.get("/search/anime", {"q": "frieren", "cursor": ""}).status_code == 400


def test_search_query_count_is_constant(api, django_assert_num_queries):
    for i in range(30):
        AnimeFactory(title=f"Naruto {i}")
    # The word lookup, then the ranked page with its documents. Stale documents (just written)
    # add a constant rebuild: anime + genres + studios + releases + one batched store.
    with django_assert_num_queries(2 + 5):
        assert len(api.get("/search/anime", {"q": "naruto", "limit": 3}).json()) == 3
    with django_assert_num_queries(2):
        assert len(api.get("/search/anime", {"q": "naruto", "limit": 3}).json()) == 3
    with django_assert_num_queries(2 + 5):
        assert len(api.get("/search/anime", {"q": "naruto", "limit": 30}).json()) == 30
    with django_assert_num_queries(2):
        assert len(api.get("/search/anime", {"q": "naruto", "limit": 30}).json()) == 30
