from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from library.models import Favorite
from tests.factories import AnimeFactory

pytestmark = pytest.mark.django_db


def test_add_list_and_remove_a_favorite(signed_in):
    _, client = signed_in()
    anime = AnimeFactory(title="Frieren", poster_url="https://img.example/f.jpg", kind="tv")
    created = client.post("/favorites", {"anime_id": str(anime.id)}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["anime_id"] == str(anime.id)
    assert body["anime"] == {
        "id": str(anime.id),
        "title": "Frieren",
        "poster": "https://img.example/f.jpg",
        "kind": "tv",
        "status": "released",
    }
    listed = client.get("/favorites").json()
    assert [f["id"] for f in listed] == [body["id"]]
    assert client.delete(f"/favorites/{anime.id}").status_code == 204
    assert client.get("/favorites").json() == []


def test_delete_accepts_the_favorite_id_and_is_idempotent(signed_in):
    _, client = signed_in()
    anime = AnimeFactory()
    favorite_id = client.post("/favorites", {"anime_id": str(anime.id)}, format="json").json()["id"]
    assert client.delete(f"/favorites/{favorite_id}").status_code == 204
    assert client.delete(f"/favorites/{favorite_id}").status_code == 204
    assert client.delete(f"/favorites/{uuid.uuid4()}").status_code == 204
    assert Favorite.objects.count() == 0
    assert client.delete("/favorites/not-a-uuid").status_code == 422


def test_cannot_delete_someone_elses_favorite(signed_in):
    owner, owner_client = signed_in("owner@example.com")
    _, other = signed_in("other@example.com")
    anime = AnimeFactory()
    favorite_id = owner_client.post(
        "/favorites", {"anime_id": str(anime.id)}, format="json"
    ).json()["id"]
    assert other.delete(f"/favorites/{favorite_id}").status_code == 204
    assert other.delete(f"/favorites/{anime.id}").status_code == 204
    assert Favorite.objects.filter(user=owner).count() == 1


def test_post_errors(signed_in):
    _, client = signed_in()
    anime = AnimeFactory()
    assert client.post("/favorites", {"anime_id": str(anime.id)}, format="json").status_code == 201
    duplicate = client.post("/favorites", {"anime_id": str(anime.id)}, format="json")
    assert duplicate.status_code == 409
    assert duplicate.json()["error"] == {
        "code": "CONFLICT_ERROR",
        "message": "Resource conflict",
        "details": "Favorite already exists",
    }
    unknown = client.post("/favorites", {"anime_id": str(uuid.uuid4())}, format="json")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["details"] == "Anime not found"
    draft = AnimeFactory(state="draft")
    assert client.post("/favorites", {"anime_id": str(draft.id)}, format="json").status_code == 404
    assert (
        client.post("/favorites", {"anime_id": "one-piece-100"}, format="json").status_code == 422
    )
    assert client.post("/favorites", {}, format="json").status_code == 422


def test_anonymous_gets_401_auth_error(api):
    for response in (api.get("/favorites"), api.post("/favorites", {}, format="json")):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "AUTH_ERROR"


def test_list_defaults_to_100_newest_first_with_limit_offset_and_anime_filter(signed_in):
    user, client = signed_in()
    now = timezone.now()
    anime = [AnimeFactory() for _ in range(103)]
    Favorite.objects.bulk_create(
        Favorite(user=user, anime=a, created_at=now - timedelta(minutes=i))
        for i, a in enumerate(anime)
    )
    everything = client.get("/favorites").json()
    assert len(everything) == 100
    assert [f["anime_id"] for f in everything[:2]] == [str(anime[0].id), str(anime[1].id)]
    page = client.get("/favorites?limit=8&offset=8").json()
    assert [f["anime_id"] for f in page] == [str(a.id) for a in anime[8:16]]
    only = client.get(f"/favorites?anime_id={anime[50].id}").json()
    assert [f["anime_id"] for f in only] == [str(anime[50].id)]
    assert client.get("/favorites?limit=0").status_code == 422
    assert client.get("/favorites?limit=101").status_code == 422


def test_list_query_count_is_constant(signed_in, django_assert_num_queries):
    user, client = signed_in()
    for _ in range(3):
        Favorite.objects.create(user=user, anime=AnimeFactory())
    # session check + RBAC permissions (user's, groups') + favorites with their anime
    with django_assert_num_queries(4):
        assert len(client.get("/favorites").json()) == 3
    for _ in range(27):
        Favorite.objects.create(user=user, anime=AnimeFactory())
    with django_assert_num_queries(4):
        assert len(client.get("/favorites").json()) == 30


def test_unpublish_hides_and_republish_restores_a_favorite(signed_in):
    _user, client = signed_in()
    anime = AnimeFactory()
    client.post("/favorites", {"anime_id": str(anime.id)}, format="json")
    anime.state = "draft"
    anime.save()
    assert client.get("/favorites").json() == []
    anime.deleted_at = timezone.now()
    anime.state = "published"
    anime.save()
    assert client.get("/favorites").json() == []
    anime.deleted_at = None
    anime.save()
    assert [f["anime_id"] for f in client.get("/favorites").json()] == [str(anime.id)]


def test_deleting_a_user_deletes_its_favorites_and_an_anime_cannot_take_them_along(signed_in):
    from django.db.models import ProtectedError

    user, client = signed_in()
    anime = AnimeFactory()
    client.post("/favorites", {"anime_id": str(anime.id)}, format="json")
    with pytest.raises(ProtectedError):
        anime.delete()
    assert Favorite.objects.count() == 1
    user.delete()
    assert Favorite.objects.count() == 0
