"""New-episode notifications end to end: the real sync commands against the fake upstream,
and the job they queue when they finish (run inline here, as qcluster would run it)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django_q.conf import Conf
from django_q.models import Task

from catalog.models import Anime
from library.models import EpisodeWatermark, Favorite, LibraryEntry, Notification
from tests.conftest import role_client
from tests.factories import UserFactory
from tests.ingestion.conftest import mutate, upstream  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db
FRIEREN = 52991


def sync(callbacks: Any, command: str, *args: str) -> str:
    """Run a sync command and the on-commit hooks it registers (the queued job)."""
    out = StringIO()
    with callbacks(execute=True):
        call_command(command, *args, stdout=out)
    return out.getvalue()


def jobs() -> int:
    return Task.objects.filter(func="library.tasks.notify_new_episodes").count()


def test_a_new_episode_from_the_episode_sync_notifies_each_follower_once(
    upstream,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(Conf, "SYNC", True)  # async_task runs the job inline
    call_command("sync_catalog", "--ids", str(FRIEREN), stdout=StringIO())
    frieren = Anime.objects.get(shikimori_id=FRIEREN)
    Anime.objects.filter(pk=frieren.pk).update(state=Anime.State.PUBLISHED)
    fan, client = role_client()
    Favorite.objects.create(user=fan, anime=frieren)
    watcher, planner, finished = UserFactory(), UserFactory(), UserFactory()
    for user, status in ((watcher, "watching"), (planner, "planned"), (finished, "completed")):
        LibraryEntry.objects.create(user=user, anime=frieren, status=status)

    assert "created 1" in sync(
        django_capture_on_commit_callbacks, "sync_episodes", "--anime", "52991"
    )
    assert jobs() == 1  # queued by the finished run
    assert EpisodeWatermark.objects.get(anime=frieren).episode_number == 28
    assert not Notification.objects.exists()  # first sight: silent

    mutate(upstream, FRIEREN, kodik_episodes=29, episodes_aired=29)
    sync(django_capture_on_commit_callbacks, "sync_episodes", "--anime", "52991", "--dry-run")
    assert jobs() == 1
    assert not Notification.objects.exists()
    assert "updated 1" in sync(
        django_capture_on_commit_callbacks, "sync_episodes", "--anime", "52991"
    )
    assert jobs() == 2
    rows = list(Notification.objects.values_list("user_id", "anime_id", "episode_number"))
    assert sorted(rows) == sorted((u.pk, frieren.pk, 29) for u in (fan, watcher, planner))
    body = client.get("/notifications").json()
    assert [(n["anime"]["id"], n["episode_number"]) for n in body] == [(str(frieren.pk), 29)]
    assert client.get("/notifications/unread-count").json() == {"unread": 1}

    # A second sync (nothing new), a calendar sync and a retried job: nothing added.
    assert "unchanged 1" in sync(
        django_capture_on_commit_callbacks, "sync_episodes", "--anime", "52991"
    )
    sync(django_capture_on_commit_callbacks, "sync_schedule")
    assert jobs() == 4  # the calendar run queues the job too
    call_command("notify_new_episodes", stdout=StringIO())
    assert Notification.objects.count() == 3
