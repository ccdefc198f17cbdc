"""Query counts that do not grow with the rows (CONVENTIONS: every list endpoint; plus the hot
write path). The catalog lists keep their own exact-count tests beside their other tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Session
from catalog.models import Anime
from ingestion.models import SyncLogLine, SyncRun
from library.models import Favorite, LibraryEntry, WatchProgress
from tests.conftest import assert_constant_queries, count_queries
from tests.factories import (
    AiringSlotFactory,
    AnimeFactory,
    EpisodeFactory,
    PlaybackSourceFactory,
    ReleaseFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_schedule(api: Any) -> None:
    today = timezone.now().replace(hour=12, minute=0)

    def add(n: int) -> None:
        AiringSlotFactory.create_batch(n, airs_at=today)

    assert_constant_queries(add, lambda: api.get(f"/api/schedule?date={today.date()}"))


def test_episode_servers(api: Any) -> None:
    episode = EpisodeFactory()

    def add(n: int) -> None:
        PlaybackSourceFactory.create_batch(n, episode=episode)

    assert_constant_queries(
        add, lambda: api.get(f"/api/episode/servers?animeEpisodeId={episode.pk}")
    )


def test_parser_logs(signed_in: Any) -> None:
    _, client = signed_in("boss@example.com", role="super_admin")
    run = SyncRun.objects.create(kind="catalog", source="shikimori", trigger="command")

    def add(n: int) -> None:
        SyncLogLine.objects.bulk_create(SyncLogLine(run=run, message=f"line {i}") for i in range(n))

    assert_constant_queries(add, lambda: client.get("/api/admin/parser/logs"))


def test_parser_dashboard(signed_in: Any) -> None:
    _, client = signed_in("boss@example.com", role="super_admin")

    def add(n: int) -> None:
        SyncRun.objects.bulk_create(
            SyncRun(kind="catalog", source="shikimori", trigger="command", status="succeeded")
            for _ in range(n)
        )

    assert_constant_queries(add, lambda: client.get("/api/admin/parser/dashboard"))


def test_sessions(signed_in: Any) -> None:
    user, client = signed_in()

    def add(n: int) -> None:
        Session.objects.bulk_create(
            Session(user=user, refresh_token_hash=f"h{i}", expires_at=timezone.now() + timedelta(1))
            for i in range(n)
        )

    assert_constant_queries(add, lambda: client.get("/users/me/sessions"))


def test_admin_users(signed_in: Any) -> None:
    _, client = signed_in("boss@example.com", role="super_admin")
    assert_constant_queries(UserFactory.create_batch, lambda: client.get("/api/admin/users"))


def test_admin_anime(signed_in: Any) -> None:
    _, client = signed_in("boss@example.com", role="super_admin")
    assert_constant_queries(AnimeFactory.create_batch, lambda: client.get("/api/admin/anime"))


@pytest.mark.parametrize(
    "path", ["/favorites", "/library", "/watch/continue", "/watch/history", "/favorites?cursor="]
)
def test_library_lists(signed_in: Any, path: str) -> None:
    user, client = signed_in()

    def add(n: int) -> None:
        for anime in AnimeFactory.create_batch(n):
            ReleaseFactory(anime=anime)
            Favorite.objects.create(user=user, anime=anime)
            LibraryEntry.objects.create(user=user, anime=anime, status="watching")
            client.post(
                "/watch/progress",
                {"anime_id": str(anime.pk), "episode": 1, "position_seconds": 30},
                format="json",
            )

    assert_constant_queries(add, lambda: client.get(path))


def test_recording_watch_progress_costs_the_same_however_long_the_history(
    signed_in: Any,
) -> None:
    user, client = signed_in()
    anime = AnimeFactory()
    others = AnimeFactory.create_batch(30)
    episode = iter(range(1, 1000))

    def post() -> Any:
        body = {"anime_id": str(anime.pk), "episode": next(episode), "position_seconds": 10}
        return client.post("/watch/progress", body, format="json")

    post()  # the first write creates the row; later ones update it
    short_history = count_queries(post)
    for other in others:  # 30 more anime and 60 more episodes in this user's history
        for number in (1, 2):
            client.post(
                "/watch/progress",
                {"anime_id": str(other.pk), "episode": number, "position_seconds": 5},
                format="json",
            )
    assert WatchProgress.objects.filter(user=user).count() == 31
    assert count_queries(post) == short_history
    assert Anime.objects.count() == 31
