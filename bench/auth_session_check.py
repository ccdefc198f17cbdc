"""Cost of Kitsu's per-request session check on authenticated requests.

Kitsu's ``SessionJWTAuthentication`` decodes the access token and then loads the session and
its user in ONE query (so logout revokes access tokens at once). Compared here, on a real
PostgreSQL database, with:
  * decode only      - simplejwt ``AccessToken(raw)``: signature and expiry, no database;
  * stock simplejwt  - ``JWTAuthentication``: decode + one query for the user;
  * kitsu            - ``SessionJWTAuthentication``: decode + one query for session JOIN user.

Usage: .venv/bin/python bench/auth_session_check.py [--iterations 5000]
       [--database-url postgres://postgres@127.0.0.1:5432/kitsu_bench_auth]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import create_database, markdown_table, migrate, percentile, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kitsu_bench_auth"


def measure(label: str, fn: Callable[[], object], iterations: int) -> dict[str, float | str]:
    for _ in range(min(200, iterations)):
        fn()  # warm-up: pool connections, caches
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1e6)
    timings.sort()
    return {
        "label": label,
        "mean": statistics.fmean(timings),
        "p50": percentile(timings, 50),
        "p99": percentile(timings, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()

    create_database(args.database_url)
    migrate(args.database_url)
    setup_django(args.database_url)
    from rest_framework.test import APIRequestFactory
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.authentication import SessionJWTAuthentication
    from accounts.models import User
    from accounts.services import ClientInfo, session_create

    user = User.objects.filter(email="bench@example.com").first() or User.objects.create_user(
        email="bench@example.com",
        password="bench-password-1",  # noqa: S106
    )
    pair = session_create(user=user, client=ClientInfo(ip="127.0.0.1", user_agent="bench"))
    request = APIRequestFactory().get("/users/me", HTTP_AUTHORIZATION=f"Bearer {pair.access_token}")
    kitsu, stock = SessionJWTAuthentication(), JWTAuthentication()

    rows = [
        measure("decode only (no DB)", lambda: AccessToken(pair.access_token), args.iterations),
        measure(
            "stock simplejwt (user query)", lambda: stock.authenticate(request), args.iterations
        ),
        measure(
            "kitsu session check (session JOIN user)",
            lambda: kitsu.authenticate(request),
            args.iterations,
        ),
    ]

    print(f"iterations: {args.iterations}; database: {args.database_url}")
    # Queries per request (1 for both) are asserted in tests/accounts/test_auth_api.py.
    headers = ["authentication", "mean (µs)", "p50 (µs)", "p99 (µs)"]
    print(
        markdown_table(
            headers,
            [[row["label"], *(f"{row[k]:.0f}" for k in ("mean", "p50", "p99"))] for row in rows],
        )
    )
    extra = float(rows[2]["p50"]) - float(rows[1]["p50"])
    print(f"session check cost over stock simplejwt (p50): {extra:+.0f} µs")


if __name__ == "__main__":
    main()
