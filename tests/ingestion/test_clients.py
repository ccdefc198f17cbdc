"""The real clients against the fake upstream, in every failure mode."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections import Counter

import pytest

from ingestion.http import UpstreamError, UpstreamTimeout
from ingestion.sources.kodik.client import KodikClient
from ingestion.sources.shikimori.client import PAGE_SIZE, ShikimoriClient
from ingestion.sources.stream.client import StreamClient
from tests.ingestion.conftest import fault, requests_log
from tests.servers import ROOT, server_env

pytestmark = pytest.mark.django_db


def shikimori_requests(fake, prefix: str = "/api/animes") -> list[dict]:
    return [r for r in requests_log(fake) if r["path"].startswith(prefix)]


def test_pages_until_a_short_page_with_the_application_user_agent(upstream, settings):
    pages = list(ShikimoriClient.from_settings().anime_pages())
    assert [len(records) for _, records in pages] == [50, 50, 20]  # 120 anime
    log = shikimori_requests(upstream)
    assert len(log) == 3
    assert all(r["user_agent"] == settings.SHIKIMORI_USER_AGENT for r in log)
    assert all(f"limit={PAGE_SIZE}" in r["query"] for r in log)


def test_detail_calendar_genres(upstream):
    client = ShikimoriClient.from_settings()
    frieren = client.anime_detail(52991)
    assert frieren.title_en == "Frieren: Beyond Journey's End"
    assert frieren.poster_url.startswith(upstream.shikimori_url)
    assert client.calendar()
    assert client.genres()


@pytest.mark.parametrize("mode", ["429", "429_retry_after", "500", "503"])
def test_retryable_failures_are_retried_then_succeed(upstream, mode):
    fault(upstream, path_prefix="/api/animes", mode=mode, count=2, seconds=1)
    started = time.monotonic()
    records, _ = ShikimoriClient.from_settings().anime_page(1)
    assert len(records) == 50
    assert len(shikimori_requests(upstream)) == 3
    if mode == "429_retry_after":
        assert time.monotonic() - started >= 2  # waited Retry-After (1 s) twice


def test_retries_are_bounded(upstream, settings):
    settings.UPSTREAM_RETRIES = 2
    fault(upstream, path_prefix="/api/animes", mode="500", count=10)
    with pytest.raises(UpstreamError) as excinfo:
        ShikimoriClient.from_settings().anime_page(1)
    assert excinfo.value.status == 500
    assert len(shikimori_requests(upstream)) == 3


def test_other_4xx_is_not_retried(upstream):
    with pytest.raises(UpstreamError) as excinfo:
        ShikimoriClient.from_settings().anime_detail(999_999_999)
    assert excinfo.value.status == 404
    assert len(shikimori_requests(upstream)) == 1


def test_malformed_json_is_an_upstream_error(upstream):
    fault(upstream, path_prefix="/api/calendar", mode="malformed")
    with pytest.raises(UpstreamError, match="malformed JSON"):
        ShikimoriClient.from_settings().calendar()


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


def test_rate_limit_is_shared_by_processes(upstream, settings, tmp_path):
    """Three processes, 12 requests each, Shikimori limit 5 per second in total."""
    # The limiter counts a request in the second it was admitted, the fake in the second it
    # arrived: each child starts just after a second begins, so no request admitted at the
    # very end of a second arrives in the next one and is counted twice (a flaky 6 or 7).
    code = (
        "import django, os, time; django.setup()\n"
        "from ingestion.sources.shikimori.client import ShikimoriClient\n"
        "client = ShikimoriClient.from_settings()\n"
        "time.sleep(1.02 - time.time() % 1)\n"
        "for _ in range(12): client.genres()\n"
    )
    env = server_env(
        SHIKIMORI_URL=upstream.shikimori_url,
        SHIKIMORI_RPS="5",
        SHIKIMORI_RPM="1000",
        DJANGO_SETTINGS_MODULE="kitsu.settings",
    )
    workers = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env) for _ in range(3)]
    assert [w.wait(timeout=60) for w in workers] == [0, 0, 0]
    times = [r["time"] for r in shikimori_requests(upstream, "/api/genres")]
    assert len(times) == 36
    per_second = Counter(int(t) for t in times)
    assert max(per_second.values()) <= 5, per_second
    assert max(times) - min(times) >= 6  # 36 requests at 5/s need at least 7 windows


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
