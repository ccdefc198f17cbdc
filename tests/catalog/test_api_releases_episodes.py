from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from tests.factories import AnimeFactory, EpisodeFactory, GenreFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def test_release_list_shape_order_and_anime_filter(api):
    anime = AnimeFactory()
    older = ReleaseFactory(anime=anime, created_at=timezone.now() - timezone.timedelta(days=1))
    newer = ReleaseFactory(anime=anime)
    other = ReleaseFactory()
    body = api.get("/releases?limit=100&offset=0").json()
    assert [r["id"] for r in body] == [str(other.id), str(newer.id), str(older.id)]
    assert body[1] == {
        "id": str(newer.id),
        "anime_id": str(anime.id),
        "title": newer.title,
        "kind": "tv",
        "year": 2020,
        "status": "released",
        "ordering": newer.ordering,
    }
    filtered = api.get(f"/releases?anime_id={anime.id}").json()
    assert {r["id"] for r in filtered} == {str(newer.id), str(older.id)}


def test_releases_of_hidden_anime_are_not_public(api):
    hidden = ReleaseFactory(anime=AnimeFactory(state="draft"))
    assert api.get("/releases").json() == []
    assert api.get(f"/releases/{hidden.id}").status_code == 404


def test_release_detail_and_errors(api):
    release = ReleaseFactory()
    body = api.get(f"/releases/{release.id}").json()
    assert body["id"] == str(release.id)
    assert "created_at" in body
    missing = api.get(f"/releases/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["error"]["details"] == "Release not found"
    assert api.get("/releases/abc").status_code == 422
    assert api.get("/releases?anime_id=abc").status_code == 422
    assert api.get("/releases?limit=101").status_code == 422


def test_release_cursor_pagination(api):
    for _ in range(5):
        ReleaseFactory()
    first = api.get("/releases?cursor=&limit=2")
    assert len(first.json()) == 2
    assert 'rel="next"' in first.headers["Link"]


def test_episodes_by_release_in_number_order(api):
    release = ReleaseFactory()
    third = EpisodeFactory(release=release, number=3, title="")
    first = EpisodeFactory(release=release, number=1, title="Pilot")
    EpisodeFactory()  # another release
    body = api.get(f"/episodes?release_id={release.id}").json()
    assert body == [
        {
            "id": str(first.id),
            "release_id": str(release.id),
            "number": 1,
            "title": "Pilot",
            "air_date": None,
        },
        {
            "id": str(third.id),
            "release_id": str(release.id),
            "number": 3,
            "title": None,
            "air_date": None,
        },
    ]


def test_episodes_by_anime_span_its_releases(api):
    anime = AnimeFactory()
    season2 = ReleaseFactory(anime=anime, ordering=2)
    season1 = ReleaseFactory(anime=anime, ordering=1)
    s2e1 = EpisodeFactory(release=season2, number=1)
    s1e2 = EpisodeFactory(release=season1, number=2)
    s1e1 = EpisodeFactory(release=season1, number=1)
    body = api.get(f"/episodes?anime_id={anime.id}").json()
    assert [e["id"] for e in body] == [str(s1e1.id), str(s1e2.id), str(s2e1.id)]


def test_episode_errors(api):
    assert api.get("/episodes").status_code == 422
    assert api.get("/episodes?release_id=nope").status_code == 422
    unknown = api.get(f"/episodes?release_id={uuid.uuid4()}")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["details"] == "Release not found"
    assert api.get(f"/episodes?anime_id={uuid.uuid4()}").status_code == 404
    hidden = ReleaseFactory(anime=AnimeFactory(deleted_at=timezone.now()))
    assert api.get(f"/episodes?release_id={hidden.id}").status_code == 404


def test_list_query_counts_are_constant(api, django_assert_num_queries):
    anime = AnimeFactory()
    release = ReleaseFactory(anime=anime)
    for number in range(1, 4):
        EpisodeFactory(release=release, number=number)
        ReleaseFactory(anime=anime)
    with django_assert_num_queries(2):  # release lookup + episodes
        assert len(api.get(f"/episodes?release_id={release.id}").json()) == 3
    with django_assert_num_queries(1):
        assert len(api.get("/releases?limit=100").json()) == 4
    for number in range(4, 31):
        EpisodeFactory(release=release, number=number)
        ReleaseFactory(anime=anime)
    with django_assert_num_queries(2):
        assert len(api.get(f"/episodes?release_id={release.id}").json()) == 30
    with django_assert_num_queries(1):
        assert len(api.get("/releases?limit=100").json()) == 31


def test_genres_with_public_counts(api, django_assert_num_queries):
    drama, comedy = GenreFactory(name="Drama"), GenreFactory(name="Comedy")
    AnimeFactory(genres=[drama, comedy])
    AnimeFactory(genres=[drama])
    AnimeFactory(genres=[drama], state="draft")
    with django_assert_num_queries(1):
        body = api.get("/genres").json()
    assert [(g["name"], g["anime_count"]) for g in body] == [("Comedy", 1), ("Drama", 2)]
