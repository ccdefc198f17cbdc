from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fake_upstream.server import FakeUpstream, start_in_thread


@pytest.fixture
def upstream(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeUpstream]:
    """The fake upstream (all three APIs) with the real clients pointed at it.

    Child processes (``tests.servers.server_env``) inherit the fake's Kodik token through the
    environment; they still need ``KITSU_UPSTREAM_URL=fake.base_url`` for the hosts."""
    with start_in_thread(anime=120) as fake:
        monkeypatch.setenv("KODIK_TOKEN", fake.kodik_token)
        settings.SHIKIMORI_URL = fake.shikimori_url
        settings.KODIK_URL = fake.kodik_url
        settings.KODIK_TOKEN = fake.kodik_token
        settings.STREAM_URL = fake.stream_url
        # Generous limits and short waits: these tests are about behaviour, not politeness
        # (the rate-limit test sets its own).
        settings.SHIKIMORI_RPS = settings.KODIK_RPS = settings.STREAM_RPS = 10_000
        settings.SHIKIMORI_RPM = settings.KODIK_RPM = settings.STREAM_RPM = 1_000_000
        settings.UPSTREAM_BACKOFF = 0.01
        settings.UPSTREAM_TIMEOUT = 2.0
        yield fake


def fault(fake: FakeUpstream, **spec: Any) -> None:
    response = httpx.post(f"{fake.base_url}/_control/faults", json=spec)
    response.raise_for_status()


def requests_log(fake: FakeUpstream) -> list[dict[str, Any]]:
    return list(httpx.get(f"{fake.base_url}/_control/requests").json())


def mutate(fake: FakeUpstream, shikimori_id: int, **fields: Any) -> None:
    httpx.post(
        f"{fake.base_url}/_control/mutate", json={"shikimori_id": shikimori_id, "fields": fields}
    ).raise_for_status()


def reset(fake: FakeUpstream) -> None:
    httpx.post(f"{fake.base_url}/_control/reset").raise_for_status()
