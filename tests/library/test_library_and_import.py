from __future__ import annotations

import uuid

import pytest

from library.models import LibraryEntry
from tests.factories import AnimeFactory

pytestmark = pytest.mark.django_db


def test_library_put_list_filter_delete(signed_in):
    _, client = signed_in()
    a, b = AnimeFactory(title="A"), AnimeFactory(title="B")
    created = client.put(f"/library/{a.id}", {"status": "planned"}, format="json")
    assert created.status_code == 201
    assert created.json()["anime"]["title"] == "A"
    updated = client.put(
        f"/library/{a.id}",
        {"status": "completed", "score": 8, "episodes_watched": 12},
        format="json",
    )
    assert updated.status_code == 200
    assert (updated.json()["status"], updated.json()["score"]) == ("completed", 8)
    client.put(f"/library/{b.id}", {"status": "dropped"}, format="json")
    assert [e["anime_id"] for e in client.get("/library?status=completed").json()] == [str(a.id)]
    assert len(client.get("/library").json()) == 2
    assert client.delete(f"/library/{a.id}").status_code == 204
    assert [e["anime_id"] for e in client.get("/library").json()] == [str(b.id)]


@pytest.mark.parametrize(
    "body",
    [
        {"status": "binged"},
        {"status": "planned", "score": 11},
        {"status": "planned", "score": 0},
        {},
    ],
)
def test_library_validation(signed_in, body):
    _, client = signed_in()
    assert client.put(f"/library/{AnimeFactory().id}", body, format="json").status_code == 422


def test_library_errors(signed_in):
    _, client = signed_in()
    assert (
        client.put(f"/library/{uuid.uuid4()}", {"status": "planned"}, format="json").status_code
        == 404
    )
    assert client.put("/library/x", {"status": "planned"}, format="json").status_code == 422
    assert client.get("/library?status=binged").status_code == 400


def anilist_body(*entries: tuple[str, dict]) -> dict:
    groups: dict[str, list] = {}
    for status, media in entries:
        groups.setdefault(status, []).append({"media": media})
    return {"animes": [{"name": s.title(), "status": s, "entries": e} for s, e in groups.items()]}


@pytest.fixture
def catalog():
    return {
        "bebop": AnimeFactory(
            title="Cowboy Bebop", mal_id=1, poster_url="https://img.example/b.jpg"
        ),
        "titan": AnimeFactory(
            title="Attack on Titan", title_original="Shingeki no Kyojin", mal_id=None
        ),
        "frieren": AnimeFactory(
            title="Frieren", title_en="Frieren: Beyond Journey's End", mal_id=52991
        ),
    }


def test_import_matches_by_mal_id_then_title_and_reports_misses(api, catalog):
    body = anilist_body(
        ("CURRENT", {"id": 1, "idMal": 1, "title": {"english": "Bebop (wrong title)"}}),
        (
            "COMPLETED",
            {
                "id": 16498,
                "idMal": 99999,
                "title": {"english": "attack on titan", "romaji": "Shingeki no Kyojin"},
            },
        ),
        (
            "PLANNING",
            {"id": 154587, "idMal": None, "title": {"english": "FRIEREN: BEYOND JOURNEY'S END"}},
        ),
        ("DROPPED", {"id": 5, "idMal": 5, "title": {"english": "Nothing Like This"}}),
    )
    response = api.post("/api/import/anilist", body, format="json")
    assert response.status_code == 200
    data = response.json()
    matched = {item["anilist_id"]: item for item in data["animes"]}
    assert matched[1]["id"] == str(catalog["bebop"].id)
    assert matched[1]["matched_by"] == "mal_id"
    assert matched[1]["thumbnail"] == "https://img.example/b.jpg"
    assert matched[1]["status"] == "watching"
    assert matched[16498]["id"] == str(catalog["titan"].id)
    assert matched[16498]["matched_by"] == "title"
    assert matched[154587]["id"] == str(catalog["frieren"].id)
    assert matched[154587]["status"] == "plan to watch"
    assert data["unmatched"] == [
        {"anilist_id": 5, "mal_id": 5, "title": "Nothing Like This", "status": "dropped"}
    ]
    assert data["imported"] is False
    assert LibraryEntry.objects.count() == 0


def test_signed_in_import_writes_the_library_idempotently(signed_in, catalog):
    user, client = signed_in()
    body = anilist_body(
        ("CURRENT", {"id": 1, "idMal": 1, "title": {"english": "Cowboy Bebop"}}),
        ("PAUSED", {"id": 16498, "title": {"romaji": "Shingeki no Kyojin"}}),
    )
    for _ in range(2):
        response = client.post("/api/import/anilist", body, format="json")
        assert response.json()["imported"] is True
    entries = dict(LibraryEntry.objects.filter(user=user).values_list("anime__title", "status"))
    assert entries == {"Cowboy Bebop": "watching", "Attack on Titan": "on_hold"}
    # The returned ids work with the favorites endpoint (contract A.13).
    anime_id = response.json()["animes"][0]["id"]
    assert client.post("/favorites", {"anime_id": anime_id}, format="json").status_code == 201


def test_import_ignores_a_stale_token(api, catalog):
    body = anilist_body(("CURRENT", {"id": 1, "idMal": 1, "title": {"english": "x"}}))
    response = api.post(
        "/api/import/anilist", body, format="json", HTTP_AUTHORIZATION="Bearer stale"
    )
    assert response.status_code == 200
    assert response.json()["imported"] is False


@pytest.mark.parametrize(
    ("body", "code", "details"),
    [
        ({}, 400, "No anime list provided"),
        ({"animes": []}, 400, "No anime list provided"),
        ({"animes": [{"status": "WATCHING", "entries": []}]}, 422, None),
        ({"animes": "all of them"}, 422, None),
    ],
)
def test_import_errors(api, body, code, details):
    response = api.post("/api/import/anilist", body, format="json")
    assert response.status_code == code
    if details:
        assert response.json()["error"]["details"] == details


def test_import_query_count_does_not_grow_with_the_list(api, django_assert_num_queries):
    anime = [AnimeFactory(title=f"Show {i}", mal_id=1000 + i) for i in range(30)]
    small = anilist_body(
        *[("CURRENT", {"id": i, "idMal": a.mal_id, "title": {}}) for i, a in enumerate(anime[:3])]
    )
    large = anilist_body(
        *[
            (
                "CURRENT",
                {"id": i, "idMal": a.mal_id if i % 2 else None, "title": {"english": a.title}},
            )
            for i, a in enumerate(anime)
        ]
    )
    with django_assert_num_queries(1):  # MAL ids; no titles left to look up
        assert len(api.post("/api/import/anilist", small, format="json").json()["animes"]) == 3
    with django_assert_num_queries(2):  # MAL ids + one query for every remaining title
        assert len(api.post("/api/import/anilist", large, format="json").json()["animes"]) == 30
