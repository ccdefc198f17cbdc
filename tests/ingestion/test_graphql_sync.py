"""The catalog sync reads Shikimori's GraphQL ``animes`` (50 full anime a request) from the
fake upstream: request counts, field fidelity against REST, and GraphQL errors."""

from __future__ import annotations

import json
from dataclasses import replace
from io import StringIO

import httpx
import pytest
from django.core.management import call_command

from catalog.models import Anime
from ingestion.sources.shikimori import parser
from ingestion.sources.shikimori.client import ANIMES_QUERY, ShikimoriClient
from tests.ingestion.conftest import requests_log

pytestmark = pytest.mark.django_db


def sync(*args: str) -> str:
    out = StringIO()
    call_command("sync_catalog", *args, stdout=out)
    return out.getvalue()


def shikimori_log(upstream) -> list[dict]:
    return [r for r in requests_log(upstream) if r["path"].startswith("/api/")]


def test_full_sync_takes_one_request_per_50_anime(upstream):
    assert "created 120, updated 0, unchanged 0, failed 0, pages 3" in sync()
    log = shikimori_log(upstream)
    assert [(r["method"], r["path"]) for r in log] == [("POST", "/api/graphql")] * 3
    assert [json.loads(r["body"])["variables"]["page"] for r in log] == [1, 2, 3]
    frieren = Anime.objects.get(shikimori_id=52991)
    assert frieren.title_en == "Frieren: Beyond Journey's End"
    assert frieren.synonyms == ["Frieren at the Funeral"]
    assert frieren.description.startswith("Маг Фрирен")  # BBCode stripped
    assert set(frieren.genres.values_list("name", flat=True)) == {"Adventure", "Drama", "Fantasy"}
    assert list(frieren.studios.values_list("name", flat=True)) == ["Madhouse"]
    assert (
        frieren.poster_url
        == f"{upstream.base_url}/uploads/poster/animes/52991/"
        + (frieren.poster_url.rsplit("/", 1)[1])
    )
    # Unchanged data: the same 3 requests, nothing written.
    before = dict(Anime.objects.values_list("pk", "updated_at"))
    assert "created 0, updated 0, unchanged 120" in sync()
    assert len(shikimori_log(upstream)) == 6
    assert dict(Anime.objects.values_list("pk", "updated_at")) == before


def test_ids_are_fetched_50_per_request(upstream):
    ids = [a.id for a in upstream.catalog.ordered()][:60]
    assert "created 60" in sync("--ids", ",".join(map(str, ids)))
    assert len(shikimori_log(upstream)) == 2
    assert "failed 1" in sync("--ids", "999999")  # unknown upstream: counted, not fatal


def test_graphql_records_carry_what_rest_details_carry(upstream):
    """The GraphQL record equals the REST detail's, but for the poster (GraphQL has the new
    absolute poster URLs) and genre ids (genres_v2 ids are not legacy ids: matched by name)."""
    client = ShikimoriClient.from_settings()
    for shikimori_id in (52991, 1, 2, 7):
        graphql = client.anime_detail(shikimori_id)
        rest = parser.parse_anime_detail(
            httpx.get(
                f"{upstream.base_url}/api/animes/{shikimori_id}", headers={"User-Agent": "t"}
            ).json(),
            host=upstream.shikimori_url,
        )
        assert replace(
            graphql,
            poster_url=rest.poster_url,
            genres=tuple(replace(g, shikimori_id=None) for g in rest.genres or ()),
            related=None,
        ) == replace(rest, genres=tuple(replace(g, shikimori_id=None) for g in rest.genres or ()))


def test_graphql_errors_are_upstream_errors(upstream):
    body = {"query": ANIMES_QUERY.replace("malId", "noSuchField"), "variables": {"page": 1}}
    answer = httpx.post(f"{upstream.base_url}/api/graphql", json=body, headers={"User-Agent": "t"})
    assert answer.status_code == 200
    assert "noSuchField" in answer.json()["errors"][0]["message"]
    with pytest.raises(parser.UpstreamParseError, match=r"graphql error: .*noSuchField"):
        parser.parse_graphql_animes(answer.json(), host=upstream.shikimori_url)
