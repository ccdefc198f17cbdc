"""Exactly once with real processes: two qcluster processes (two workers each) run the
episode sync and several copies of the notification job at once against the same new
episode; each follower ends up with one notification. Slow by nature (real clusters)."""

from __future__ import annotations

import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django_q.models import OrmQ, Task
from django_q.tasks import async_task

from accounts.models import User
from catalog.models import Anime
from ingestion.models import SyncRun
from ingestion.runs import run_enqueue
from library.models import EpisodeWatermark, Favorite, LibraryEntry, Notification
from tests.ingestion.conftest import mutate, upstream  # noqa: F401 (the fixture)
from tests.servers import qcluster

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
FRIEREN = 52991
FOLLOWERS = 3000
JOB = "library.tasks.notify_new_episodes"
COPIES = 7


def wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return bool(predicate())


def test_two_clusters_and_repeated_jobs_notify_each_follower_once(
    tmp_path,
    upstream,  # noqa: F811
) -> None:
    call_command("sync_catalog", "--ids", str(FRIEREN), stdout=StringIO())
    call_command("sync_episodes", "--anime", str(FRIEREN), stdout=StringIO())
    frieren = Anime.objects.get(shikimori_id=FRIEREN)
    Anime.objects.filter(pk=frieren.pk).update(state=Anime.State.PUBLISHED)
    call_command("notify_new_episodes", stdout=StringIO())  # first sight: watermark 28
    assert EpisodeWatermark.objects.get(anime=frieren).episode_number == 28
    users = User.objects.bulk_create(
        User(email=f"follower{i}@example.com", password="!") for i in range(FOLLOWERS)
    )
    half = FOLLOWERS // 2
    Favorite.objects.bulk_create(Favorite(user=u, anime=frieren) for u in users[:half])
    LibraryEntry.objects.bulk_create(
        LibraryEntry(user=u, anime=frieren, status="watching") for u in users[half:]
    )
    OrmQ.objects.all().delete()  # the job the in-process sync queued (nothing new for it)
    Task.objects.all().delete()

    mutate(upstream, FRIEREN, kodik_episodes=29, episodes_aired=29)
    env = {
        "KITSU_UPSTREAM_URL": upstream.base_url,
        "KODIK_RPS": "1000",
        "KODIK_RPM": "100000",
        "Q_WORKERS": "2",
        "Q_TIMEOUT": "60",
        "Q_RETRY": "90",
    }
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with qcluster(tmp_path, "a", **env), qcluster(tmp_path, "b", **env):
        assert wait_for(lambda: all("running." in log.read_text() for log in logs), 60)
        run = run_enqueue(
            kind=SyncRun.Kind.EPISODES, trigger=SyncRun.Trigger.ADMIN, target=str(frieren.pk)
        )
        assert wait_for(lambda: SyncRun.objects.get(pk=run.pk).status in SyncRun.FINAL, 120)
        # The finished run queued the job; retried and scheduled copies race it.
        for _ in range(COPIES):
            async_task(JOB)
        assert wait_for(
            lambda: OrmQ.objects.count() == 0 and Task.objects.filter(func=JOB).count() > COPIES,
            timeout=120,
        ), OrmQ.objects.count()
    assert SyncRun.objects.get(pk=run.pk).status == SyncRun.Status.SUCCEEDED
    # Both clusters really ran the job (the race this test is about took place).
    assert all("new-episode notifications" in log.read_text() for log in logs)
    done = Task.objects.filter(func=JOB)
    assert done.count() == COPIES + 1
    assert all(task.success for task in done), [t.result for t in done if not t.success]
    assert Notification.objects.count() == FOLLOWERS
    assert set(Notification.objects.values_list("episode_number", flat=True)) == {29}
    assert Notification.objects.values("user_id").distinct().count() == FOLLOWERS
    assert EpisodeWatermark.objects.get(anime=frieren).episode_number == 29
