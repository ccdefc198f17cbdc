"""Upstream failures end a sync with one line naming the upstream, the page and the cause
(no traceback); the run log keeps the detail; a passing glitch is retried like a 5xx."""

from __future__ import annotations

import subprocess
import sys

import pytest

from catalog.models import Anime
from ingestion.models import SyncRun
from tests.ingestion.conftest import fault
from tests.servers import ROOT, server_env

pytestmark = pytest.mark.django_db(transaction=True)  # the child process sees the rows


def sync_catalog(upstream, *args: str) -> subprocess.CompletedProcess[str]:
    env = server_env(
        KITSU_UPSTREAM_URL=upstream.base_url,
        SHIKIMORI_RPS="1000",
        SHIKIMORI_RPM="100000",
        UPSTREAM_RETRIES="2",
        UPSTREAM_BACKOFF="0.01",
    )
    return subprocess.run(
        [sys.executable, "manage.py", "sync_catalog", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_truncated_page_is_retried_and_the_sync_goes_on(upstream):
    fault(upstream, path_prefix="/api/graphql", mode="malformed", count=2)
    done = sync_catalog(upstream)
    assert done.returncode == 0, done.stderr
    assert "created 120" in done.stdout
    assert Anime.objects.count() == 120


def test_a_page_that_stays_malformed_fails_the_run_in_one_line(upstream):
    assert sync_catalog(upstream, "--pages", "1").returncode == 0
    fault(upstream, path_prefix="/api/graphql", mode="malformed", count=3)  # every attempt
    failed = sync_catalog(upstream, "--start-page", "2")
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr + failed.stdout
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("CommandError: catalog sync #")
    assert "shikimori: catalog page 2: answered with malformed JSON (truncated: " in last
    run = SyncRun.objects.latest("created_at")
    assert run.status == SyncRun.Status.FAILED
    assert run.error_summary.startswith("shikimori: catalog page 2: answered with malformed JSON")
    detail = run.log_lines.filter(level="error").values_list("message", flat=True)
    assert any("after 3 attempts" in line for line in detail), list(detail)
    assert Anime.objects.count() == 50  # page 1 of the first run stays; page 2 wrote nothing
