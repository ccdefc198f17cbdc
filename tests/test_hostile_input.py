"""Input that once crashed Kitsu with a 500 (hardening issue): each answers a 4xx envelope.

Every case goes through the public HTTP surface with Django's test client, against real
PostgreSQL: the point is that nothing reaches the database (or a handler) in a shape it chokes
on, and that the one exception handler maps whatever does get raised to the contract envelope.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import AnimeFactory


def _cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


def assert_envelope(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body


@pytest.fixture
def anime(db: Any) -> Any:
    return AnimeFactory.create_batch(3)


@pytest.mark.parametrize(
    "path",
    [
        "/anime?cursor=cD1nYXJiYWdl",  # "p=garbage" against the created_at ordering
        f"/anime?ordering=score&cursor={_cursor('p=NaN')}",
        f"/anime?ordering=score&cursor={_cursor('p=1e999')}",
        f"/anime?ordering=score&cursor={_cursor('p=abc')}",
        f"/releases?cursor={_cursor('p=garbage')}",
        f"/anime?cursor={_cursor('p=2024-13-45T99:00:00')}",
        f"/anime?cursor={_cursor('p=a%00b')}",
    ],
)
def test_a_cursor_with_a_garbage_position_is_400(api: APIClient, anime: Any, path: str) -> None:
    body = assert_envelope(api.get(path), 400, "VALIDATION_ERROR")
    assert "cursor" in json.dumps(body)


def test_a_garbage_cursor_on_signed_in_lists_is_400(signed_in: Any) -> None:
    _, client = signed_in()
    assert_envelope(client.get(f"/favorites?cursor={_cursor('p=garbage')}"), 400)


def test_a_garbage_cursor_on_the_admin_users_list_is_400(signed_in: Any) -> None:
    _, client = signed_in("boss@example.com", role="super_admin")
    assert_envelope(client.get(f"/api/admin/users?cursor={_cursor('p=garbage')}"), 400)


@pytest.mark.parametrize(
    "path",
    [
        "/search/anime?q=ab%00cd",
        "/anime?season=a%00b",
        "/anime?genre=a%00b",
        "/anime?studio=a%00",
        "/releases?anime_id=%00",
    ],
)
def test_a_nul_byte_never_reaches_postgresql(api: APIClient, anime: Any, path: str) -> None:
    assert api.get(path).status_code in {400, 422}


@pytest.mark.parametrize("param", ["genre", "studio"])
@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A3", "99999999999999999999999"])
def test_unicode_and_huge_digits_in_slug_or_id_filters(
    api: APIClient, anime: Any, param: str, value: str
) -> None:
    response = api.get(f"/anime?{param}={value}")
    assert_envelope(response, 400)


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/api/import/anilist"])
def test_a_json_body_over_the_limit_is_413(db: Any, path: str) -> None:
    big = json.dumps({"email": "a@example.com", "password": "x" * (3 * 1024 * 1024)})
    response = Client().post(path, data=big, content_type="application/json")
    assert_envelope(response, 413)


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/api/import/anilist"])
def test_json_nested_a_thousand_levels_is_400(db: Any, path: str) -> None:
    deep = "[" * 1000 + "]" * 1000
    response = Client().post(path, data=deep, content_type="application/json")
    assert_envelope(response, 400)


@pytest.mark.parametrize("path", ["/health", "/anime", "/auth/login", "/nowhere"])
def test_a_query_string_with_too_many_fields_is_400(db: Any, path: str) -> None:
    query = "&".join(f"f{i}=1" for i in range(1100))
    assert_envelope(Client().get(f"{path}?{query}"), 400)


def test_the_query_string_guard_answers_with_cors_headers(db: Any) -> None:
    """A browser frontend can only read an error that carries CORS headers."""
    origin = "http://localhost:3000"
    response = Client().get("/anime?q=a%00b", HTTP_ORIGIN=origin)
    assert_envelope(response, 400)
    assert response["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize(
    "body",
    [
        {"episodes_watched": 2147483648},
        {"episodes_watched": 10**30},
        {"score": 10**30},
    ],
)
def test_library_entry_numbers_are_range_checked(signed_in: Any, body: dict[str, Any]) -> None:
    _, client = signed_in()
    item = AnimeFactory()
    response = client.put(f"/library/{item.id}", {"status": "watching", **body}, format="json")
    assert response.status_code in {400, 422}, response.content


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("episode", 2147483648),
        ("episode", 1e300),
        ("position_seconds", 2147483648),
        ("position_seconds", 1e300),
    ],
)
def test_watch_progress_numbers_are_range_checked(signed_in: Any, field: str, value: float) -> None:
    _, client = signed_in()
    item = AnimeFactory()
    body = {"anime_id": str(item.id), "episode": 1, "position_seconds": 10, field: value}
    response = client.post("/watch/progress", body, format="json")
    assert response.status_code in {400, 422}, response.content


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_to_an_unknown_path_are_a_404_envelope_not_a_csrf_page(db: Any, method: str) -> None:
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)("/no/such/path", data="{}", content_type="application/json")
    assert_envelope(response, 404, "NOT_FOUND")


def test_a_bare_bearer_header_gives_readable_details(db: Any) -> None:
    response = Client().get("/users/me", HTTP_AUTHORIZATION="Bearer")
    body = assert_envelope(response, 401, "AUTH_ERROR")
    details = body["error"]["details"]
    assert isinstance(details, str)
    assert "ErrorDetail" not in details
    assert details == "Authorization header must contain two space-delimited values"
