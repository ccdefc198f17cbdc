"""One title rule (catalog/titles.py, docs/ingestion.md) for the demo catalog and the sync."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from catalog.demo import DEMO_CATALOG_PATH
from catalog.models import Anime
from tests.ingestion.conftest import mutate

pytestmark = pytest.mark.django_db

FRIEREN = 52991
VARIANTS = (
    "Frieren: Beyond Journey's End",  # English: the display title
    "Sousou no Frieren",  # romaji: the original
    "Провожающая в последний путь Фрирен",
    "葬送のフリーレン",
    "Frieren at the Funeral",  # a synonym Shikimori has
)


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def load_demo_frieren(tmp_path: Path) -> Anime:
    data = json.loads(DEMO_CATALOG_PATH.read_text())
    data["anime"] = [a for a in data["anime"] if a["shikimori_id"] == FRIEREN]
    (tmp_path / "demo.json").write_text(json.dumps(data))
    run("load_demo_catalog", "--path", str(tmp_path / "demo.json"))
    return Anime.objects.get(shikimori_id=FRIEREN)


def found(api: Any, query: str) -> list[str]:
    response = api.get("/search/anime", {"q": query})
    assert response.status_code == 200
    return [item["title"] for item in response.json()]


def test_demo_and_sync_agree_and_a_sync_never_renames_demo_anime(api, upstream, tmp_path):
    demo = load_demo_frieren(tmp_path)
    assert (demo.title, demo.title_original) == VARIANTS[:2]
    run("sync_catalog", "--ids", str(FRIEREN))
    synced = Anime.objects.get(pk=demo.pk)
    assert (synced.title, synced.title_original) == VARIANTS[:2]
    assert synced.title_en == VARIANTS[0]
    # The demo's extra synonym ("Frieren") is kept next to Shikimori's.
    assert synced.synonyms == ["Frieren at the Funeral", "Frieren"]
    assert synced.state == Anime.State.PUBLISHED  # editorial state untouched
    for query in (*VARIANTS, "Frieren"):
        assert found(api, query)[:1] == [VARIANTS[0]], query
    # Re-running writes nothing.
    stamp = synced.updated_at
    assert "unchanged 1" in run("sync_catalog", "--ids", str(FRIEREN))
    assert Anime.objects.get(pk=demo.pk).updated_at == stamp


def test_a_fresh_sync_applies_the_same_rule(upstream):
    run("sync_catalog", "--ids", str(FRIEREN))
    anime = Anime.objects.get(shikimori_id=FRIEREN)
    assert (anime.title, anime.title_original) == VARIANTS[:2]
    without_english = next(a for a in upstream.catalog.ordered() if not a.english)
    run("sync_catalog", "--ids", str(without_english.id))
    other = Anime.objects.get(shikimori_id=without_english.id)
    assert other.title == other.title_original == without_english.name  # falls back


def test_an_upstream_rename_keeps_the_old_titles_searchable(api, upstream):
    run("sync_catalog", "--ids", str(FRIEREN))
    Anime.objects.filter(shikimori_id=FRIEREN).update(state=Anime.State.PUBLISHED)
    mutate(upstream, FRIEREN, name="Frieren Renamed", english=["Frieren: New Name"])
    run("sync_catalog", "--ids", str(FRIEREN))
    anime = Anime.objects.get(shikimori_id=FRIEREN)
    assert (anime.title, anime.title_original) == ("Frieren: New Name", "Frieren Renamed")
    for query in ("Frieren: New Name", "Frieren Renamed", *VARIANTS):
        assert found(api, query)[:1] == ["Frieren: New Name"], query


@pytest.mark.parametrize(
    ("language", "title"),
    [("romaji", "Sousou no Frieren"), ("ru", "Провожающая в последний путь Фрирен")],
)
def test_the_display_language_is_a_setting(settings, upstream, tmp_path, language, title):
    settings.CATALOG_TITLE_LANGUAGE = language
    demo = load_demo_frieren(tmp_path)
    assert demo.title == title
    run("sync_catalog", "--ids", str(FRIEREN))
    assert Anime.objects.get(pk=demo.pk).title == title
