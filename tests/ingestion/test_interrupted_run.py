"""A catalog sync killed mid-page (SIGKILL) leaves no half-written anime, and a re-run
reaches the same end state with no duplicates."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from catalog.models import Anime
from ingestion.models import SyncRun
from tests.ingestion.conftest import fault
from tests.servers import ROOT, server_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_killed_sync_leaves_whole_pages_and_a_rerun_completes(upstream):
    env = server_env(
        KITSU_UPSTREAM_URL=upstream.base_url, SHIKIMORI_RPS="1000", SHIKIMORI_RPM="100000"
    )
    # Pages 1 and 2 (one GraphQL request each) take 4 s, so the kill lands inside page 2.
    fault(upstream, path_prefix="/api/graphql", mode="slow", count=2, seconds=4)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sync_catalog"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = SyncRun.objects.filter(kind="catalog").first()
        if run is not None and run.pages >= 1:
            break
        time.sleep(0.2)
    time.sleep(2)  # well inside page 2's request
    process.send_signal(signal.SIGKILL)
    process.wait()

    written = Anime.objects.count()
    assert written == 50, "page 1 committed as a whole, page 2 not at all"
    for anime in Anime.objects.prefetch_related("genres"):  # no anime without its relations
        expected = upstream.catalog.get(anime.shikimori_id).genre_ids
        assert len(anime.genres.all()) == len(expected), anime.shikimori_id
    assert SyncRun.objects.get().status == SyncRun.Status.RUNNING  # died without a word

    subprocess.run(
        [sys.executable, "manage.py", "sync_catalog"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )
    assert Anime.objects.count() == len(upstream.catalog)
    assert Anime.objects.values("shikimori_id").distinct().count() == len(upstream.catalog)
    runs = dict(SyncRun.objects.values_list("status", "unchanged"))
    assert runs[SyncRun.Status.SUCCEEDED] == 50  # the first page was already there
    assert SyncRun.Status.FAILED in runs  # the dead run is marked interrupted
