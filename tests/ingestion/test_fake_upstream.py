"""The fake upstream server: documented shapes, paging, auth rules, faults and the control API.

No database: the server runs in a thread of the test process (``start_in_thread``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from fake_upstream.data import FRIEREN_ID, FakeCatalog
from fake_upstream.server import FakeUpstream, start_in_thread

ROOT = Path(__file__).resolve().parents[2]
ANIME = 123  # 50 + 50 + 23: the last /api/animes page at limit=50 is short
UA = {"User-Agent": "Kitsu-tests/1.0"}
SHORT_KEYS = [
    "id", "name", "russian", "image", "url", "kind", "score", "status",
    "episodes", "episodes_aired", "aired_on", "released_on",
]  # fmt: skip
DETAIL_EXTRA_KEYS = [
    "rating", "english", "japanese", "synonyms", "license_name_ru", "duration", "description",
    "description_html", "description_source", "franchise", "favoured", "anons", "ongoing",
    "thread_id", "topic_id", "myanimelist_id", "rates_scores_stats", "rates_statuses_stats",
    "updated_at", "next_episode_at", "fansubbers", "fandubbers", "licensors", "genres",
    "studios", "videos", "screenshots", "user_rate",
]  # fmt: skip


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstream]:
    with start_in_thread(anime=ANIME) as upstream:
        yield upstream


@pytest.fixture(autouse=True)
def _reset(fake: FakeUpstream) -> None:
    httpx.post(f"{fake.base_url}/_control/reset").raise_for_status()


@pytest.fixture
def shiki(fake: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.shikimori_url, headers=UA, timeout=5) as client:
        yield client


@pytest.fixture
def kodik(fake: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.kodik_url, timeout=5) as client:
        yield client


@pytest.fixture
def stream(fake: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.stream_url, timeout=5) as client:
        yield client


def control(fake: FakeUpstream, action: str, **body: Any) -> Any:
    response = httpx.post(f"{fake.base_url}/_control/{action}", json=body)
    response.raise_for_status()
    return response.json()


def log(fake: FakeUpstream, prefix: str = "") -> list[dict[str, Any]]:
    response = httpx.get(f"{fake.base_url}/_control/requests", params={"path_prefix": prefix})
    return list(response.json())


def all_pages(shiki: httpx.Client, limit: int) -> list[list[dict[str, Any]]]:
    pages = []
    for page in range(1, 100):
        items = shiki.get("/api/animes", params={"page": page, "limit": limit}).json()
        pages.append(items)
        if len(items) < limit:
            return pages
    raise AssertionError("paging never ended")


# --- data -------------------------------------------------------------------------------------


def test_catalog_is_deterministic_sized_and_always_has_frieren() -> None:
    one, again = FakeCatalog(40, seed=1), FakeCatalog(40, seed=1)
    assert len(one) == 40
    assert one.ids == [*range(1, 40), FRIEREN_ID]
    assert [one.short_json(a) for a in one.ordered()] == [
        again.short_json(a) for a in again.ordered()
    ]
    # A bigger catalog extends a smaller one; another seed is another catalog.
    bigger = FakeCatalog(300, seed=1)
    assert bigger.short_json(bigger.anime[39]) == one.short_json(one.anime[39])
    other = FakeCatalog(40, seed=2)
    assert other.short_json(other.anime[5]) != one.short_json(one.anime[5])
    assert FakeCatalog(1).ids == [FRIEREN_ID]


def test_catalog_mix_matches_the_brief() -> None:
    catalog = FakeCatalog(3000)
    anime = catalog.ordered()
    share = {
        status: sum(a.status == status for a in anime) / len(anime)
        for status in ("ongoing", "anons")
    }
    assert 0.08 < share["ongoing"] < 0.12
    assert 0.035 < share["anons"] < 0.065
    assert {a.kind for a in anime} == {"tv", "movie", "ova", "ona", "special"}
    without_kodik = sum(not a.kodik for a in anime) / len(anime)
    assert 0.03 < without_kodik < 0.09
    assert 0.25 < sum(a.stream is not None for a in anime) / len(anime) < 0.35
    assert any(len(m.season_episodes) == 2 for a in anime for m in a.kodik)
    assert all(1 <= len(a.kodik) <= 3 for a in anime if a.kodik)


def test_generates_20000_anime_quickly() -> None:
    started = time.perf_counter()
    catalog = FakeCatalog(20_000)
    elapsed = time.perf_counter() - started
    assert len(catalog) == 20_000
    assert elapsed < 10, f"generation took {elapsed:.1f}s (budget ~3s on a dev machine)"


# --- Shikimori --------------------------------------------------------------------------------


def test_anime_list_pages_by_id_with_a_short_last_page(
    fake: FakeUpstream, shiki: httpx.Client
) -> None:
    pages = all_pages(shiki, limit=50)
    assert [len(p) for p in pages] == [50, 50, 23]
    ids = [item["id"] for page in pages for item in page]
    assert ids == fake.catalog.ids
    assert shiki.get("/api/animes", params={"page": 4, "limit": 50}).json() == []
    item = pages[0][0]
    assert list(item) == SHORT_KEYS
    assert isinstance(item["score"], str)
    assert item["image"]["original"] == f"/system/animes/original/{item['id']}.jpg?1700000000"
    assert item["url"].startswith(f"/animes/{item['id']}-")
    assert "charset=utf-8" in shiki.get("/api/animes").headers["content-type"]


def test_anime_list_clamps_limit_and_filters(shiki: httpx.Client) -> None:
    assert len(shiki.get("/api/animes", params={"limit": 500}).json()) == 50
    assert len(shiki.get("/api/animes", params={"limit": 0}).json()) == 1
    by_ids = shiki.get("/api/animes", params={"ids": f"7,3,{FRIEREN_ID}", "limit": 50}).json()
    assert [a["id"] for a in by_ids] == [3, 7, FRIEREN_ID]
    ongoing = shiki.get("/api/animes", params={"status": "ongoing", "limit": 50}).json()
    assert ongoing
    assert {a["status"] for a in ongoing} == {"ongoing"}
    bad = shiki.get("/api/animes", params={"limit": "many"})
    assert bad.status_code == 422
    assert isinstance(bad.json(), list)


def test_frieren_detail_has_the_documented_shape(shiki: httpx.Client) -> None:
    response = shiki.get(f"/api/animes/{FRIEREN_ID}")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == SHORT_KEYS + DETAIL_EXTRA_KEYS
    assert body["name"] == "Sousou no Frieren"
    assert body["russian"] == "Провожающая в последний путь Фрирен"
    assert body["english"] == ["Frieren: Beyond Journey's End"]
    assert body["japanese"] == ["葬送のフリーレン"]
    assert (body["kind"], body["status"], body["episodes"], body["score"]) == (
        "tv",
        "released",
        28,
        "9.29",
    )
    assert (body["aired_on"], body["released_on"]) == ("2023-09-29", "2024-03-22")
    assert [g["name"] for g in body["genres"]] == ["Adventure", "Drama", "Fantasy"]
    assert body["genres"][0] == {
        "id": 2,
        "name": "Adventure",
        "russian": "Приключения",
        "kind": "genre",
        "entry_type": "Anime",
    }
    assert [s["name"] for s in body["studios"]] == ["Madhouse"]
    assert body["myanimelist_id"] == FRIEREN_ID
    assert "[character=" in body["description"]
    assert body["next_episode_at"] is None
    assert body["updated_at"].endswith("+03:00")
    # Slug-style ids resolve too.
    assert shiki.get(f"/api/animes/{FRIEREN_ID}-sousou-no-frieren").json()["id"] == FRIEREN_ID


def test_ongoing_detail_has_a_future_next_episode(fake: FakeUpstream, shiki: httpx.Client) -> None:
    ongoing = next(a for a in fake.catalog.ordered() if a.status == "ongoing")
    body = shiki.get(f"/api/animes/{ongoing.id}").json()
    assert body["ongoing"] is True
    assert datetime.fromisoformat(body["next_episode_at"]) > datetime.now().astimezone()


def test_unknown_anime_is_the_shikimori_404(shiki: httpx.Client) -> None:
    response = shiki.get("/api/animes/999999")
    assert response.status_code == 404
    assert response.json() == {"message": "Страница не найдена", "code": 404}
    assert shiki.get("/api/nothing-here").status_code == 404


@pytest.mark.parametrize("headers", [{}, {"User-Agent": ""}])
def test_shikimori_requires_a_user_agent(fake: FakeUpstream, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=fake.shikimori_url) as client:
        del client.headers["User-Agent"]  # httpx sends python-httpx/x by default
        response = client.get("/api/animes", headers=headers)
    assert response.status_code == 403
    assert response.json() == {"message": "User-Agent required", "code": 403}
    assert log(fake, "/api/animes")[-1]["user_agent"] in (None, "")


def test_calendar_lists_future_episodes_in_order(shiki: httpx.Client) -> None:
    calendar = shiki.get("/api/calendar").json()
    assert calendar
    moments = [datetime.fromisoformat(e["next_episode_at"]) for e in calendar]
    assert moments == sorted(moments)
    assert moments[0] > datetime.now().astimezone()
    for entry in calendar:
        assert list(entry) == ["next_episode", "next_episode_at", "duration", "anime"]
        assert entry["next_episode_at"].endswith(".000+03:00")
        assert entry["duration"] is None or entry["duration"] % 60 == 0
        assert entry["anime"]["status"] in ("ongoing", "anons")
        assert list(entry["anime"]) == SHORT_KEYS
        assert entry["next_episode"] == entry["anime"]["episodes_aired"] + 1


def test_genres(shiki: httpx.Client) -> None:
    genres = shiki.get("/api/genres").json()
    anime_genres = [g for g in genres if g["entry_type"] == "Anime"]
    assert len(anime_genres) >= 15
    assert {"id": 10, "name": "Fantasy", "russian": "Фэнтези", "kind": "genre"}.items() <= {
        **next(g for g in genres if g["id"] == 10)
    }.items()


# --- Kodik ------------------------------------------------------------------------------------


def test_kodik_token_is_required_for_get_and_post(fake: FakeUpstream, kodik: httpx.Client) -> None:
    missing = kodik.get("/search", params={"shikimori_id": FRIEREN_ID})
    wrong = kodik.post("/search", data={"token": "nope", "shikimori_id": FRIEREN_ID})
    for response in (missing, wrong):
        assert response.status_code == 200
        assert response.json() == {"error": "Отсутствует или неверный токен"}
    control(fake, "config", kodik_token_error_status=403)
    try:
        assert kodik.get("/list", params={"token": "nope"}).status_code == 403
    finally:
        control(fake, "config", kodik_token_error_status=200)


def test_kodik_search_by_shikimori_id_one_result_per_translation(
    fake: FakeUpstream, kodik: httpx.Client
) -> None:
    query = {"token": fake.kodik_token, "shikimori_id": FRIEREN_ID, "with_episodes": "true"}
    by_get = kodik.get("/search", params=query).json()
    by_post_form = kodik.post("/search", data=query).json()
    by_post_query = kodik.post("/search", params=query).json()
    assert by_get["results"] == by_post_form["results"] == by_post_query["results"]
    assert by_get["total"] == 3
    assert isinstance(by_get["time"], str)
    assert by_get["time"].endswith("ms")
    results = by_get["results"]
    assert [r["translation"]["id"] for r in results] == [610, 609, 869]
    assert len({r["id"] for r in results}) == 3
    first = results[0]
    assert first["shikimori_id"] == str(FRIEREN_ID)
    assert first["type"] == "anime-serial"
    assert first["id"].startswith("serial-")
    assert first["link"].startswith("//kodikplayer.com/serial/")
    assert (first["last_season"], first["last_episode"], first["episodes_count"]) == (1, 28, 28)
    episodes = first["seasons"]["1"]["episodes"]
    assert list(episodes) == [str(n) for n in range(1, 29)]
    assert episodes["1"].startswith("//kodikplayer.com/seria/")
    assert episodes["1"].endswith("/720p")
    assert "material_data" not in first

    plain = kodik.get("/search", params={**query, "with_episodes": "false"}).json()
    assert "seasons" not in plain["results"][0]
    data = kodik.get(
        "/search", params={**query, "with_episodes_data": "true", "with_material_data": "true"}
    ).json()["results"][0]
    episode = data["seasons"]["1"]["episodes"]["1"]
    assert set(episode) == {"title", "link", "screenshots"}
    assert data["material_data"]["anime_studios"] == ["Madhouse"]
    assert data["material_data"]["anime_genres"] == ["Приключения", "Драма", "Фэнтези"]


def test_kodik_movies_and_two_season_serials(fake: FakeUpstream, kodik: httpx.Client) -> None:
    catalog = FakeCatalog(2000)  # big enough to hold both kinds; same generator as the server
    control(fake, "catalog", anime=2000)
    try:
        movie = next(a for a in catalog.ordered() if a.kind == "movie" and a.kodik)
        two = next(a for a in catalog.ordered() if a.kodik and len(a.kodik[0].season_episodes) == 2)
        query = {"token": fake.kodik_token, "with_episodes": "true"}
        result = kodik.get("/search", params={**query, "shikimori_id": movie.id}).json()
        movie_result = result["results"][0]
        assert movie_result["id"].startswith("movie-")
        assert movie_result["type"] == "anime"
        assert "/video/" in movie_result["link"]
        for key in ("seasons", "last_season", "last_episode", "episodes_count"):
            assert key not in movie_result
        serial = kodik.get("/search", params={**query, "shikimori_id": two.id}).json()
        seasons = serial["results"][0]["seasons"]
        assert list(seasons) == ["1", "2"]
        assert next(iter(seasons["2"]["episodes"])) == "1"  # numbering restarts per season
        assert serial["results"][0]["last_season"] == 2
        # Announced titles have no Kodik material.
        anons = next(a for a in catalog.ordered() if a.status == "anons")
        empty = kodik.get("/search", params={**query, "shikimori_id": anons.id}).json()
        assert empty == {"time": empty["time"], "total": 0, "results": []}
    finally:
        control(fake, "catalog", anime=ANIME)


def test_kodik_search_needs_a_search_key(fake: FakeUpstream, kodik: httpx.Client) -> None:
    body = kodik.get("/search", params={"token": fake.kodik_token}).json()
    assert "error" in body


def test_kodik_list_next_page_chain_ends(fake: FakeUpstream, kodik: httpx.Client) -> None:
    expected = sum(len(a.kodik) for a in fake.catalog.ordered())
    first = kodik.post(
        "/list", params={"token": fake.kodik_token, "limit": 40, "types": "anime,anime-serial"}
    ).json()
    assert first["prev_page"] is None
    assert first["total"] == expected
    seen: list[dict[str, Any]] = list(first["results"])
    url = first["next_page"]
    pages = 1
    while url:
        query = parse_qs(urlsplit(url).query)
        assert url.startswith(f"{fake.kodik_url}/list?")
        assert query["token"] == [fake.kodik_token]
        assert query["next"]
        page = kodik.get(url).json()
        assert page["prev_page"] is not None
        assert len(page["results"]) <= 40
        seen.extend(page["results"])
        url = page["next_page"]
        pages += 1
    assert pages == -(-expected // 40)
    assert len(seen) == expected
    assert len({r["id"] for r in seen}) == expected
    updated = [r["updated_at"] for r in seen]
    assert updated == sorted(updated, reverse=True)
    # prev_page of page 2 is page 1 again.
    second = kodik.get(first["next_page"]).json()
    assert kodik.get(second["prev_page"]).json()["results"] == first["results"]


def test_kodik_list_limit_defaults_and_clamps(fake: FakeUpstream, kodik: httpx.Client) -> None:
    token = fake.kodik_token
    assert len(kodik.get("/list", params={"token": token}).json()["results"]) == 50
    assert len(kodik.get("/list", params={"token": token, "limit": 500}).json()["results"]) == 100
    assert kodik.get("/list", params={"token": token, "limit": 0}).status_code == 500
    assert (
        kodik.get("/list", params={"token": token, "types": "foreign-movie"}).json()["results"]
        == []
    )


# --- aniwatch-api -----------------------------------------------------------------------------


def test_stream_health(fake: FakeUpstream, stream: httpx.Client) -> None:
    for response in (stream.get("/health"), httpx.get(f"{fake.base_url}/health")):
        assert response.status_code == 200
        assert response.text == "daijoubu"


def test_stream_episodes_servers_and_sources(fake: FakeUpstream, stream: httpx.Client) -> None:
    slug = f"sousou-no-frieren-{FRIEREN_ID}"
    episodes = stream.get(f"/anime/{slug}/episodes").json()
    assert episodes["status"] == 200
    data = episodes["data"]
    assert data["totalEpisodes"] == 28
    first = data["episodes"][0]
    assert set(first) == {"number", "title", "episodeId", "isFiller"}
    assert first["episodeId"].startswith(f"{slug}?ep=")

    servers = stream.get("/episode/servers", params={"animeEpisodeId": first["episodeId"]})
    body = servers.json()["data"]
    assert body["episodeNo"] == 1
    assert body["sub"] == [
        {"serverName": "hd-1", "serverId": 4},
        {"serverName": "hd-2", "serverId": 1},
    ]

    sources = stream.get(
        "/episode/sources",
        params={"animeEpisodeId": first["episodeId"], "server": "hd-1", "category": "sub"},
    ).json()["data"]
    assert sources["sources"][0]["isM3U8"] is True
    assert sources["sources"][0]["url"].endswith(".m3u8")
    assert sources["headers"] == {"Referer": "https://megacloud.blog/"}
    assert sources["subtitles"][0]["default"] is True
    assert set(sources["intro"]) == {"start", "end"}
    assert sources["malID"] == FRIEREN_ID
    assert "anilistID" in sources

    found = stream.get("/search", params={"q": "frieren"}).json()["data"]
    assert [a["id"] for a in found["animes"]] == [slug]
    assert found["hasNextPage"] is False


def test_stream_errors(stream: httpx.Client) -> None:
    missing = stream.get("/anime/no-such-anime-1/episodes")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404
    assert "message" in missing.json()
    bad_id = stream.get("/episode/servers", params={"animeEpisodeId": "just-a-slug"})
    assert bad_id.status_code == 400
    assert stream.get("/no/such/route").json() == {"status": 404, "message": "Not Found"}


# --- faults -----------------------------------------------------------------------------------


def test_fault_429_is_rack_attack_plain_text_without_retry_after(
    fake: FakeUpstream, shiki: httpx.Client
) -> None:
    control(fake, "faults", path_prefix="/api/animes", mode="429", count=2)
    for _ in range(2):
        response = shiki.get("/api/animes")
        assert response.status_code == 429
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == "Retry later\n"
        assert "retry-after" not in response.headers
    assert shiki.get("/api/animes").status_code == 200


def test_fault_429_with_retry_after(fake: FakeUpstream, shiki: httpx.Client) -> None:
    control(fake, "faults", path_prefix="/api/animes", mode="429_retry_after", seconds=3)
    response = shiki.get("/api/animes")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert shiki.get("/api/animes").status_code == 200


@pytest.mark.parametrize("mode", ["500", "503"])
def test_fault_server_errors(fake: FakeUpstream, shiki: httpx.Client, mode: str) -> None:
    control(fake, "faults", path_prefix="/api/calendar", mode=mode)
    assert shiki.get("/api/genres").status_code == 200  # other paths are untouched
    assert shiki.get("/api/calendar").status_code == int(mode)
    assert shiki.get("/api/calendar").status_code == 200


def test_fault_malformed_json(fake: FakeUpstream, shiki: httpx.Client) -> None:
    control(fake, "faults", path_prefix="/api/animes/", mode="malformed")
    response = shiki.get(f"/api/animes/{FRIEREN_ID}")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_fault_slow_and_timeout(fake: FakeUpstream, shiki: httpx.Client) -> None:
    control(fake, "faults", path_prefix="/api/genres", mode="slow", seconds=0.4)
    started = time.perf_counter()
    assert shiki.get("/api/genres").status_code == 200
    assert time.perf_counter() - started >= 0.4
    control(fake, "faults", path_prefix="/api/genres", mode="timeout")
    with pytest.raises(httpx.ReadTimeout):
        shiki.get("/api/genres", timeout=0.3)


def test_fault_kodik_error(fake: FakeUpstream, kodik: httpx.Client) -> None:
    control(fake, "faults", path_prefix="/search", mode="kodik_error", message="Лимит")
    query = {"token": fake.kodik_token, "shikimori_id": FRIEREN_ID}
    response = kodik.get("/search", params=query)
    assert (response.status_code, response.json()) == (200, {"error": "Лимит"})
    assert kodik.get("/search", params=query).json()["total"] == 3


def test_fault_control_validates_its_input(fake: FakeUpstream) -> None:
    response = httpx.post(f"{fake.base_url}/_control/faults", json={"mode": "explode"})
    assert response.status_code == 400
    pending = httpx.get(f"{fake.base_url}/_control/faults").json()
    assert pending == []


# --- control API ------------------------------------------------------------------------------


def test_request_log_records_method_path_query_time_and_user_agent(
    fake: FakeUpstream, shiki: httpx.Client, kodik: httpx.Client
) -> None:
    before = time.time()
    shiki.get("/api/animes", params={"page": 2, "limit": 5})
    kodik.post("/search", data={"token": fake.kodik_token, "shikimori_id": FRIEREN_ID})
    entries = log(fake)
    assert [e["path"] for e in entries] == ["/api/animes", "/search"]
    first, second = entries
    assert first["method"] == "GET"
    assert first["query"] == "page=2&limit=5"
    assert first["user_agent"] == UA["User-Agent"]
    assert before <= first["time"] <= second["time"] <= time.time()
    assert first["status"] == 200
    assert second["method"] == "POST"
    assert f"token={fake.kodik_token}" in second["body"]
    assert log(fake, "/search") == [second]
    control(fake, "reset")
    assert log(fake) == []


def test_mutate_changes_the_anime_from_then_on(fake: FakeUpstream, shiki: httpx.Client) -> None:
    with start_in_thread(anime=20, seed=3) as own:
        with httpx.Client(base_url=own.shikimori_url, headers=UA) as client:
            before = client.get("/api/animes/5").json()
            control(own, "mutate", shikimori_id=5, fields={"score": "7.11", "name": "Changed"})
            after = client.get("/api/animes/5").json()
            listed = client.get("/api/animes", params={"ids": "5", "limit": 1}).json()[0]
            kodik_titles = {
                r["title_orig"]
                for r in httpx.get(
                    f"{own.kodik_url}/search", params={"token": own.kodik_token, "shikimori_id": 5}
                ).json()["results"]
            }
        assert (after["score"], after["name"]) == ("7.11", "Changed")
        assert (listed["score"], listed["name"]) == ("7.11", "Changed")
        assert after["updated_at"] > before["updated_at"]
        assert kodik_titles <= {"Changed"}
        missing = httpx.post(
            f"{own.base_url}/_control/mutate", json={"shikimori_id": 999, "fields": {}}
        )
        assert missing.status_code == 404
    # Stopped: the port no longer answers.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{own.base_url}/api/genres", headers=UA, timeout=1)


def test_catalog_can_be_resized(fake: FakeUpstream, shiki: httpx.Client) -> None:
    control(fake, "catalog", anime=10)
    try:
        assert len(shiki.get("/api/animes", params={"limit": 50}).json()) == 10
        assert httpx.get(f"{fake.base_url}/_control/catalog").json()["anime"] == 10
    finally:
        control(fake, "catalog", anime=ANIME)
    assert len(fake.catalog) == ANIME


def test_cli_prints_the_base_url_and_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "fake_upstream", "--port", "0", "--anime", "5"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        items = httpx.get(f"{base_url}/api/animes", params={"limit": 50}, headers=UA).json()
        assert len(items) == 5
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
