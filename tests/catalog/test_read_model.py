"""The anime read model (catalog.documents): the stored card and detail JSON are exactly what
the serializers produce, and no write path can leave them, or the cached responses, stale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Prefetch
from django.test import Client
from django.utils import timezone

from catalog.api.serializers import AnimeCardOutput, AnimeDetailOutput
from catalog.models import Anime, AnimeDocument, Genre, Release, Studio
from tests.factories import (
    AnimeFactory,
    EpisodeFactory,
    GenreFactory,
    PlaybackSourceFactory,
    ReleaseFactory,
    StudioFactory,
)

ROOT = Path(__file__).resolve().parents[2]


def _serialized(anime: Anime) -> tuple[dict[str, Any], dict[str, Any]]:
    loaded = Anime.objects.prefetch_related(
        Prefetch("genres", queryset=Genre.objects.order_by("name")),
        "studios",
        Prefetch("releases", queryset=Release.objects.order_by("ordering")),
    ).get(pk=anime.pk)
    card = json.loads(json.dumps(AnimeCardOutput(loaded).data, default=str))
    detail = json.loads(json.dumps(AnimeDetailOutput(loaded).data, default=str))
    return card, detail


@pytest.mark.django_db
@pytest.mark.parametrize("rich", [True, False])
def test_documents_are_exactly_what_the_serializers_produce(api, rich):
    if rich:
        anime = AnimeFactory(
            title="Frieren",
            title_original="Sousou no Frieren",
            title_ru="Фрирен",
            title_en="Frieren: Beyond Journey's End",
            title_ja="葬送のフリーレン",
            synonyms=["Frieren at the Funeral", "フリーレン"],
            description="A mage outlives her party.",
            poster_url="https://img.example/f.jpg",
            score=Decimal("9.29"),
            episodes_total=28,
            episodes_aired=10,
            aired_on=date(2023, 9, 29),
            released_on=date(2024, 3, 22),
            duration_minutes=24,
            rating="pg_13",
            franchise="frieren",
            next_episode_at=datetime(2026, 1, 9, 15, 0, 0, 123456, tzinfo=UTC),
            genres=[GenreFactory(name="Fantasy"), GenreFactory(name="Adventure", name_ru="Прик")],
            studios=[StudioFactory(name="Madhouse"), StudioFactory(name="A-1")],
        )
        ReleaseFactory(anime=anime, ordering=2, title="Part 2", year=None)
        ReleaseFactory(anime=anime, ordering=1, title="Part 1")
    else:
        anime = AnimeFactory(
            title_original="", year=None, season="", score=0, shikimori_id=None, mal_id=None
        )
    card, detail = _serialized(anime)
    assert api.get("/anime").json() == [card]
    assert api.get(f"/anime/{anime.pk}").json() == detail
    assert api.get("/anime").json() == [card]  # stored now, served from the document
    assert api.get(f"/anime/{anime.pk}").json() == detail
    document = AnimeDocument.objects.get(anime=anime)
    assert json.loads(document.card) == card
    assert json.loads(document.detail) == detail
    if rich:
        assert api.get("/search/anime", {"q": "frieren"}).json() == [card]


# --- No write path leaves the read model or the cache stale ---------------------------------


def _admin_save(anime: Anime) -> None:
    """The Django admin change form (through the editorial service)."""
    client = Client()
    User = get_user_model()
    user = User.objects.filter(email="admin@example.com").first() or User.objects.create_superuser(
        email="admin@example.com", password="pw"
    )
    client.force_login(user)
    data = {
        "title": "Written in the admin",
        "title_en": "Constant name",
        "description": "Story",
        "poster_url": "https://img.example/p.jpg",
        "score": "8.6",
        "episodes_total": "26",
        "episodes_aired": "26",
        "state": "published",
        "source": "manual",
        "synonyms": "[]",
        "kind": "tv",
        "status": "released",
        "rating": "pg_13",
        "releases-TOTAL_FORMS": "0",
        "releases-INITIAL_FORMS": "0",
        "releases-MIN_NUM_FORMS": "0",
        "releases-MAX_NUM_FORMS": "1000",
    }
    response = client.post(f"/admin/catalog/anime/{anime.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]


def _raw_sql(anime: Anime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_anime SET title = %s WHERE id = %s", ["Written in SQL", anime.pk]
        )


def _bulk_update(anime: Anime) -> None:
    anime.title = "Written by bulk_update"
    Anime.objects.bulk_update([anime], ["title"])


def _save(anime: Anime) -> None:
    anime.title = "Written by save"
    anime.save()


def _update(anime: Anime) -> None:
    Anime.objects.filter(pk=anime.pk).update(title="Written by update")


TITLE_WRITES: dict[str, tuple[Callable[[Anime], None], str]] = {
    "model save": (_save, "Written by save"),
    "queryset.update": (_update, "Written by update"),
    "bulk_update": (_bulk_update, "Written by bulk_update"),
    "raw SQL": (_raw_sql, "Written in SQL"),
    "admin save": (_admin_save, "Written in the admin"),
}


def _prime(api: Any, anime: Anime) -> None:
    """Read the list and the detail twice: the documents are built and the answers cached."""
    for _ in range(2):
        assert api.get("/anime").status_code == 200
        assert api.get(f"/anime/{anime.pk}").status_code == 200
    assert api.get("/anime").headers["X-Cache"] == "hit"


def _complete_anime(**fields: Any) -> Anime:
    """Published, with a video: the editorial rules keep it published when saved."""
    anime = AnimeFactory(description="Story", poster_url="https://img.example/p.jpg", **fields)
    PlaybackSourceFactory(episode=EpisodeFactory(release=ReleaseFactory(anime=anime)))
    return anime


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", list(TITLE_WRITES))
def test_every_write_of_an_anime_shows_at_once(api, catalog_cache, path):
    anime = _complete_anime(title="Before", title_en="Constant name")
    _prime(api, anime)
    write, expected = TITLE_WRITES[path]
    write(anime)
    assert [item["title"] for item in api.get("/anime").json()] == [expected]
    assert api.get(f"/anime/{anime.pk}").json()["title"] == expected
    found = api.get("/search/anime", {"q": "constant name"}).json()
    assert [item["title"] for item in found] == [expected]
    # ... and the answers cached after the write are the new ones.
    cached = api.get("/anime")
    assert cached.headers["X-Cache"] == "hit"
    assert [item["title"] for item in cached.json()] == [expected]


def _add_genre(anime: Anime) -> None:
    anime.genres.add(GenreFactory(name="Added"))


def _remove_genre(anime: Anime) -> None:
    anime.genres.remove(Genre.objects.get(name="Original"))


def _rename_genre(anime: Anime) -> None:
    genre = Genre.objects.get(name="Original")
    genre.name = "Renamed"
    genre.save()


def _rename_genre_by_update(anime: Anime) -> None:
    Genre.objects.filter(name="Original").update(name="Renamed")


def _link_genre_by_bulk_create(anime: Anime) -> None:
    genre = GenreFactory(name="Added")
    Anime.genres.through.objects.bulk_create([Anime.genres.through(anime=anime, genre=genre)])


def _unlink_genres_by_sql(anime: Anime) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalog_anime_genres WHERE anime_id = %s", [anime.pk])


GENRE_WRITES: dict[str, tuple[Callable[[Anime], None], list[str]]] = {
    "m2m add": (_add_genre, ["Added", "Original"]),
    "m2m remove": (_remove_genre, []),
    "genre rename": (_rename_genre, ["Renamed"]),
    "genre rename by update()": (_rename_genre_by_update, ["Renamed"]),
    "link by bulk_create": (_link_genre_by_bulk_create, ["Added", "Original"]),
    "unlink by raw SQL": (_unlink_genres_by_sql, []),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", list(GENRE_WRITES))
def test_every_write_of_genres_shows_at_once(api, catalog_cache, path):
    anime = AnimeFactory(genres=[GenreFactory(name="Original")])
    _prime(api, anime)
    write, expected = GENRE_WRITES[path]
    write(anime)
    assert [g["name"] for g in api.get("/anime").json()[0]["genres"]] == expected
    assert [g["name"] for g in api.get(f"/anime/{anime.pk}").json()["genres"]] == expected


@pytest.mark.django_db(transaction=True)
def test_studio_and_release_writes_show_in_the_detail_at_once(api, catalog_cache):
    anime = AnimeFactory(studios=[StudioFactory(name="Madhouse")])
    _prime(api, anime)

    def detail() -> dict[str, Any]:
        return api.get(f"/anime/{anime.pk}").json()

    Studio.objects.filter(name="Madhouse").update(name="MAPPA")
    assert [s["name"] for s in detail()["studios"]] == ["MAPPA"]
    release = ReleaseFactory(anime=anime, ordering=1, title="Season 1")
    assert [r["title"] for r in detail()["releases"]] == ["Season 1"]
    Release.objects.filter(pk=release.pk).update(title="Season one")
    assert [r["title"] for r in detail()["releases"]] == ["Season one"]
    Release.objects.bulk_create([Release(anime=anime, ordering=2, title="Season 2")])
    assert [r["title"] for r in detail()["releases"]] == ["Season one", "Season 2"]
    Release.objects.filter(anime=anime).delete()
    assert detail()["releases"] == []


@pytest.mark.django_db(transaction=True)
def test_bulk_created_and_hidden_anime(api, catalog_cache):
    shown = AnimeFactory(title="Shown")
    _prime(api, shown)
    Anime.objects.bulk_create(
        [
            Anime(title="Bulk public", state="published"),
            Anime(title="Bulk draft", state="draft"),
        ]
    )
    assert {a["title"] for a in api.get("/anime").json()} == {"Shown", "Bulk public"}
    Anime.objects.filter(title="Shown").update(state="archived")
    assert [a["title"] for a in api.get("/anime").json()] == ["Bulk public"]
    assert api.get(f"/anime/{shown.pk}").status_code == 404
    Anime.objects.filter(title="Bulk public").update(deleted_at=timezone.now())
    assert api.get("/anime").json() == []
    assert api.get("/search/anime", {"q": "bulk"}).json() == []
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_anime SET state = 'published', deleted_at = NULL")
    assert {a["title"] for a in api.get("/anime").json()} == {"Shown", "Bulk public", "Bulk draft"}
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalog_anime WHERE title = 'Bulk draft'")
    assert {a["title"] for a in api.get("/anime").json()} == {"Shown", "Bulk public"}
    assert not AnimeDocument.objects.filter(anime__title="Bulk draft").exists()


@pytest.mark.django_db(transaction=True)
def test_the_demo_loader_fills_the_read_model(api, catalog_cache):
    assert api.get("/anime").json() == []
    call_command("load_demo_catalog", stdout=open(os.devnull, "w"))  # noqa: SIM115
    listed = api.get("/anime?limit=100").json()
    assert len(listed) == 100
    first = Anime.objects.get(pk=listed[0]["id"])
    card, detail = _serialized(first)
    assert listed[0] == card
    assert api.get(f"/anime/{first.pk}").json() == detail


@pytest.mark.django_db(transaction=True)
def test_documents_are_rebuilt_on_commit_without_a_read(api):
    anime = AnimeFactory(title="Eager", genres=[GenreFactory(name="Drama")])
    document = AnimeDocument.objects.get(anime=anime)
    assert document.card is not None  # built when the factory's transaction committed
    assert json.loads(document.card)["genres"][0]["name"] == "Drama"
    with transaction.atomic():
        Anime.objects.filter(pk=anime.pk).update(title="Eager again")
        assert AnimeDocument.objects.get(anime=anime).card is None  # cleared by the trigger
    assert json.loads(AnimeDocument.objects.get(anime=anime).card)["title"] == "Eager again"


@pytest.mark.django_db
def test_a_rebuild_never_stores_over_a_newer_write(api):
    """The rebuild stores only if the version it read is still current."""
    from catalog import documents

    anime = AnimeFactory(title="Old")
    version = AnimeDocument.objects.get(anime=anime).version
    built = documents.build([anime.pk])  # read before the concurrent write below
    Anime.objects.filter(pk=anime.pk).update(title="New")
    documents._store(built, {anime.pk: version})
    assert AnimeDocument.objects.get(anime=anime).card is None
    assert api.get(f"/anime/{anime.pk}").json()["title"] == "New"


SQLITE_SCRIPT = """
import io, json, os
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from catalog.models import Anime, Genre
call_command("migrate", verbosity=0)
call_command("load_demo_catalog", stdout=io.StringIO())
client = Client()
first = client.get("/anime?limit=5").json()[0]
Anime.objects.filter(pk=first["id"]).update(title="Changed on SQLite")
genre = Genre.objects.create(name="SQLite genre", slug="sqlite-genre")
Anime.objects.get(pk=first["id"]).genres.add(genre)
after = client.get("/anime?limit=5").json()[0]
detail = client.get("/anime/" + first["id"]).json()
names = [g["name"] for g in after["genres"]]
print(json.dumps([after["title"], detail["title"], "SQLite genre" in names]))
"""


def test_the_embedded_sqlite_mode_keeps_the_read_model_current(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "KITSU_ENV"}
    }
    env.update(DJANGO_SETTINGS_MODULE="kitsu.settings", KITSU_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "Changed on SQLite",
        "Changed on SQLite",
        True,
    ]


@pytest.mark.django_db
def test_rebuild_command_builds_every_stale_public_document():
    public = AnimeFactory.create_batch(3)
    draft = AnimeFactory(state="draft")
    out = StringIO()
    call_command("rebuild_anime_documents", "--batch-size", "2", stdout=out)
    assert "3 anime documents rebuilt" in out.getvalue()
    assert all(AnimeDocument.objects.get(anime=a).card for a in public)
    assert AnimeDocument.objects.get(anime=draft).card is None
