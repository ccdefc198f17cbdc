"""Audit finding 1.3: the login limit holds across worker processes (real gunicorn, Redis)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django_ratelimit.core import _get_window

from accounts.models import User
from tests.accounts.conftest import PASSWORD
from tests.servers import gunicorn, worker_pids

WINDOW_SECONDS = 15


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_five_guesses_in_total_across_four_workers(tmp_path, production_hashers):
    # This test is about the per-account limit. Every request comes from 127.0.0.1; the per-IP
    # limit is raised so that it never answers first.
    with gunicorn(
        4, tmp_path, LOGIN_FAILURE_RATE=f"5/{WINDOW_SECONDS}s", LOGIN_IP_RATE="1000/60s"
    ) as base:
        email = f"victim-{uuid.uuid4().hex[:12]}@example.com"  # no count left by an earlier run
        User.objects.create_user(email=email, password=PASSWORD)

        def guess(_: int) -> httpx.Response:
            # A new connection per request, so gunicorn spreads them over its workers.
            return httpx.post(
                f"{base}/auth/login",
                json={"email": email, "password": "wrong guess"},
                headers={"Connection": "close"},
                timeout=30,
            )

        # django-ratelimit counts in fixed windows (each key's boundary shifted by a hash of
        # the key): a burst that straddled a boundary would see the count restart midway.
        # Start the burst at the beginning of a window of this account's bucket instead.
        # _get_window() is the window's last second: the next window starts one second later.
        left = _get_window(f"127.0.0.1:{email}", WINDOW_SECONDS) + 1 - time.time()
        if left < WINDOW_SECONDS / 2:
            time.sleep(left + 0.2)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=10) as pool:
            responses = list(pool.map(guess, range(20)))
        elapsed = time.monotonic() - started
        retry_after = min(int(r.headers["Retry-After"]) for r in responses if r.status_code == 429)
        codes = sorted(r.status_code for r in responses)
        diagnostics = (
            f"elapsed={elapsed:.1f}s retry_after={retry_after}s window left={left:.1f}s "
            f"answers={[(r.status_code, r.headers.get('Retry-After')) for r in responses]}"
        )
        assert codes == [401] * 5 + [429] * 15, diagnostics
        assert len(worker_pids(tmp_path, "/auth/login")) >= 2, "requests were not spread"

        # Once the window has passed, the right password works.
        time.sleep(retry_after + 1)
        response = httpx.post(f"{base}/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
