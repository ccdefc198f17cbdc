from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import AiringSlot, Anime, Episode, PlaybackSource, Release

pytestmark = pytest.mark.django_db


def load() -> str:
    out = StringIO()
    call_command("load_demo_catalog", stdout=out)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Anime, Release, Episode, PlaybackSource, AiringSlot)
    )


def test_demo_catalog_loads_once_and_again_without_duplicates(api):
    first = load()
    anime, releases, episodes, sources, slots = counts()
    assert anime >= 200
    assert releases == anime
    assert episodes > anime
    assert sources >= 2 * episodes
    assert slots > 0
    assert f"anime {anime} created" in first

    second = load()
    assert counts() == (anime, releases, episodes, sources, slots)
    assert f"0 created, 0 updated, {anime} unchanged" in second

    assert Anime.objects.public().count() == anime
    frieren = api.get("/search/anime", {"q": "Фрирен"}).json()[0]
    assert frieren["title_original"] == "Sousou no Frieren"
    detail = api.get(f"/anime/{frieren['id']}").json()
    assert detail["releases"]
    episodes_of_frieren = api.get("/episodes", {"anime_id": frieren["id"]}).json()
    assert len(episodes_of_frieren) == (detail["episodes_aired"] or detail["episodes_total"])


def test_every_title_variant_of_the_demo_is_searchable(api):
    load()
    for query in ("frieren", "sousou no frieren", "freiren", "Провожающая", "葬送のフリーレン"):
        results = api.get("/search/anime", {"q": query}).json()
        assert results[0]["title_original"] == "Sousou no Frieren", query


def test_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="No demo catalog"):
        call_command("load_demo_catalog", path=tmp_path / "missing.json")


def test_malformed_file_is_a_command_error_and_writes_nothing(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"genres": [], "studios": [], "anime": [{"title": "no id"}]}')
    with pytest.raises(CommandError, match="not a valid demo catalog"):
        call_command("load_demo_catalog", path=broken)
    assert Anime.objects.count() == 0


def test_genres_whose_names_slugify_alike_get_distinct_stable_slugs(api):
    """The one genre/studio upsert of the demo loader and the sync: a slug collision appends the
    Shikimori id (else a counter), in one batch as across batches, and never renames a slug."""
    from django.db import transaction

    from catalog.services import GenreData, genres_upsert

    with transaction.atomic():
        genres_upsert([GenreData("Sci-Fi", shikimori_id=24), GenreData("Sci Fi", shikimori_id=99)])
    with transaction.atomic():
        genres_upsert(
            [GenreData("SCI FI"), GenreData("Sci-Fi", shikimori_id=24, name_ru="Фантастика")]
        )
    slugs = {genre["name"]: genre["slug"] for genre in api.get("/genres").json()}
    assert slugs == {"Sci-Fi": "sci-fi", "Sci Fi": "sci-fi-99", "SCI FI": "sci-fi-2"}
