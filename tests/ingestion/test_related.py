"""GET /anime/{id}/related: Shikimori's franchise graph, stored by Shikimori id."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Anime, AnimeRelation
from tests.factories import AnimeFactory

pytestmark = pytest.mark.django_db


def sync(*args: str) -> str:
    out = StringIO()
    call_command("sync_catalog", *args, stdout=out)
    return out.getvalue()


def publish(*shikimori_ids: int) -> None:
    Anime.objects.filter(shikimori_id__in=shikimori_ids).update(state=Anime.State.PUBLISHED)


def related(api, shikimori_id: int) -> list[dict]:
    anime = Anime.objects.get(shikimori_id=shikimori_id)
    response = api.get(f"/anime/{anime.pk}/related")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_franchise_can_be_walked_with_the_relation_kind(api, upstream):
    sync()  # the fake: 1 and 2 are prequel/sequel; 2 has a side story Kitsu does not have
    publish(1, 2)
    first = related(api, 1)
    assert [(r["kind"], r["anime"]["shikimori_id"]) for r in first] == [("sequel", 2)]
    sequel = Anime.objects.get(shikimori_id=2)
    assert first[0]["anime"]["id"] == str(sequel.pk)
    assert first[0]["anime"]["title"] == sequel.title
    back = related(api, 2)
    assert [(r["kind"], r["anime"]["shikimori_id"]) for r in back] == [("prequel", 1)]
    # The unknown side story is stored (by Shikimori id) but not served; manga are not stored.
    assert set(
        AnimeRelation.objects.filter(anime=sequel).values_list("kind", "related_shikimori_id")
    ) == {("prequel", 1), ("side_story", 900_002)}
    assert not AnimeRelation.objects.filter(anime__shikimori_id=3).exists()  # an adaptation


def test_only_public_anime_on_both_ends(api, upstream):
    sync()
    publish(1)
    assert related(api, 1) == []  # its sequel is a draft
    hidden = Anime.objects.get(shikimori_id=2)
    assert api.get(f"/anime/{hidden.pk}/related").status_code == 404
    assert api.get(f"/anime/{uuid.uuid4()}/related").status_code == 404
    assert api.get("/anime/not-a-uuid/related").status_code == 422  # as GET /anime/{id}


def test_matched_by_shikimori_id_never_by_title_and_resolved_when_imported(api, upstream):
    sync("--ids", "1")
    publish(1)
    fake_sequel = upstream.catalog.get(2)
    AnimeFactory(title=fake_sequel.name, title_original=fake_sequel.name, shikimori_id=None)
    Anime.objects.filter(shikimori_id__isnull=True).update(state=Anime.State.PUBLISHED)
    assert related(api, 1) == []  # same title, but not Shikimori's anime 2
    sync("--ids", "2")
    publish(2)
    assert [r["anime"]["shikimori_id"] for r in related(api, 1)] == [2]


def test_unchanged_relations_write_nothing(upstream):
    sync()
    rows = set(AnimeRelation.objects.values_list("pk", "anime_id", "kind", "related_shikimori_id"))
    assert rows
    assert "created 0, updated 0, unchanged 120" in sync()
    assert (
        set(AnimeRelation.objects.values_list("pk", "anime_id", "kind", "related_shikimori_id"))
        == rows
    )
