"""The real clients against the fake upstream, in every failure mode."""

from __future__ import annotations

import bisect
import json
import logging
import subprocess
import sys
import time
import uuid

import pytest

from ingestion.http import UpstreamError, UpstreamTimeout
from ingestion.sources.kodik.client import KodikClient
from ingestion.sources.shikimori.client import PAGE_SIZE, ShikimoriClient
from ingestion.sources.stream.client import StreamClient
from tests.ingestion.conftest import fault, requests_log
from tests.servers import ROOT, server_env

pytestmark = pytest.mark.django_db


def shikimori_requests(fake, prefix: str = "/api/graphql") -> list[dict]:
    return [r for r in requests_log(fake) if r["path"].startswith(prefix)]


def test_pages_until_a_short_page_with_the_application_user_agent(upstream, settings):
    pages = list(ShikimoriClient.from_settings().anime_pages())
    assert [len(records) for _, records in pages] == [50, 50, 20]  # 120 anime
    log = shikimori_requests(upstream)
    assert len(log) == 3
    assert all(r["user_agent"] == settings.SHIKIMORI_USER_AGENT for r in log)
    assert all(json.loads(r["body"])["variables"]["limit"] == PAGE_SIZE for r in log)
    assert all(r["method"] == "POST" for r in log)


def test_detail_calendar_genres(upstream):
    client = ShikimoriClient.from_settings()
    frieren = client.anime_detail(52991)
    assert frieren.title_en == "Frieren: Beyond Journey's End"
    assert frieren.poster_url.startswith(upstream.shikimori_url)
    assert client.calendar()
    assert client.genres()


@pytest.mark.parametrize("mode", ["429", "429_retry_after", "500", "503"])
def test_retryable_failures_are_retried_then_succeed(upstream, mode):
    fault(upstream, path_prefix="/api/graphql", mode=mode, count=2, seconds=1)
    started = time.monotonic()
    records, _ = ShikimoriClient.from_settings().anime_page(1)
    assert len(records) == 50
    assert len(shikimori_requests(upstream)) == 3
    if mode == "429_retry_after":
        assert time.monotonic() - started >= 2  # waited Retry-After (1 s) twice


def test_retries_are_bounded(upstream, settings):
    settings.UPSTREAM_RETRIES = 2
    fault(upstream, path_prefix="/api/graphql", mode="500", count=10)
    with pytest.raises(UpstreamError) as excinfo:
        ShikimoriClient.from_settings().anime_page(1)
    assert excinfo.value.status == 500
    assert len(shikimori_requests(upstream)) == 3


def test_other_4xx_is_not_retried(upstream):
    with pytest.raises(UpstreamError) as excinfo:
        ShikimoriClient.from_settings().anime_detail(999_999_999)
    assert excinfo.value.status == 404
    assert len(shikimori_requests(upstream)) == 1


def test_malformed_json_is_retried_like_a_5xx_then_an_upstream_error(upstream, settings):
    fault(upstream, path_prefix="/api/calendar", mode="malformed", count=2)
    assert ShikimoriClient.from_settings().calendar()  # two truncated answers, then a good one
    assert len(shikimori_requests(upstream, "/api/calendar")) == 3
    settings.UPSTREAM_RETRIES = 1
    fault(upstream, path_prefix="/api/calendar", mode="malformed", count=5)
    with pytest.raises(UpstreamError, match=r"malformed JSON \(truncated: .* at char \d+ of \d+\)"):
        ShikimoriClient.from_settings().calendar()
    assert len(shikimori_requests(upstream, "/api/calendar")) == 3 + 2


def test_slow_answers_time_out_and_are_retried(upstream, settings):
    settings.UPSTREAM_TIMEOUT = 0.5
    settings.UPSTREAM_RETRIES = 1
    fault(upstream, path_prefix="/api/genres", mode="slow", count=5, seconds=2)
    with pytest.raises(UpstreamTimeout):
        ShikimoriClient.from_settings().genres()
    assert len(shikimori_requests(upstream, "/api/genres")) == 2


def test_kodik_materials_and_token_errors(upstream, settings, caplog):
    results = KodikClient.from_settings().materials(52991)
    assert results
    assert all(r.shikimori_id == 52991 for r in results)
    settings.KODIK_TOKEN = "wrong-token"
    with caplog.at_level(logging.INFO), pytest.raises(UpstreamError, match="токен"):
        KodikClient.from_settings().materials(52991)
    assert "wrong-token" not in caplog.text  # the token never reaches the logs
    fault(upstream, path_prefix="/search", mode="kodik_error", message="limit exceeded")
    settings.KODIK_TOKEN = upstream.kodik_token
    with pytest.raises(UpstreamError, match="limit exceeded"):
        KodikClient.from_settings().materials(52991)


def test_kodik_list_follows_next_page_to_the_end(upstream):
    pages = list(KodikClient.from_settings().list_pages(limit=100))
    assert len(pages) >= 2
    assert pages[-1].next_page is None


def test_stream_provider_is_off_unless_configured(upstream, settings):
    assert StreamClient.from_settings() is not None
    settings.STREAM_URL = ""
    assert StreamClient.from_settings() is None


def max_in_any_window(times: list[float], seconds: float) -> int:
    """The most requests that arrived within any ``seconds``-long span (sliding)."""
    times = sorted(times)
    return max(bisect.bisect_left(times, t + seconds) - i for i, t in enumerate(times))


def test_max_in_any_window_slides():
    times = [0.9, 0.95, 1.0, 1.05, 1.1, 1.5, 2.2]
    assert max_in_any_window(times, 1.0) == 6  # 0.9..1.5: a calendar second would say 5
    assert max_in_any_window(times, 0.1) == 2


# Three workers walk the catalog (list pages, then details) at once; 3 x 40 = 120 requests
# is more than one minute's 90, so both of Shikimori's real windows bind: about 66 s.
WORKER = """
import django; django.setup()
from ingestion.sources.shikimori.client import ShikimoriClient
client = ShikimoriClient.from_settings()
ids = [r.shikimori_id for _, page in client.anime_pages(max_pages=2) for r in page]
for shikimori_id in ids[: 40 - 2]:
    client.anime_detail(shikimori_id)
"""


def test_rate_limit_is_shared_by_processes(upstream, settings):
    """Shikimori's own limits (5 rps and 90 rpm per IP), enforced by the fake like
    rack-attack (fixed windows at a random phase): three processes syncing at once get no 429
    and stay within both limits in every sliding 1 s and 60 s window of the fake's log."""
    upstream.set_rate_limits([(5, 1), (90, 60)])
    env = server_env(
        SHIKIMORI_URL=upstream.shikimori_url,
        SHIKIMORI_RPS="5",
        SHIKIMORI_RPM="90",
        SHIKIMORI_RATE_LIMITS="",
        UPSTREAM_RETRIES="0",  # a 429 fails the worker instead of being retried away
        CACHE_KEY_PREFIX=f"{settings.CACHE_KEY_PREFIX}-rate-{uuid.uuid4().hex[:8]}",
        DJANGO_SETTINGS_MODULE="kitsu.settings",
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env) for _ in range(3)
    ]
    assert [w.wait(timeout=180) for w in workers] == [0, 0, 0]
    log = shikimori_requests(upstream, "/api/")
    assert len(log) == 120
    assert [r for r in log if r["status"] != 200] == []
    times = [r["time"] for r in log]
    assert max_in_any_window(times, 1) <= 5
    assert max_in_any_window(times, 60) <= 90
    assert max(times) - min(times) >= 60  # the minute window really held the 91st back


def test_fake_upstream_enforces_shikimori_limits_in_fixed_windows(upstream):
    """The fake itself: over a window's limit it answers rack-attack's 429."""
    upstream.set_rate_limits([(3, 60)])
    client = ShikimoriClient.from_settings()
    client.http.retries = 0
    for _ in range(3):
        client.genres()
    with pytest.raises(UpstreamError) as excinfo:
        client.genres()
    assert excinfo.value.status == 429
    assert [r["status"] for r in shikimori_requests(upstream, "/api/genres")] == [200] * 3 + [429]


def test_stream_search_episodes_servers_sources(upstream):
    client = StreamClient.from_settings()
    mapped = next(a for a in upstream.catalog.ordered() if a.stream is not None)
    hits = client.search(mapped.name)
    assert mapped.stream.slug in [hit.stream_id for hit in hits]
    episodes = client.episodes(mapped.stream.slug)
    assert episodes
    servers = client.servers(episodes[0].episode_id)
    assert servers.sub
    sources = client.sources(episodes[0].episode_id, server=servers.sub[0].name, category="sub")
    assert sources.sources[0].is_m3u8
    fault(upstream, path_prefix="/api/v2/hianime/episode/servers", mode="500", count=5)
    with pytest.raises(UpstreamError):
        client.servers(episodes[0].episode_id)


def test_one_client_per_upstream_per_process(upstream, settings, monkeypatch):
    from ingestion import sources

    shikimori = sources.catalog_source()
    assert sources.schedule_source() is shikimori  # one Shikimori client for both kinds
    assert sources.catalog_source() is shikimori
    kodik, stream = sources.episode_source(), sources.stream_source()
    assert sources.episode_source() is kodik
    assert sources.stream_source() is stream

    settings.KODIK_RPS = 9_999  # a setting the clients are built from: rebuilt, old ones closed
    assert sources.episode_source() is not kodik
    assert kodik.http.http.is_closed  # type: ignore[attr-defined]
    assert shikimori.http.http.is_closed  # type: ignore[attr-defined]

    parents = sources.catalog_source()
    monkeypatch.setattr(sources, "_owner_pid", -1)  # as seen from a forked django-q2 worker
    assert sources.catalog_source() is not parents
    assert not parents.http.http.is_closed  # type: ignore[attr-defined]  (not the child's to close)
    assert sources.catalog_source().genres()
    parents.close()  # type: ignore[attr-defined]


def test_parse_errors_become_upstream_errors_in_one_place():
    from ingestion.http import UpstreamClient
    from ingestion.records import UpstreamParseError

    def parse(payload: object) -> None:
        raise UpstreamParseError("kodik", "results: expected an array, got null")

    client = UpstreamClient("kodik", "http://127.0.0.1:9", rates=[])
    try:
        with pytest.raises(UpstreamError) as excinfo:
            client.parsed(parse, {"results": None})
    finally:
        client.close()
    assert str(excinfo.value) == "kodik: results: expected an array, got null"
    assert excinfo.value.upstream == "kodik"
    assert isinstance(excinfo.value.__cause__, UpstreamParseError)


def test_limiter_keeps_every_window_in_memory_without_redis(settings):
    """The embedded mode (no REDIS_URL, one process): the same moving windows, in memory."""
    from ingestion.http import SharedRateLimiter, parse_rates

    settings.REDIS_URL = ""
    limiter = SharedRateLimiter(f"embedded-{uuid.uuid4().hex}", parse_rates("2/second"))
    started = time.monotonic()
    for _ in range(5):
        limiter.acquire()
    assert time.monotonic() - started >= 2  # 5 requests at 2 per any second: 3 waits of ~1 s


def test_limiter_fails_closed_when_redis_is_down(settings):
    from ingestion.http import SharedRateLimiter, parse_rates

    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    limiter = SharedRateLimiter("shikimori", parse_rates("5/second"))
    with pytest.raises(UpstreamError, match="rate limiter storage unavailable"):
        limiter.acquire()


def test_bad_rate_limit_settings_are_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.SHIKIMORI_RATE_LIMITS = "five a second"
    with pytest.raises(ImproperlyConfigured, match="bad rate limit"):
        ShikimoriClient.from_settings()
