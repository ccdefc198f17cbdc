"""Modes, emergency stop, scheduled-task gating, parser settings, incremental Kodik sync."""

from __future__ import annotations

import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django_q.models import Schedule

from catalog.models import Anime, PlaybackSource
from ingestion.models import ParserSettings, SyncRun
from ingestion.runs import run_create
from ingestion.services import (
    parser_emergency_stop,
    parser_mode_set,
    parser_settings_update,
    run_execute,
)
from ingestion.tasks import scheduled_sync
from tests.ingestion.conftest import fault

pytestmark = pytest.mark.django_db


def test_scheduled_syncs_run_only_in_auto_mode(upstream):
    assert scheduled_sync("calendar") == "skipped: manual mode"
    assert not SyncRun.objects.exists()
    parser_mode_set(request=None, mode=ParserSettings.Mode.AUTO)
    assert scheduled_sync("episodes", "ongoing") == "skipped: autoupdate is off"
    assert scheduled_sync("calendar") == SyncRun.Status.SUCCEEDED
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.SCHEDULE


@pytest.mark.django_db(transaction=True)
def test_emergency_stop_halts_a_running_sync_at_the_next_page(upstream):
    parser_mode_set(request=None, mode=ParserSettings.Mode.AUTO)
    parser_settings_update(request=None, changes={"enable_autoupdate": True})
    fault(upstream, path_prefix="/api/graphql", mode="slow", count=1000, seconds=1.5)
    run = run_create(kind=SyncRun.Kind.CATALOG, trigger=SyncRun.Trigger.ADMIN)
    queued = run_create(kind=SyncRun.Kind.EPISODES, trigger=SyncRun.Trigger.ADMIN)

    def work() -> None:
        run_execute(run.pk)
        connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 60
    while SyncRun.objects.get(pk=run.pk).pages < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    told = parser_emergency_stop(request=None, reason="bad data upstream")
    worker.join(timeout=120)
    assert told == 2
    run.refresh_from_db()
    queued.refresh_from_db()
    assert run.status == SyncRun.Status.STOPPED
    assert run.pages < 3  # it did not run to the end
    assert queued.status == SyncRun.Status.STOPPED
    settings_row = ParserSettings.load()
    assert settings_row.mode == ParserSettings.Mode.MANUAL
    assert not settings_row.enable_autoupdate
    assert scheduled_sync("catalog") == "skipped: manual mode"


def test_settings_are_clamped_and_forced_and_reschedule(
    upstream, django_capture_on_commit_callbacks
):
    row = parser_settings_update(
        request=None,
        changes={
            "update_interval_minutes": 5,
            "stage_only": False,
            "autopublish_enabled": True,
            "allowed_translation_types": ["sub", "voice"],
            "blacklist_titles": [" Naruto ", ""],
        },
    )
    assert row.update_interval_minutes == 30
    assert row.stage_only is True
    assert row.autopublish_enabled is False
    assert row.allowed_translation_types == ["subtitles", "voice"]
    assert row.blacklist_titles == ["Naruto"]
    with django_capture_on_commit_callbacks(execute=True):  # schedules follow after commit
        parser_settings_update(request=None, changes={"update_interval_minutes": 45})
    assert Schedule.objects.get(name="ingestion.episodes_autoupdate").minutes == 45


def test_blacklisted_titles_and_allowed_translation_names(upstream):
    parser_settings_update(request=None, changes={"blacklist_titles": ["Sousou no Frieren"]})
    call_command("sync_catalog", stdout=StringIO())
    assert not Anime.objects.filter(shikimori_id=52991).exists()
    parser_settings_update(
        request=None, changes={"blacklist_titles": [], "allowed_translations": ["AniLibria.TV"]}
    )
    call_command("sync_catalog", "--ids", "52991", stdout=StringIO())
    call_command("sync_episodes", "--anime", "52991", stdout=StringIO())
    names = set(PlaybackSource.objects.values_list("translation__name", flat=True))
    assert names <= {"AniLibria.TV"}


def test_recent_episode_sync_follows_kodik_list_pages(upstream):
    call_command("sync_catalog", stdout=StringIO())
    out = StringIO()
    call_command("sync_episodes", "--recent", stdout=out)
    run = SyncRun.objects.latest("created_at")
    assert run.target == "recent"
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.created > 0
    assert PlaybackSource.objects.exists()
