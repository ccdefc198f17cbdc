"""The sync pipelines end to end: real clients, fake upstream, PostgreSQL."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import AiringSlot, Anime, Episode, Genre, PlaybackSource, Release
from ingestion.models import SyncRun
from ingestion.services import parser_settings_update
from tests.ingestion.conftest import fault, mutate

pytestmark = pytest.mark.django_db


def sync(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_catalog_sync_creates_drafts_with_every_title_variant_and_relations(upstream):
    output = sync("sync_catalog")
    assert "created 120, updated 0, unchanged 0, failed 0, pages 3" in output
    assert Anime.objects.count() == 120
    assert set(Anime.objects.values_list("state", flat=True)) == {"draft"}
    frieren = Anime.objects.get(shikimori_id=52991)
    assert frieren.title_ru == "Провожающая в последний путь Фрирен"
    assert frieren.title_en == "Frieren: Beyond Journey's End"
    assert frieren.title_ja == "葬送のフリーレン"
    assert frieren.source == "parser"
    assert frieren.poster_url.startswith("http")
    assert set(frieren.genres.values_list("name", flat=True)) >= {"Adventure", "Drama", "Fantasy"}
    assert list(frieren.studios.values_list("name", flat=True)) == ["Madhouse"]
    assert "фрирен" in frieren.search_document


def test_second_run_over_unchanged_data_writes_nothing(upstream, django_assert_max_num_queries):
    sync("sync_catalog")
    before = dict(Anime.objects.values_list("pk", "updated_at"))
    output = sync("sync_catalog")
    assert "created 0, updated 0, unchanged 120" in output
    assert dict(Anime.objects.values_list("pk", "updated_at")) == before


def test_changed_upstream_data_is_updated_once(upstream):
    sync("sync_catalog")
    mutate(upstream, 5, score="1.23", name="Renamed Show")
    assert "created 0, updated 1, unchanged 119" in sync("sync_catalog")
    renamed = Anime.objects.get(shikimori_id=5)
    assert (renamed.title_original, str(renamed.score)) == ("Renamed Show", "1.23")
    assert "renamed show" in renamed.search_document


def test_locked_fields_and_editorial_state_are_never_overwritten(upstream):
    sync("sync_catalog")
    partly = Anime.objects.get(shikimori_id=5)
    partly.locked_fields = ["title"]
    partly.title = "Editor's title"
    partly.state = Anime.State.PUBLISHED
    partly.save()
    whole = Anime.objects.get(shikimori_id=6)
    whole.is_locked = True
    whole.save()
    mutate(upstream, 5, name="Upstream title", score="2.00")
    mutate(upstream, 6, name="Upstream title 6", score="3.00")
    sync("sync_catalog")
    partly.refresh_from_db()
    whole.refresh_from_db()
    assert partly.title == "Editor's title"
    assert str(partly.score) == "2.00"  # unlocked fields still follow upstream
    assert partly.state == Anime.State.PUBLISHED
    assert whole.title != "Upstream title 6"
    assert str(whole.score) != "3.00"


def test_pages_ids_since_options(upstream):
    assert "pages 1" in sync("sync_catalog", "--pages", "1")
    assert Anime.objects.count() == 50
    sync("sync_catalog", "--ids", "52991")
    assert Anime.objects.filter(shikimori_id=52991).exists()
    Anime.objects.all().delete()
    sync("sync_catalog", "--since", "2023-01-01")
    assert Anime.objects.exists()
    assert all(a.aired_on.year >= 2023 for a in Anime.objects.all())


def test_dry_run_reports_and_writes_nothing(upstream):
    output = sync("sync_catalog", "--dry-run")
    assert "(dry run)" in output
    assert "created 120" in output
    assert Anime.objects.count() == 0
    assert Genre.objects.count() == 0


def test_blacklist_is_honoured(upstream):
    parser_settings_update(
        request=None, changes={"blacklist_external_ids": ["52991"], "blacklist_titles": []}
    )
    sync("sync_catalog")
    assert not Anime.objects.filter(shikimori_id=52991).exists()
    assert Anime.objects.count() == 119


def test_bad_arguments_and_upstream_failure_exit_non_zero(upstream, settings):
    with pytest.raises(CommandError, match="--since"):
        sync("sync_catalog", "--since", "yesterday")
    with pytest.raises(CommandError, match="--ids"):
        sync("sync_catalog", "--ids", "a,b")
    settings.UPSTREAM_RETRIES = 0
    fault(upstream, path_prefix="/api/graphql", mode="500", count=1)
    with pytest.raises(CommandError, match="failed"):
        sync("sync_catalog")
    run = SyncRun.objects.latest("created_at")
    assert run.status == SyncRun.Status.FAILED
    assert "500" in run.error_summary
    assert run.log_lines.filter(level="error").exists()


@pytest.mark.django_db(transaction=True)  # the other thread must see the committed run
def test_a_second_run_of_the_same_target_is_skipped_while_one_holds_the_lock(upstream):
    from ingestion.runs import run_create, sync_lock
    from ingestion.services import run_execute

    run = run_create(kind=SyncRun.Kind.CALENDAR, trigger=SyncRun.Trigger.COMMAND)
    with sync_lock("sync:calendar:all") as taken:
        assert taken
        # The lock is a PostgreSQL advisory lock: another connection cannot take it.
        import threading

        result: list[str] = []

        def other() -> None:
            from django.db import connection

            result.append(run_execute(run.pk).status)
            connection.close()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert result == [SyncRun.Status.SKIPPED]


def test_calendar_sync_and_schedule_endpoint(upstream, api):
    sync("sync_catalog")
    output = sync("sync_schedule")
    assert "calendar sync" in output
    slots = AiringSlot.objects.select_related("anime")
    assert slots.exists()
    slot = slots.first()
    assert slot.airs_at.tzinfo is not None
    assert slot.anime.next_episode_at == slot.airs_at or slot.anime.next_episode_at
    assert "created 0, updated 0" in sync("sync_schedule")  # idempotent
    Anime.objects.update(state=Anime.State.PUBLISHED)
    day = slot.airs_at.date()
    iso = api.get(f"/api/schedule?date={day.isoformat()}").json()
    us = api.get(f"/api/schedule?date={day.month}/{day.day}/{day.year}").json()
    assert iso == us
    items = iso["data"]["scheduledAnimes"]
    mine = next(i for i in items if i["id"] == str(slot.anime_id) and i["episode"] == slot.episode)
    assert mine["airingTimestamp"] == int(slot.airs_at.timestamp() * 1000)
    assert mine["time"] == slot.airs_at.strftime("%H:%M")
    assert api.get("/api/schedule?date=20-01-2026").status_code == 400


def test_episode_sync_releases_episodes_and_sources(upstream):
    sync("sync_catalog", "--ids", "52991")
    frieren = Anime.objects.get(shikimori_id=52991)
    output = sync("sync_episodes", "--anime", "52991")
    assert "created 1" in output
    assert Release.objects.filter(anime=frieren).exists()
    episodes = Episode.objects.filter(release__anime=frieren)
    assert episodes.count() >= 1
    sources = PlaybackSource.objects.filter(episode__release__anime=frieren)
    assert sources.exists()
    assert all(s.url.startswith("https://") for s in sources)
    assert "unchanged 1" in sync("sync_episodes", "--anime", str(frieren.pk))


def test_episode_sync_honours_allowed_translation_types_and_dry_run(upstream):
    sync("sync_catalog", "--ids", "52991")
    parser_settings_update(request=None, changes={"allowed_translation_types": ["subtitles"]})
    sync("sync_episodes", "--anime", "52991", "--dry-run")
    assert not PlaybackSource.objects.exists()
    sync("sync_episodes", "--anime", "52991")
    kinds = set(PlaybackSource.objects.values_list("translation__kind", flat=True))
    assert kinds == {"subtitles"}


def test_ongoing_target_and_unknown_anime(upstream):
    sync("sync_catalog")
    output = sync("sync_episodes", "--ongoing")
    ongoing = Anime.objects.filter(status="ongoing").count()
    run = SyncRun.objects.latest("created_at")
    assert run.target == "ongoing"
    assert run.created + run.updated + run.unchanged + run.failed == ongoing
    assert "episodes sync" in output
    with pytest.raises(CommandError, match="No anime"):
        sync("sync_episodes", "--anime", "424242")


def test_status_command_reads_runs_from_the_database(upstream):
    sync("sync_catalog", "--pages", "1")
    out = sync("ingestion_status")
    assert "Mode: manual" in out
    assert "ingestion.catalog_daily" in out
    assert "catalog" in out
    assert "succeeded" in out
    run = SyncRun.objects.latest("created_at")
    assert "page 1" in sync("ingestion_status", "--log", str(run.pk))


def test_a_sync_page_writes_in_a_constant_number_of_queries(upstream):
    """The hot write path of a sync: 3 new anime cost the same queries as 30 (no N+1 on
    anime, genres, studios or their links)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ids = [str(anime.id) for anime in upstream.catalog.ordered()]

    def sync(batch: list[str]) -> int:
        with CaptureQueriesContext(connection) as captured:
            call_command("sync_catalog", "--ids", ",".join(batch), stdout=StringIO())
        return len(captured)

    three, thirty = sync(ids[:3]), sync(ids[3:33])
    assert Anime.objects.filter(shikimori_id__isnull=False).count() == 33
    assert three == thirty, (three, thirty)
