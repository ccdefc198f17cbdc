from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ingestion.records import (
    StreamEpisode,
    StreamServer,
    StreamServers,
    StreamSource,
    StreamSources,
    StreamSubtitle,
    UpstreamParseError,
)
from ingestion.sources.stream.parser import (
    parse_episodes,
    parse_search,
    parse_servers,
    parse_sources,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def ok(data: object) -> dict[str, Any]:
    return {"status": 200, "data": data}


def sources_data(**overrides: object) -> dict[str, Any]:
    data: dict[str, Any] = {
        "headers": {"Referer": "https://megacloud.blog/"},
        "sources": [{"url": "https://cdn.test/master.m3u8", "isM3U8": True, "type": "hls"}],
    }
    data.update(overrides)
    return data


# --- episodes --------------------------------------------------------------------------------


def test_episodes_fixture() -> None:
    episodes = parse_episodes(fixture("stream_episodes.json"))

    assert len(episodes) == 25
    assert episodes[0] == StreamEpisode(
        number=1, title="Turning Point", episode_id="steinsgate-3?ep=213", is_filler=False
    )
    assert episodes[23] == StreamEpisode(
        number=24, title="Achievement Point", episode_id="steinsgate-3?ep=236", is_filler=False
    )
    assert episodes[24] == StreamEpisode(
        number=25, title="Egoistic Poriomania", episode_id="steinsgate-3?ep=58301", is_filler=True
    )
    assert [e.number for e in episodes] == list(range(1, 26))


def test_episodes_old_success_envelope() -> None:
    payload = {
        "success": True,
        "data": {
            "totalEpisodes": 1,
            "episodes": [
                {"number": 1, "title": "Pilot", "episodeId": "x-1?ep=7", "isFiller": False}
            ],
        },
    }

    assert parse_episodes(payload) == [
        StreamEpisode(number=1, title="Pilot", episode_id="x-1?ep=7", is_filler=False)
    ]


def test_episodes_odd_entries() -> None:
    payload = ok(
        {
            "totalEpisodes": 5,
            "episodes": [
                {"number": "1", "title": None, "episodeId": "x-1?ep=1"},
                {"number": 2, "title": "No id"},
                {"title": "No number", "episodeId": "x-1?ep=3"},
                {
                    "number": 4,
                    "title": "Filler as string",
                    "episodeId": "x-1?ep=4",
                    "isFiller": "yes",
                },
                "five",
            ],
        }
    )

    assert parse_episodes(payload) == [
        StreamEpisode(number=1, title="", episode_id="x-1?ep=1", is_filler=False),
        StreamEpisode(number=4, title="Filler as string", episode_id="x-1?ep=4", is_filler=False),
    ]


def test_episodes_missing_list_raises() -> None:
    with pytest.raises(UpstreamParseError, match="stream: episodes"):
        parse_episodes(ok({"totalEpisodes": 0}))


# --- servers ---------------------------------------------------------------------------------


def test_servers_fixture() -> None:
    servers = parse_servers(fixture("stream_servers.json"))

    hd = (StreamServer(name="hd-1", server_id=4), StreamServer(name="hd-2", server_id=1))
    assert servers == StreamServers(
        episode_id="steinsgate-3?ep=213", episode_no=1, sub=hd, dub=hd, raw=()
    )


@pytest.mark.parametrize("episode_no", [1, "1", " 1 "])
def test_servers_episode_no_int_or_string(episode_no: object) -> None:
    payload = ok({"episodeId": "steinsgate-3?ep=213", "episodeNo": episode_no, "sub": []})

    servers = parse_servers(payload)

    assert servers.episode_no == 1
    assert (servers.sub, servers.dub, servers.raw) == ((), (), ())


def test_servers_odd_entries_are_skipped() -> None:
    payload = ok(
        {
            "episodeId": "x-1?ep=1",
            "episodeNo": 1,
            "sub": [
                {"serverName": "hd-1", "serverId": "4"},
                {"serverName": "hd-2"},
                {"serverId": 1},
                None,
            ],
            "dub": None,
        }
    )

    servers = parse_servers(payload)

    assert servers.sub == (StreamServer(name="hd-1", server_id=4),)
    assert servers.dub == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"episodeNo": 1}, "episodeId"),
        ({"episodeId": "x-1?ep=1"}, "episodeNo"),
        ({"episodeId": "x-1?ep=1", "episodeNo": "first"}, "episodeNo"),
        ({"episodeId": "x-1?ep=1", "episodeNo": None}, "episodeNo"),
    ],
)
def test_servers_missing_ids_raise(data: dict[str, Any], message: str) -> None:
    with pytest.raises(UpstreamParseError, match=message):
        parse_servers(ok(data))


# --- sources ---------------------------------------------------------------------------------


def test_sources_fixture() -> None:
    sources = parse_sources(fixture("stream_sources.json"))

    assert sources == StreamSources(
        headers={"Referer": "https://megacloud.blog/"},
        sources=(
            StreamSource(
                url="https://vd2.biananset.net/_v7/5e1a8f3c2b/master.m3u8", type="hls", is_m3u8=True
            ),
        ),
        subtitles=(
            StreamSubtitle(
                url="https://mgstatics.xyz/subtitle/7a1f03c2e9d84b56/eng-2.vtt",
                lang="English",
                default=True,
            ),
            StreamSubtitle(
                url="https://mgstatics.xyz/subtitle/7a1f03c2e9d84b56/por-3.vtt",
                lang="Portuguese - Portuguese(Brazil)",
                default=False,
            ),
            StreamSubtitle(
                url="https://mgstatics.xyz/subtitle/7a1f03c2e9d84b56/spa-4.vtt",
                lang="Spanish - Spanish(Latin_America)",
                default=False,
            ),
        ),
        intro=(31, 111),
        outro=(1376, 1447),
        anilist_id=9253,
        mal_id=9253,
    )


def test_sources_minimal_server_reply() -> None:
    # Servers other than megacloud return {headers, sources} only.
    sources = parse_sources(ok(sources_data()))

    assert sources.subtitles == ()
    assert (sources.intro, sources.outro) == ((0, 0), (0, 0))
    assert (sources.anilist_id, sources.mal_id) == (None, None)
    assert sources.headers == {"Referer": "https://megacloud.blog/"}


def test_sources_tracks_instead_of_subtitles() -> None:
    data = sources_data(
        tracks=[
            {
                "file": "https://cdn.test/eng.vtt",
                "label": "English",
                "kind": "captions",
                "default": True,
            },
            {"file": "https://cdn.test/thumbnails.vtt", "kind": "thumbnails"},
            {"url": "https://cdn.test/fre.vtt", "lang": "French"},
            {"label": "No file", "kind": "captions"},
        ]
    )

    assert parse_sources(ok(data)).subtitles == (
        StreamSubtitle(url="https://cdn.test/eng.vtt", lang="English", default=True),
        StreamSubtitle(url="https://cdn.test/fre.vtt", lang="French", default=False),
    )


def test_sources_subtitles_key_skips_thumbnails_too() -> None:
    data = sources_data(
        subtitles=[
            {"url": "https://cdn.test/thumbnails.vtt", "lang": "thumbnails", "kind": "thumbnails"},
            {"url": "https://cdn.test/eng.vtt", "lang": "English", "default": "true"},
        ]
    )

    assert parse_sources(ok(data)).subtitles == (
        StreamSubtitle(url="https://cdn.test/eng.vtt", lang="English", default=False),
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            {"url": "https://cdn.test/master.m3u8", "isM3U8": True, "type": "hls"},
            StreamSource(url="https://cdn.test/master.m3u8", type="hls", is_m3u8=True),
        ),
        (
            {"url": "https://cdn.test/video.mp4", "isM3U8": False, "type": "mp4"},
            StreamSource(url="https://cdn.test/video.mp4", type="mp4", is_m3u8=False),
        ),
        (
            {"url": "https://cdn.test/index.m3u8?t=1"},
            StreamSource(url="https://cdn.test/index.m3u8?t=1", type="hls", is_m3u8=True),
        ),
        (
            {"url": "https://cdn.test/video.mp4"},
            StreamSource(url="https://cdn.test/video.mp4", type="mp4", is_m3u8=False),
        ),
        (
            {"url": "https://cdn.test/stream", "type": "hls"},
            StreamSource(url="https://cdn.test/stream", type="hls", is_m3u8=True),
        ),
        (
            {"url": "https://cdn.test/stream"},
            StreamSource(url="https://cdn.test/stream", type="", is_m3u8=False),
        ),
    ],
)
def test_sources_is_m3u8_and_type(source: dict[str, Any], expected: StreamSource) -> None:
    assert parse_sources(ok(sources_data(sources=[source]))).sources == (expected,)


def test_sources_without_url_are_skipped() -> None:
    data = sources_data(sources=[{"isM3U8": True}, None, {"url": "https://cdn.test/a.m3u8"}])

    assert [s.url for s in parse_sources(ok(data)).sources] == ["https://cdn.test/a.m3u8"]


@pytest.mark.parametrize(
    ("intro", "expected"),
    [
        ({"start": 31, "end": 111}, (31, 111)),
        ({"start": 31.6, "end": 111.2}, (31, 111)),
        ({"start": "31", "end": "111"}, (31, 111)),
        ({"start": 0, "end": 0}, (0, 0)),
        ({"start": 31}, (0, 0)),
        ({"start": None, "end": None}, (0, 0)),
        ({"start": -5, "end": 10}, (0, 0)),
        ({"start": float("nan"), "end": 10}, (0, 0)),
        (None, (0, 0)),
        ([31, 111], (0, 0)),
    ],
)
def test_sources_intro_outro(intro: object, expected: tuple[int, int]) -> None:
    sources = parse_sources(ok(sources_data(intro=intro, outro=intro)))

    assert (sources.intro, sources.outro) == (expected, expected)


def test_sources_ids_and_headers_variants() -> None:
    data = sources_data(
        headers={"Referer": "https://megacloud.blog/", "X-Bad": 5},
        anilistId="9253",
        malID=0,
    )

    sources = parse_sources(ok(data))

    assert sources.headers == {"Referer": "https://megacloud.blog/"}
    assert (sources.anilist_id, sources.mal_id) == (9253, None)


def test_sources_missing_headers_are_empty() -> None:
    data = sources_data()
    del data["headers"]

    assert parse_sources(ok(data)).headers == {}


def test_sources_missing_sources_raises() -> None:
    with pytest.raises(UpstreamParseError, match="stream: sources"):
        parse_sources(ok({"headers": {}}))


# --- envelopes -------------------------------------------------------------------------------


def test_error_fixture_raises_with_the_upstream_message() -> None:
    with pytest.raises(UpstreamParseError) as excinfo:
        parse_sources(fixture("stream_error.json"))

    assert str(excinfo.value) == (
        "stream: getAnimeEpisodeSources: Couldn't find server. Try another server"
    )
    assert excinfo.value.upstream == "stream"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"status": 404, "message": "Not Found"}, "stream: Not Found"),
        ({"status": 429, "message": "Too Many Requests 😵"}, "stream: Too Many Requests 😵"),
        ({"status": "500", "message": "boom"}, "stream: boom"),
        ({"status": 400}, "stream: status 400"),
        ({"status": 500, "data": {"episodes": []}, "message": "late"}, "stream: late"),
        ({"success": False, "message": "old error"}, "stream: old error"),
        ({"success": False}, "stream: success is false"),
        ({"status": 200}, "stream: the envelope has no data object"),
        ({"status": 200, "data": None}, "stream: the envelope has no data object"),
        ({"status": 200, "data": []}, "stream: the envelope has no data object"),
        ([], "stream: expected an object envelope"),
        (None, "stream: expected an object envelope"),
    ],
)
@pytest.mark.parametrize("parse", [parse_episodes, parse_servers, parse_sources])
def test_error_envelopes_raise(payload: object, message: str, parse: Any) -> None:
    with pytest.raises(UpstreamParseError) as excinfo:
        parse(payload)

    assert str(excinfo.value).startswith(message)
    assert excinfo.value.upstream == "stream"


def test_parse_search_keeps_hits_with_an_id():
    payload = {
        "status": 200,
        "data": {
            "animes": [
                {"id": "steinsgate-3", "name": "Steins;Gate", "jname": "Steins;Gate"},
                {"name": "no id"},
                "garbage",
            ],
            "currentPage": 1,
        },
    }
    hits = parse_search(payload)
    assert [(h.stream_id, h.name) for h in hits] == [("steinsgate-3", "Steins;Gate")]
    with pytest.raises(UpstreamParseError):
        parse_search({"status": 500, "message": "boom"})
