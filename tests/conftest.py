from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
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


PASSWORD = "correct horse battery"


def role_client(role: str | None = "user", email: str | None = None) -> tuple[Any, APIClient]:
    """(user holding ``role``, APIClient carrying its token), signed in through
    ``POST /auth/login`` like the frontend; ``role=None`` is an anonymous client. The one way
    tests get an API client for a role (needs database access)."""
    from django.contrib.auth.models import Group

    from accounts.models import User

    client = APIClient(HTTP_USER_AGENT="kitsu-tests")
    if role is None:
        return None, client
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    user = User.objects.create_user(email=email, password=PASSWORD)
    user.groups.add(Group.objects.get(name=role))
    response = client.post("/auth/login", {"email": email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    return user, client


def staff_browser(role: str, email: str | None = None) -> tuple[Any, Client]:
    """(staff user holding ``role``, Django test Client logged in to the Django admin). The one
    way tests open the admin as a role other than superuser (``admin_client``)."""
    from django.contrib.auth.models import Group

    from accounts.models import User

    email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def signed_in(db: Any) -> Any:
    """``signed_in(email, role="user")``: ``role_client`` as a fixture."""

    def sign_in(email: str = "viewer@example.com", role: str = "user") -> tuple[Any, APIClient]:
        return role_client(role, email)

    return sign_in


def count_queries(call: Callable[[], Any]) -> int:
    """How many SQL statements ``call`` (one request) runs; it must answer 2xx."""
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert 200 <= response.status_code < 300, response.content[:500]
    return len(captured)


def assert_constant_queries(add_rows: Callable[[int], Any], call: Callable[[], Any]) -> int:
    """The query count of ``call`` is the same with 3 rows as with 30 (no N+1)."""
    add_rows(3)
    with_three = count_queries(call)
    add_rows(27)
    with_thirty = count_queries(call)
    assert with_three == with_thirty, f"{with_three} queries with 3 rows, {with_thirty} with 30"
    return with_three
