"""Library writes under real concurrency and across restarts (gunicorn + PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from library.models import Favorite, WatchProgress
from tests.factories import AnimeFactory
from tests.servers import gunicorn, worker_pids

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("production_hashers"),  # the servers hash with Argon2
]
PASSWORD = "correct horse battery"


def sign_in(base: str, email: str) -> dict[str, str]:
    user = User.objects.create_user(email=email, password=PASSWORD)
    user.groups.add(Group.objects.get(name="user"))
    response = httpx.post(f"{base}/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}", "Connection": "close"}


def test_concurrent_double_posts_create_one_favorite_and_409s(tmp_path):
    anime = AnimeFactory()
    with gunicorn(4, tmp_path) as base:
        headers = sign_in(base, "racer@example.com")

        def add(_: int) -> int:
            return httpx.post(
                f"{base}/favorites", json={"anime_id": str(anime.id)}, headers=headers, timeout=30
            ).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            codes = sorted(pool.map(add, range(12)))
    assert codes == [201] + [409] * 11
    assert Favorite.objects.filter(anime=anime).count() == 1
    assert len(worker_pids(tmp_path, "/favorites")) >= 2


def test_concurrent_progress_writes_end_on_the_newest(tmp_path):
    anime = AnimeFactory(episodes_aired=50)
    with gunicorn(4, tmp_path) as base:
        headers = sign_in(base, "tabs@example.com")

        def write(episode: int) -> int:
            body = {"anime_id": str(anime.id), "episode": episode, "position_seconds": episode}
            return httpx.post(
                f"{base}/watch/progress", json=body, headers=headers, timeout=30
            ).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(write, range(1, 41))) == {200}
    progress = WatchProgress.objects.get(anime=anime)
    # Row locks serialise the writes; whichever committed last holds the newest timestamp,
    # and its episode and position belong together (no torn row).
    assert progress.position_seconds == progress.episode
    assert WatchProgress.objects.count() == 1


def test_favorites_and_progress_survive_a_restart_of_every_server_process(tmp_path):
    anime = AnimeFactory()
    with gunicorn(2, tmp_path) as base:
        headers = sign_in(base, "durable@example.com")
        assert (
            httpx.post(
                f"{base}/favorites", json={"anime_id": str(anime.id)}, headers=headers
            ).status_code
            == 201
        )
        body = {"anime_id": str(anime.id), "episode": 7, "position_seconds": 321.5}
        assert httpx.post(f"{base}/watch/progress", json=body, headers=headers).status_code == 200
    # Every server process is gone; a new set starts from nothing but the database.
    with gunicorn(2, tmp_path) as base:
        favorites = httpx.get(f"{base}/favorites", headers=headers).json()
        progress = httpx.get(f"{base}/watch/continue", headers=headers).json()
    assert [f["anime_id"] for f in favorites] == [str(anime.id)]
    assert (progress[0]["episode"], progress[0]["position_seconds"]) == (7, 321)
