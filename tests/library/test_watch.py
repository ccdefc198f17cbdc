from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from library.models import EpisodeView, LibraryEntry, WatchProgress
from tests.factories import AnimeFactory, EpisodeFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def post(client, **body):
    body = {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in body.items()}
    return client.post("/watch/progress", body, format="json")


def test_record_progress_with_float_seconds_and_clamped_percent(signed_in):
    _, client = signed_in()
    anime = AnimeFactory()
    response = post(
        client, anime_id=anime.id, episode=3, position_seconds=754.91, progress_percent=142.5
    )
    assert response.status_code == 200
    body = response.json()
    assert body["episode"] == 3
    assert body["position_seconds"] == 754
    assert body["progress_percent"] == 100.0
    assert set(body) == {
        "id",
        "anime_id",
        "episode",
        "position_seconds",
        "progress_percent",
        "created_at",
        "last_watched_at",
    }
    assert (
        post(client, anime_id=anime.id, episode=3, progress_percent=-5).json()["progress_percent"]
        == 0
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"episode": 0}, 400),
        ({"episode": -1}, 400),
        ({"episode": 1, "position_seconds": -3}, 400),
        ({"episode": "one"}, 422),
        ({}, 422),
    ],
)
def test_progress_validation(signed_in, body, code):
    _, client = signed_in()
    anime = AnimeFactory()
    response = post(client, anime_id=anime.id, **body)
    assert response.status_code == code
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_unknown_or_hidden_anime_is_404(signed_in):
    _, client = signed_in()
    assert post(client, anime_id=uuid.uuid4(), episode=1).status_code == 404
    assert post(client, anime_id=AnimeFactory(state="draft").id, episode=1).status_code == 404


def test_one_row_per_user_and_anime(signed_in):
    user, client = signed_in()
    anime = AnimeFactory()
    for episode in (1, 2, 3):
        post(client, anime_id=anime.id, episode=episode, position_seconds=10)
    progress = WatchProgress.objects.get(user=user)
    assert progress.episode == 3
    assert sorted(EpisodeView.objects.filter(user=user).values_list("episode", flat=True)) == [
        1,
        2,
        3,
    ]


def test_episode_started_keeps_a_later_position_of_the_same_episode(signed_in):
    _, client = signed_in()
    anime = AnimeFactory()
    post(client, anime_id=anime.id, episode=5, position_seconds=600, progress_percent=40)
    started = post(client, anime_id=anime.id, episode=5)  # the frontend opens the episode again
    assert started.status_code == 200
    assert started.json()["position_seconds"] == 600
    assert started.json()["progress_percent"] == 40
    other = post(client, anime_id=anime.id, episode=6).json()
    assert (other["episode"], other["position_seconds"]) == (6, 0)


def test_out_of_order_writes_never_move_progress_back(signed_in):
    _, client = signed_in()
    anime = AnimeFactory()
    now = timezone.now()
    newer = post(
        client, anime_id=anime.id, episode=4, position_seconds=900, last_watched_at=now.isoformat()
    )
    assert newer.status_code == 200
    stale = post(
        client,
        anime_id=anime.id,
        episode=2,
        position_seconds=100,
        last_watched_at=(now - timedelta(minutes=5)).isoformat(),
    )
    assert stale.status_code == 200
    assert (stale.json()["episode"], stale.json()["position_seconds"]) == (4, 900)
    # A timestamp from the future is capped at now, so it cannot freeze later writes.
    post(
        client,
        anime_id=anime.id,
        episode=4,
        position_seconds=950,
        last_watched_at=(now + timedelta(days=365)).isoformat(),
    )
    latest = post(client, anime_id=anime.id, episode=5, position_seconds=5).json()
    assert latest["episode"] == 5


def test_continue_watching_newest_first_with_anime_and_next_episode(signed_in):
    _user, client = signed_in()
    finished = AnimeFactory(
        title="Finished ep", poster_url="https://img.example/p.jpg", episodes_aired=12
    )
    midway = AnimeFactory(title="Midway", episodes_aired=12)
    last = AnimeFactory(title="Last ep", episodes_total=12, episodes_aired=12)
    by_rows = AnimeFactory(title="By episode rows", episodes_aired=0)
    release = ReleaseFactory(anime=by_rows)
    EpisodeFactory(release=release, number=1)
    EpisodeFactory(release=release, number=2)
    post(client, anime_id=by_rows.id, episode=1, progress_percent=95)
    post(client, anime_id=last.id, episode=12, progress_percent=99)
    post(client, anime_id=midway.id, episode=3, progress_percent=50)
    post(client, anime_id=finished.id, episode=3, progress_percent=92)
    items = client.get("/watch/continue?limit=10").json()
    assert [i["anime"]["title"] for i in items] == [
        "Finished ep",
        "Midway",
        "Last ep",
        "By episode rows",
    ]
    assert items[0]["anime"] == {
        "id": str(finished.id),
        "title": "Finished ep",
        "poster": "https://img.example/p.jpg",
    }
    assert [i["next_episode"] for i in items] == [4, None, None, 2]
    assert len(client.get("/watch/continue?limit=2").json()) == 2
    assert client.get("/watch/continue?limit=101").status_code == 422


def test_history_lists_watched_episodes(signed_in):
    _, client = signed_in()
    anime = AnimeFactory()
    post(client, anime_id=anime.id, episode=2, progress_percent=95)
    post(client, anime_id=anime.id, episode=1, progress_percent=30)
    history = client.get(f"/watch/history?anime_id={anime.id}").json()
    assert [(h["episode"], h["completed"]) for h in history] == [(1, False), (2, True)]


def test_progress_moves_library_status(signed_in):
    user, client = signed_in()
    anime = AnimeFactory(episodes_total=2, episodes_aired=2)
    assert (
        client.put(f"/library/{anime.id}", {"status": "planned"}, format="json").status_code == 201
    )
    post(client, anime_id=anime.id, episode=1, progress_percent=50)
    entry = LibraryEntry.objects.get(user=user)
    assert entry.status == "watching"
    post(client, anime_id=anime.id, episode=2, progress_percent=95)
    entry.refresh_from_db()
    assert (entry.status, entry.episodes_watched) == ("completed", 2)


def test_list_query_counts_are_constant(signed_in, django_assert_num_queries):
    user, client = signed_in()

    def fill(count: int) -> None:
        for _ in range(count):
            anime = AnimeFactory(episodes_aired=5)
            WatchProgress.objects.create(user=user, anime=anime, episode=1, progress_percent=95)
            LibraryEntry.objects.create(user=user, anime=anime, status="watching")
            EpisodeView.objects.create(user=user, anime=anime, episode=1)

    fill(3)
    urls = ["/watch/continue?limit=100", "/library", "/watch/history"]
    # session check + RBAC permissions (2) + the list
    for url in urls:
        with django_assert_num_queries(4):
            assert len(client.get(url).json()) == 3
    fill(27)
    for url in urls:
        with django_assert_num_queries(4):
            assert len(client.get(url).json()) == 30


def test_user_data_survives_unpublish_and_returns_on_republish(signed_in):
    _user, client = signed_in()
    anime = AnimeFactory()
    client.post("/favorites", {"anime_id": str(anime.id)}, format="json")
    post(client, anime_id=anime.id, episode=2, position_seconds=30)
    client.put(f"/library/{anime.id}", {"status": "watching", "score": 9}, format="json")
    anime.state = "archived"
    anime.save()
    for url in ("/favorites", "/watch/continue", "/library", "/watch/history"):
        assert client.get(url).json() == [], url
    anime.state = "published"
    anime.save()
    assert len(client.get("/favorites").json()) == 1
    assert client.get("/watch/continue").json()[0]["episode"] == 2
    assert client.get("/library").json()[0]["score"] == 9
