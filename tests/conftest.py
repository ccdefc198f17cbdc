from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _clean_caches() -> Iterator[None]:
    """Each test starts with empty caches (only this run's key prefix is touched)."""
    for alias in ("default", "shared"):
        cache = caches[alias]
        if hasattr(cache, "delete_pattern"):
            cache.delete_pattern("*")
        else:
            cache.clear()
    return


@pytest.fixture(autouse=True)
def _catalog_cache_off(settings: Any) -> None:
    """Cached reads would hide query counts and, inside a test transaction (no commit, so no
    invalidation), serve stale rows; the caching tests switch it on with ``catalog_cache``."""
    settings.CATALOG_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 at production cost takes ~0.1 s a hash; tests that check hashing itself put the
    real list back (``production_hashers``)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def production_hashers(settings: Any) -> None:
    from kitsu import settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS


@pytest.fixture
def catalog_cache(settings: Any) -> None:
    settings.CATALOG_CACHE_SECONDS = 30


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def pytest_sessionstart(session: pytest.Session) -> None:
    """The suite runs against real PostgreSQL and Redis, never silently against SQLite."""
    from django.conf import settings

    if not settings.DATABASE_URL or not settings.REDIS_URL:
        pytest.exit(
            "Set DATABASE_URL (PostgreSQL) and REDIS_URL, or run ./scripts/test.sh", returncode=2
        )


@pytest.fixture
def signed_in(db: Any, api: APIClient) -> Any:
    """``signed_in(email)`` -> (user with the ``user`` role, APIClient carrying its token),
    signed in through ``POST /auth/login`` like the frontend."""
    from django.contrib.auth.models import Group

    from accounts.models import User

    def sign_in(email: str = "viewer@example.com") -> tuple[Any, APIClient]:
        user = User.objects.create_user(email=email, password="correct horse battery")
        user.groups.add(Group.objects.get(name="user"))
        client = APIClient()
        response = client.post(
            "/auth/login", {"email": email, "password": "correct horse battery"}, format="json"
        )
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
        return user, client

    return sign_in
