from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from unittest import mock

import bcrypt
import pytest
import time_machine
from django.utils import timezone

from accounts.models import Session, User
from tests.accounts.conftest import PASSWORD, bearer, login, register

pytestmark = pytest.mark.django_db


def error(response) -> dict:
    return response.json()["error"]


# --- register ------------------------------------------------------------------------------


def test_register_returns_a_token_pair_and_gives_the_user_role(api):
    response = register(api, email="New@Example.com")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type"}
    assert body["token_type"] == "bearer"
    me = api.get("/users/me", **bearer(body["access_token"])).json()
    assert me["email"] == "new@example.com"
    assert me["role"] == "user"
    assert {"read:content", "write:content", "anime.view"} <= set(me["permissions"])


def test_register_duplicate_email_is_400_whatever_the_case(api):
    register(api, email="ann@example.com")
    response = register(api, email="ANN@example.com")
    assert response.status_code == 400
    assert error(response) == {
        "code": "VALIDATION_ERROR",
        "message": "Email already registered",
        "details": None,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com", "password": "password123"}, "password"),  # too common
        ({"email": "a@example.com", "password": "12345678901"}, "password"),  # numeric
        ({"password": PASSWORD}, "email"),
    ],
)
def test_register_schema_errors_are_422_naming_the_field(api, body, field):
    response = api.post("/auth/register", body, format="json")
    assert response.status_code == 422
    assert error(response)["code"] == "VALIDATION_ERROR"
    assert next(item["loc"] for item in error(response)["details"]) == ["body", field]


def test_malformed_json_is_400(api):
    response = api.generic("POST", "/auth/login", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error(response)["code"] == "VALIDATION_ERROR"


# --- login ---------------------------------------------------------------------------------


def test_login_is_case_insensitive_on_email(api, make_user):
    make_user(email="ann@example.com")
    assert login(api, email="Ann@Example.COM").status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [("ann@example.com", "wrong password"), ("nobody@example.com", PASSWORD)],
)
def test_bad_credentials_are_401_auth_error(api, make_user, email, password):
    make_user()
    response = login(api, email=email, password=password)
    assert response.status_code == 401
    assert error(response)["code"] == "AUTH_ERROR"
    assert response["WWW-Authenticate"] == "Bearer"


def test_inactive_user_cannot_log_in(api, make_user):
    make_user(is_active=False)
    assert login(api).status_code == 401


def test_login_with_a_non_email_is_422(api):
    assert login(api, email="ann").status_code == 422


def test_each_login_is_its_own_session(api, make_user):
    user = make_user()
    first, second = login(api).json(), login(api).json()
    assert Session.objects.filter(user=user).count() == 2
    api.post("/auth/logout", {"refresh_token": first["refresh_token"]}, format="json")
    assert api.get("/users/me", **bearer(second["access_token"])).status_code == 200
    assert api.get("/users/me", **bearer(first["access_token"])).status_code == 401


@pytest.mark.parametrize("scheme", ["bcrypt_sha256", "bcrypt"])
def test_legacy_bcrypt_passwords_work_and_are_upgraded_to_argon2(api, scheme, production_hashers):
    # The old backend stored bcrypt($2b$) over sha256(password).hexdigest(), plain bcrypt as
    # a fallback; the import prefixes Django's algorithm name.
    secret = (
        hashlib.sha256(PASSWORD.encode()).hexdigest() if scheme == "bcrypt_sha256" else PASSWORD
    )
    legacy = bcrypt.hashpw(secret.encode(), bcrypt.gensalt(rounds=4)).decode()
    user = User.objects.create(email="old@example.com", password=f"{scheme}${legacy}")
    assert login(api, email="old@example.com").status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert login(api, email="old@example.com").status_code == 200


# --- /users/me ---------------------------------------------------------------------------


def test_me_shape(api, tokens):
    body = api.get("/users/me", **bearer(tokens["access_token"])).json()
    assert set(body) == {
        *("id", "email", "is_active", "avatar", "created_at", "role", "permissions"),
        "notifications",
    }
    assert body["email"] == "ann@example.com"
    assert body["avatar"] is None
    assert body["is_active"] is True


def test_me_without_token_is_401_with_bearer_challenge(api):
    response = api.get("/users/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert error(response) == {
        "code": "AUTH_ERROR",
        "message": "Authentication failed",
        "details": "Authentication credentials were not provided.",
    }


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer a.b.c", "Token abc"])
def test_me_with_a_bad_token_is_401(api, header):
    response = api.get("/users/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert error(response)["code"] == "AUTH_ERROR"


def test_expired_access_token_is_401_token_has_expired(api, tokens):
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = api.get("/users/me", **bearer(tokens["access_token"]))
    assert response.status_code == 401
    assert error(response)["details"] == "Token has expired"


def test_token_of_a_deleted_user_is_401_not_500(api, tokens):
    User.objects.all().delete()
    assert api.get("/users/me", **bearer(tokens["access_token"])).status_code == 401
    response = api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json")
    assert response.status_code == 401


def test_token_of_a_deactivated_user_stops_working(api, tokens):
    User.objects.update(is_active=False)
    assert api.get("/users/me", **bearer(tokens["access_token"])).status_code == 401
    response = api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json")
    assert response.status_code == 401


def test_patch_me_sets_and_clears_the_avatar(api, tokens):
    auth = bearer(tokens["access_token"])
    response = api.patch(
        "/users/me", {"avatar": "https://img.example/a.png"}, format="json", **auth
    )
    assert response.json()["avatar"] == "https://img.example/a.png"
    assert api.patch("/users/me", {"avatar": "not a url"}, format="json", **auth).status_code == 422
    assert api.patch("/users/me", {"avatar": None}, format="json", **auth).json()["avatar"] is None


# --- refresh -----------------------------------------------------------------------------


def refresh(api, token: str):
    return api.post("/auth/refresh", {"refresh_token": token}, format="json")


def test_refresh_rotates_the_pair(api, tokens):
    response = refresh(api, tokens["refresh_token"])
    assert response.status_code == 200
    new = response.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert api.get("/users/me", **bearer(new["access_token"])).status_code == 200
    assert refresh(api, new["refresh_token"]).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_session(api, tokens):
    new = refresh(api, tokens["refresh_token"]).json()
    replay = refresh(api, tokens["refresh_token"])
    assert replay.status_code == 403
    assert error(replay)["code"] == "PERMISSION_DENIED"
    # The thief's replay kills the whole session, the legitimate new pair included.
    assert refresh(api, new["refresh_token"]).status_code == 403
    me = api.get("/users/me", **bearer(new["access_token"]))
    assert me.status_code == 401
    assert error(me)["details"] == "Session revoked"


@pytest.mark.parametrize("token", ["", "garbage", "not-hex.secret", "0" * 32 + ".secret"])
def test_unknown_or_malformed_refresh_tokens_are_401(api, token):
    response = refresh(api, token)
    assert response.status_code == (422 if token == "" else 401)


def test_refresh_without_body_is_422(api):
    assert api.post("/auth/refresh", {}, format="json").status_code == 422


def test_expired_refresh_token_is_401(api, tokens):
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        response = refresh(api, tokens["refresh_token"])
    assert response.status_code == 401
    assert error(response)["details"] == "Token has expired"


def test_refresh_after_logout_is_403(api, tokens):
    api.post("/auth/logout", {"refresh_token": tokens["refresh_token"]}, format="json")
    response = refresh(api, tokens["refresh_token"])
    assert response.status_code == 403
    assert error(response)["code"] == "PERMISSION_DENIED"


def test_refresh_tokens_are_compared_in_constant_time_and_stored_hashed(api, tokens):
    session = Session.objects.get()
    secret = tokens["refresh_token"].split(".", 1)[1]
    assert secret not in session.refresh_token_hash
    assert session.refresh_token_hash == hashlib.sha256(secret.encode()).hexdigest()
    with mock.patch("accounts.services.hmac.compare_digest", wraps=hmac.compare_digest) as compare:
        assert refresh(api, tokens["refresh_token"]).status_code == 200
    compare.assert_called_once()


# --- logout ------------------------------------------------------------------------------


def test_logout_kills_the_access_token_at_once(api, tokens):
    auth = bearer(tokens["access_token"])
    assert api.get("/users/me", **auth).status_code == 200
    response = api.post(
        "/auth/logout", {"refresh_token": tokens["refresh_token"]}, format="json", **auth
    )
    assert response.status_code == 204
    assert response.content == b""
    assert api.get("/users/me", **auth).status_code == 401


@pytest.mark.parametrize("body", [{}, {"refresh_token": "garbage"}, {"refresh_token": ""}])
def test_logout_is_always_204_even_with_a_stale_bearer(api, body):
    response = api.post("/auth/logout", body, format="json", HTTP_AUTHORIZATION="Bearer stale")
    assert response.status_code == 204


def test_logout_is_idempotent(api, tokens):
    for _ in range(2):
        response = api.post(
            "/auth/logout", {"refresh_token": tokens["refresh_token"]}, format="json"
        )
        assert response.status_code == 204


# --- sessions and password -------------------------------------------------------------


def test_list_and_revoke_my_sessions(api, make_user):
    make_user()
    phone = login(api, HTTP_USER_AGENT="phone").json()
    laptop = login(api, HTTP_USER_AGENT="laptop").json()
    listed = api.get("/users/me/sessions", **bearer(laptop["access_token"])).json()
    assert {s["user_agent"] for s in listed} == {"phone", "laptop"}
    assert [s["user_agent"] for s in listed if s["current"]] == ["laptop"]
    phone_id = next(s["id"] for s in listed if s["user_agent"] == "phone")
    revoked = api.delete(f"/users/me/sessions/{phone_id}", **bearer(laptop["access_token"]))
    assert revoked.status_code == 204
    assert api.get("/users/me", **bearer(phone["access_token"])).status_code == 401
    assert api.get("/users/me", **bearer(laptop["access_token"])).status_code == 200


def test_cannot_revoke_someone_elses_session(api, make_user):
    make_user("a@example.com")
    make_user("b@example.com")
    a = login(api, email="a@example.com").json()
    b = login(api, email="b@example.com").json()
    b_session = Session.objects.get(user__email="b@example.com").id
    response = api.delete(f"/users/me/sessions/{b_session}", **bearer(a["access_token"]))
    assert response.status_code == 404
    assert api.get("/users/me", **bearer(b["access_token"])).status_code == 200
    assert api.delete("/users/me/sessions/xyz", **bearer(a["access_token"])).status_code == 422


def test_logout_everywhere(api, make_user):
    make_user()
    first, second = login(api).json(), login(api).json()
    assert api.delete("/users/me/sessions", **bearer(first["access_token"])).status_code == 204
    for pair in (first, second):
        assert api.get("/users/me", **bearer(pair["access_token"])).status_code == 401
        assert refresh(api, pair["refresh_token"]).status_code == 403


def test_change_password_revokes_the_other_sessions_only(api, make_user):
    make_user()
    other, current = login(api).json(), login(api).json()
    body = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    response = api.post(
        "/users/me/password", body, format="json", **bearer(current["access_token"])
    )
    assert response.status_code == 204
    assert api.get("/users/me", **bearer(current["access_token"])).status_code == 200
    assert api.get("/users/me", **bearer(other["access_token"])).status_code == 401
    assert login(api).status_code == 401
    assert login(api, password="a brand new passphrase").status_code == 200


def test_change_password_errors(api, tokens):
    auth = bearer(tokens["access_token"])
    wrong = {"current_password": "nope", "new_password": "a brand new passphrase"}
    response = api.post("/users/me/password", wrong, format="json", **auth)
    assert response.status_code == 400
    assert error(response)["details"] == "Current password is incorrect"
    weak = {"current_password": PASSWORD, "new_password": "password"}
    assert api.post("/users/me/password", weak, format="json", **auth).status_code == 422


def test_session_check_costs_one_query_per_request(api, tokens, django_assert_num_queries):
    auth = bearer(tokens["access_token"])
    # One query authenticates (session JOIN user), one lists the sessions.
    with django_assert_num_queries(2):
        assert api.get("/users/me/sessions", **auth).status_code == 200
