"""HTTP caching policy: public catalog reads may be kept by nginx, CDNs and browsers for a few
seconds; everything else, per-user answers first, is ``private, no-store``."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import AnimeFactory

pytestmark = pytest.mark.django_db

PUBLIC = "public, max-age=5, stale-while-revalidate=30"


@pytest.mark.parametrize("cache_on", [False, True])
def test_public_catalog_reads_are_cacheable(api, settings, cache_on):
    settings.CATALOG_CACHE_SECONDS = 30 if cache_on else 0
    anime = AnimeFactory(title="Frieren")
    for path in ("/anime", f"/anime/{anime.pk}", "/search/anime?q=frieren", "/genres"):
        for _ in range(2):  # with the catalog cache on: a miss, then a hit
            response = api.get(path)
            assert response.status_code == 200
            assert response["Cache-Control"] == PUBLIC, path


def test_the_lifetimes_come_from_the_settings(api, settings):
    settings.CATALOG_HTTP_MAX_AGE = 1
    settings.CATALOG_HTTP_STALE_SECONDS = 9
    assert api.get("/anime")["Cache-Control"] == "public, max-age=1, stale-while-revalidate=9"


def test_errors_and_everything_else_are_never_stored(api, signed_in):
    assert api.get(f"/anime/{uuid.uuid4()}")["Cache-Control"] == "private, no-store"
    assert api.get("/anime?limit=0")["Cache-Control"] == "private, no-store"
    assert api.get("/health")["Cache-Control"] == "private, no-store"
    _, client = signed_in()
    response = client.get("/users/me")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
