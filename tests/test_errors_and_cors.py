from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ORIGIN = "http://localhost:3000"


@pytest.mark.parametrize("path", ["/nope", "/api/nope", "/favorites/x/y", "/anime/a/b/c"])
def test_unknown_routes_get_the_envelope(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_method_not_allowed_gets_the_envelope(api):
    response = api.post("/anime", {"title": "x"}, format="json")
    assert response.status_code == 405
    assert response.json()["error"] == {
        "code": "UNKNOWN_ERROR",
        "message": "Request failed",
        "details": 'Method "POST" not allowed.',
    }


def test_no_redirects_for_slashless_or_slashed_paths(api):
    for path in ("/anime", "/anime/", "/genres", "/genres/", "/health", "/health/"):
        assert api.get(path).status_code == 200, path


def test_preflight_on_every_route(api):
    for path in ("/anime", "/search/anime", "/favorites", "/api/schedule", "/users/me", "/nope"):
        response = api.options(
            path,
            HTTP_ORIGIN=ORIGIN,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="DELETE",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type",
        )
        assert response.status_code == 200, path
        assert response["Access-Control-Allow-Origin"] == ORIGIN
        allowed_headers = response["Access-Control-Allow-Headers"].lower()
        assert "authorization" in allowed_headers
        assert "content-type" in allowed_headers
        methods = set(response["Access-Control-Allow-Methods"].replace(" ", "").split(","))
        assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods


def test_cors_headers_on_responses_and_errors(api):
    ok = api.get("/anime", HTTP_ORIGIN=ORIGIN)
    assert ok["Access-Control-Allow-Origin"] == ORIGIN
    assert "link" in ok["Access-Control-Expose-Headers"].lower()
    error = api.get("/nope", HTTP_ORIGIN=ORIGIN)
    assert error["Access-Control-Allow-Origin"] == ORIGIN


def test_unlisted_origin_gets_no_cors_grant(api):
    response = api.get("/anime", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response


def test_openapi_schema_and_docs_are_served(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/anime", "/anime/{anime_id}", "/search/anime", "/episodes", "/genres"} <= set(paths)
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_schema_types_every_body_and_documents_the_errors(api):
    """The schema is the contract (schemathesis holds the server to it in
    tests/test_schemathesis.py): no free-form bodies, nulls declared, errors enveloped."""
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    envelope = {"$ref": "#/components/schemas/ErrorOutput"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            name = f"{method.upper()} {path}"
            for code, response in responses.items():
                body = response.get("content", {}).get("application/json", {}).get("schema")
                if code.startswith("2"):
                    assert body != {"type": "object", "additionalProperties": {}}, name
                elif code != "304":  # Not Modified has no body (RFC 9110)
                    assert body == envelope or path == "/health/ready", (name, code)
            assert "503" in responses, name
            if "{" in path:
                assert "404" in responses, name
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(responses), name
            if operation.get("security") == [{"jwtAuth": []}]:
                assert "401" in responses, name
    assert {"429", "401"} <= set(schema["paths"]["/auth/login"]["post"]["responses"])
    assert "403" in schema["paths"]["/api/admin/anime"]["get"]["responses"]
    assert "403" not in schema["paths"]["/users/me"]["get"]["responses"]
    assert components["ErrorDetailOutput"]["required"] == ["code", "details", "message"]
    for field in ("season", "title_en"):
        assert components["AnimeCardOutput"]["properties"][field]["nullable"] is True
    assert components["AnimeDetailOutput"]["properties"]["franchise"]["nullable"] is True
    assert components["EpisodeOutput"]["properties"]["title"]["nullable"] is True
    logs = schema["paths"]["/api/admin/parser/logs"]["get"]["responses"]["200"]
    assert logs["content"]["application/json"]["schema"]["type"] == "array"
    continue_item = components["ContinueOutput"]["properties"]
    assert {"anime_id", "episode", "progress_percent", "anime", "next_episode"} <= set(
        continue_item
    )


def test_unexpected_errors_are_a_500_envelope_without_a_traceback(api, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database exploded: secret detail")

    monkeypatch.setattr("catalog.selectors.anime_list", broken)
    response = api.get("/anime")
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "INTERNAL_ERROR",
            "message": "Internal server error",
            "details": "Unexpected error",
        }
    }
    assert b"secret detail" not in response.content
