"""The Django admin login shares the API login's limiter (hardening issue).

Same Redis buckets per IP and per (IP, e-mail), same 5 failures per window, fail closed when
Redis is unreachable; across several gunicorn workers like the API's own test.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from django.test import Client

from tests.accounts.conftest import PASSWORD, login
from tests.servers import gunicorn, worker_pids

WINDOW_SECONDS = 60


def admin_login(client: Client, email: str, password: str, **extra: Any) -> Any:
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password, "next": "/admin/"},
        **extra,
    )


@pytest.fixture
def boss(make_user: Any) -> Any:
    return make_user(email="boss@example.com", role="super_admin", is_staff=True)


def test_the_admin_login_refuses_after_five_failures_and_never_checks_the_password(
    boss: Any,
) -> None:
    browser = Client()
    codes = [admin_login(browser, boss.email, "wrong guess").status_code for _ in range(7)]
    # Django's admin answers a wrong password with the form again (200); then 429.
    assert codes == [200] * 5 + [429] * 2
    refused = admin_login(browser, boss.email, PASSWORD)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert b"Too many failed sign-in attempts" in refused.content
    assert "_auth_user_id" not in browser.session  # the right password did not get in
    # Another account from the same IP is not locked out.
    assert admin_login(Client(), "someone@example.com", "x").status_code == 200


def test_admin_and_api_logins_count_in_the_same_buckets(api: Any, boss: Any) -> None:
    browser = Client()
    for _ in range(3):
        assert admin_login(browser, boss.email, "wrong guess").status_code == 200
    for _ in range(2):
        assert login(api, email=boss.email, password="wrong guess").status_code == 401
    assert login(api, email=boss.email).status_code == 429
    assert admin_login(browser, boss.email, PASSWORD).status_code == 429


def test_a_successful_admin_login_is_not_a_failure(boss: Any) -> None:
    for _ in range(4):
        assert admin_login(Client(), boss.email, "wrong guess").status_code == 200
    for _ in range(3):
        response = admin_login(Client(), boss.email, PASSWORD)
        assert response.status_code == 302, response.content[:300]
        assert response["Location"] == "/admin/"
    assert admin_login(Client(), boss.email, "wrong guess").status_code == 200


def test_the_admin_login_fails_closed_when_redis_is_down(boss: Any, settings: Any) -> None:
    settings.CACHES = {
        alias: {**config, "LOCATION": "redis://127.0.0.1:1/0"}
        for alias, config in settings.CACHES.items()
    }
    browser = Client()
    response = admin_login(browser, boss.email, PASSWORD)
    assert response.status_code == 503
    assert b"temporarily unavailable" in response.content
    assert "_auth_user_id" not in browser.session


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_admin_login_limit_holds_across_four_workers(
    tmp_path: Any, production_hashers: Any, make_user: Any
) -> None:
    with gunicorn(
        4, tmp_path, LOGIN_FAILURE_RATE=f"5/{WINDOW_SECONDS}s", LOGIN_IP_RATE="1000/60s"
    ) as base:
        for attempt in range(3):
            email = f"root{attempt}@example.com"
            make_user(email=email, role="super_admin", is_staff=True)
            codes = []
            for _ in range(12):
                # A fresh client (and connection) each time: requests spread over the workers.
                with httpx.Client(base_url=base, timeout=30) as browser:
                    page = browser.get("/admin/login/")
                    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
                    assert token, page.text[:500]
                    response = browser.post(
                        "/admin/login/",
                        data={
                            "username": email,
                            "password": "wrong guess",
                            "csrfmiddlewaretoken": token.group(1),
                        },
                        headers={"Referer": f"{base}/admin/login/", "Connection": "close"},
                    )
                    codes.append(response.status_code)
            # django-ratelimit counts in fixed windows (offset per key): a burst that straddled
            # a boundary lets a second 5 through, so it is tried again with a new account. A
            # limit that is not shared by the workers fails every attempt.
            if codes == [200] * 5 + [429] * 7:
                break
        assert codes == [200] * 5 + [429] * 7, codes
        assert len(worker_pids(tmp_path, "/admin/login/")) >= 2, "requests were not spread"
