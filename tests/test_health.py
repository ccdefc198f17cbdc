from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_liveness_touches_no_dependency(api, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {}}


def test_readiness_checks_database_cache_and_queue(api):
    body = api.get("/health/ready").json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "queue"}
    assert all(result.startswith("ok") for result in body["checks"].values())


def test_readiness_is_503_with_the_envelope_when_redis_is_down(api, settings):
    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.CACHES = {
        alias: {**config, "LOCATION": dead} for alias, config in settings.CACHES.items()
    }
    response = api.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["cache"].startswith("error")
    assert body["checks"]["database"].startswith("ok")
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "cache" in body["error"]["details"]


def test_catalog_keeps_serving_when_redis_is_down(api, settings, catalog_cache):
    from tests.factories import AnimeFactory

    anime = AnimeFactory()
    settings.CACHES = {
        alias: {**config, "LOCATION": "redis://127.0.0.1:1/0"}
        for alias, config in settings.CACHES.items()
    }
    response = api.get("/anime")
    assert response.status_code == 200
    assert response.json()[0]["id"] == str(anime.id)
