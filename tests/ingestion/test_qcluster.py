"""Audit findings 1.1 and 1.2 with real processes: django-q2 clusters and gunicorn workers on
PostgreSQL. Slow by nature (the django-q2 scheduler ticks every 30 s)."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task

from catalog.models import Anime
from ingestion.models import ParserSettings, SyncRun
from ingestion.runs import run_enqueue
from ingestion.services import parser_mode_set
from tests.ingestion.conftest import fault
from tests.servers import gunicorn, kill_group, qcluster

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def cluster_env(upstream) -> dict[str, str]:
    return {
        "KITSU_UPSTREAM_URL": upstream.base_url,
        "SHIKIMORI_RPS": "1000",
        "SHIKIMORI_RPM": "100000",
        "KODIK_RPS": "1000",
        "KODIK_RPM": "100000",
        "Q_WORKERS": "1",
        "Q_TIMEOUT": "15",
        "Q_RETRY": "20",
        "UPSTREAM_BACKOFF": "0.05",
    }


def wait_for(predicate, timeout: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def test_two_clusters_fire_each_schedule_slot_exactly_once(tmp_path, upstream):
    parser_mode_set(request=None, mode=ParserSettings.Mode.AUTO)
    Schedule.objects.exclude(name="ingestion.calendar_hourly").delete()
    Schedule.objects.filter(name="ingestion.calendar_hourly").update(
        schedule_type=Schedule.MINUTES, minutes=1, next_run=timezone.now() + timedelta(seconds=5)
    )
    scheduled = SyncRun.objects.filter(trigger=SyncRun.Trigger.SCHEDULE, kind="calendar")
    env = cluster_env(upstream)
    with qcluster(tmp_path, "a", **env), qcluster(tmp_path, "b", **env):
        assert wait_for(lambda: scheduled.count() >= 3, timeout=240, step=2), scheduled.count()
        time.sleep(35)  # one more scheduler tick of both clusters: no late duplicate appears
    runs = list(scheduled.order_by("created_at"))
    assert len(runs) == 3, [(r.pk, r.created_at) for r in runs]
    gaps = [(b.created_at - a.created_at).total_seconds() for a, b in itertools.pairwise(runs)]
    assert all(gap >= 30 for gap in gaps), gaps  # one run per one-minute slot
    assert all(r.status == SyncRun.Status.SUCCEEDED for r in runs)


def test_a_job_survives_a_killed_cluster(tmp_path, upstream):
    # Slow upstream answers keep the job busy long enough to kill its cluster mid-run.
    fault(upstream, path_prefix="/api/graphql", mode="slow", count=8, seconds=3)
    run = run_enqueue(kind=SyncRun.Kind.CATALOG, trigger=SyncRun.Trigger.ADMIN)
    assert OrmQ.objects.count() == 1  # durable: a row in PostgreSQL, not process memory
    env = cluster_env(upstream)
    with qcluster(tmp_path, "first", **env) as first:
        assert wait_for(
            lambda: SyncRun.objects.get(pk=run.pk).status == SyncRun.Status.RUNNING, timeout=60
        )
        kill_group(first)  # SIGKILL the sentinel, pusher, monitor and worker
    assert SyncRun.objects.get(pk=run.pk).status == SyncRun.Status.RUNNING
    with qcluster(tmp_path, "second", **env):
        assert wait_for(
            lambda: SyncRun.objects.get(pk=run.pk).status == SyncRun.Status.SUCCEEDED,
            timeout=90,
        ), SyncRun.objects.get(pk=run.pk).__dict__
    assert Anime.objects.count() == len(upstream.catalog)
    assert Anime.objects.values("shikimori_id").distinct().count() == len(upstream.catalog)
    assert OrmQ.objects.count() == 0


def test_web_workers_create_no_schedules_and_run_no_sync(tmp_path):
    before = sorted(Schedule.objects.values_list("id", "name", "next_run"))
    assert before, "migrations create the schedules"
    with gunicorn(4, tmp_path) as base:
        for path in ("/health", "/anime", "/api/schedule", "/genres") * 5:
            assert httpx.get(f"{base}{path}", headers={"Connection": "close"}).status_code == 200
        time.sleep(3)
    assert sorted(Schedule.objects.values_list("id", "name", "next_run")) == before
    assert OrmQ.objects.count() == 0
    assert Task.objects.count() == 0
    assert SyncRun.objects.count() == 0
