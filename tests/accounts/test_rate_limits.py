from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from accounts.models import Session
from tests.accounts.conftest import login, register

pytestmark = pytest.mark.django_db


def statuses(responses) -> list[int]:
    return [response.status_code for response in responses]


def test_five_failures_per_ip_and_email_then_429_with_retry_after(api, make_user):
    make_user()
    attempts = [login(api, password="wrong") for _ in range(7)]
    assert statuses(attempts) == [401] * 5 + [429] * 2
    limited = attempts[-1]
    assert limited.json()["error"] == {
        "code": "RATE_LIMITED",
        "message": "Too many attempts, try again later",
        "details": None,
    }
    assert 1 <= int(limited["Retry-After"]) <= 60
    # The right password is refused too while the window lasts...
    assert login(api).status_code == 429
    # ...but another account from the same address, or the same account elsewhere, is not.
    make_user(email="bob@example.com")
    assert login(api, email="bob@example.com").status_code == 200
    assert login(api, REMOTE_ADDR="10.1.1.1").status_code == 200


def test_email_bucket_is_case_insensitive(api, make_user):
    make_user()
    for email in (
        "ann@example.com",
        "ANN@example.com",
        "Ann@Example.com",
        "ann@EXAMPLE.com",
        "aNn@example.com",
    ):
        assert login(api, email=email, password="wrong").status_code == 401
    assert login(api, email="ANN@EXAMPLE.COM", password="wrong").status_code == 429


def test_successful_logins_do_not_use_up_the_failure_budget(api, make_user):
    make_user()
    for _ in range(4):
        assert login(api, password="wrong").status_code == 401
    for _ in range(3):
        assert login(api).status_code == 200
    assert login(api, password="wrong").status_code == 401  # the 5th failure
    assert login(api, password="wrong").status_code == 429


def test_looser_per_ip_limit_across_accounts(api, settings):
    settings.LOGIN_IP_RATE = "8/60s"
    results = [login(api, email=f"u{i}@example.com", password="x") for i in range(10)]
    assert statuses(results) == [401] * 8 + [429] * 2


def test_client_ip_comes_from_x_forwarded_for_only_through_trusted_proxies(
    api, make_user, settings
):
    make_user()
    # No trusted proxy: a spoofed header does not give a fresh bucket.
    for i in range(6):
        response = login(api, password="wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    assert response.status_code == 429

    settings.TRUSTED_PROXY_COUNT = 1
    from django.test import Client

    behind_proxy = Client()

    def via_proxy(client_ip: str, spoofed: str = "") -> int:
        chain = f"{spoofed}, {client_ip}" if spoofed else client_ip
        return behind_proxy.post(
            "/auth/login",
            {"email": "ann@example.com", "password": "wrong"},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=chain,
            REMOTE_ADDR="10.0.0.2",  # the proxy
        ).status_code

    assert [via_proxy("198.51.100.7") for _ in range(6)] == [401] * 5 + [429]
    # The left-most, client-supplied entry is ignored: same real client, still limited.
    assert via_proxy("198.51.100.7", spoofed="1.2.3.4") == 429
    assert via_proxy("198.51.100.8") == 401


def test_register_is_limited_per_ip(api, settings):
    settings.REGISTER_IP_RATE = "3/h"
    results = [register(api, email=f"n{i}@example.com") for i in range(4)]
    assert statuses(results) == [201, 201, 201, 429]


def test_bad_refresh_tokens_are_limited_per_ip(api, make_user):
    make_user()
    good = login(api).json()
    bad = [api.post("/auth/refresh", {"refresh_token": "garbage"}, format="json") for _ in range(6)]
    assert statuses(bad) == [401] * 5 + [429]
    elsewhere = api.post(
        "/auth/refresh",
        {"refresh_token": good["refresh_token"]},
        format="json",
        REMOTE_ADDR="10.9.9.9",
    )
    assert elsewhere.status_code == 200


def test_login_fails_closed_when_redis_is_down_while_the_catalog_keeps_serving(
    api, make_user, settings
):
    make_user()
    settings.CACHES = {
        alias: {**config, "LOCATION": "redis://127.0.0.1:1/0"}
        for alias, config in settings.CACHES.items()
    }
    response = login(api)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert api.get("/anime").status_code == 200


def test_expired_sessions_are_purged_by_the_scheduled_job(make_user):
    user = make_user()
    now = timezone.now()
    old = Session.objects.create(
        user=user, refresh_token_hash="x", expires_at=now - timedelta(days=8)
    )
    revoked = Session.objects.create(
        user=user,
        refresh_token_hash="y",
        expires_at=now + timedelta(days=5),
        revoked_at=now - timedelta(days=8),
    )
    recent = Session.objects.create(
        user=user,
        refresh_token_hash="z",
        expires_at=now + timedelta(days=5),
        revoked_at=now - timedelta(days=1),
    )
    live = Session.objects.create(
        user=user, refresh_token_hash="w", expires_at=now + timedelta(days=5)
    )
    schedule = Schedule.objects.get(name="accounts.purge_sessions")
    assert schedule.schedule_type == Schedule.DAILY
    async_task(schedule.func, sync=True)  # run it exactly as qcluster would, inline
    remaining = set(Session.objects.values_list("id", flat=True))
    assert remaining == {recent.id, live.id}
    assert old.id not in remaining
    assert revoked.id not in remaining
