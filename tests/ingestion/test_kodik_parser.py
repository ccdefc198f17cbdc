from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingestion.records import (
    KodikEpisode,
    KodikPage,
    KodikResult,
    KodikSeason,
    TranslationRecord,
    UpstreamParseError,
)
from ingestion.sources.kodik.parser import parse_results

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def serial(**overrides: object) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "serial-53973",
        "type": "anime-serial",
        "link": "//kodikplayer.com/serial/53973/0a1b2c3d/720p",
        "title": "Провожающая в последний путь Фрирен",
        "title_orig": "Sousou no Frieren",
        "translation": {"id": 610, "title": "AniLibria.TV", "type": "voice"},
        "year": 2023,
        "last_season": 1,
        "last_episode": 2,
        "episodes_count": 2,
        "shikimori_id": "52991",
        "quality": "WEB-DLRip 720p",
        "updated_at": "2024-03-22T18:40:05Z",
        "seasons": {
            "1": {
                "link": "//kodikplayer.com/season/95012/1f2e/720p",
                "episodes": {
                    "1": "//kodikplayer.com/seria/1234501/aa11/720p",
                    "2": "//kodikplayer.com/seria/1234502/bb22/720p",
                },
            }
        },
    }
    item.update(overrides)
    return item


def parse_one(**overrides: object) -> KodikResult:
    page = parse_results({"time": "1ms", "total": 1, "results": [serial(**overrides)]})
    [result] = page.results
    return result


# --- /search fixture -------------------------------------------------------------------------


def test_search_fixture_one_result_per_translation() -> None:
    page = parse_results(fixture("kodik_search_52991.json"))

    assert page.next_page is None
    assert [r.material_id for r in page.results] == [
        "serial-53973",
        "serial-53981",
        "serial-54077",
        "serial-53990",
    ]
    assert [r.shikimori_id for r in page.results] == [52991, 52991, None, 52991]
    assert [r.translation for r in page.results] == [
        TranslationRecord(external_id="610", name="AniLibria.TV", kind="voice"),
        TranslationRecord(external_id="1291", name="Crunchyroll.Subtitles", kind="subtitles"),
        TranslationRecord(external_id="1978", name="Dream Cast", kind="voice"),
        TranslationRecord(external_id="609", name="AniDUB", kind="voice"),
    ]


def test_search_fixture_voice_with_episode_link_strings() -> None:
    voice = parse_results(fixture("kodik_search_52991.json")).results[0]

    assert voice.quality == "WEB-DLRip 720p"
    assert voice.updated_at == datetime(2024, 3, 22, 18, 40, 5, tzinfo=UTC)
    [season] = voice.seasons
    assert season.number == 1
    # The payload lists keys in string order ("1", "10", "11", ..., "2"): sorted by number here.
    assert [e.number for e in season.episodes] == list(range(1, 29))
    assert season.episodes[0] == KodikEpisode(
        number=1,
        link="https://kodikplayer.com/seria/1234501/b3b0b5584c7052205891bc3c51d1ba26/720p",
        title="",
    )
    assert all(e.link.startswith("https://kodikplayer.com/seria/") for e in season.episodes)
    assert season.episodes[9].link.startswith("https://kodikplayer.com/seria/1234510/")


def test_search_fixture_subtitles_with_episode_data_and_two_seasons() -> None:
    subs = parse_results(fixture("kodik_search_52991.json")).results[1]

    assert subs.quality == "WEB-DL 1080p"
    assert [s.number for s in subs.seasons] == [1, 2]
    first, second = subs.seasons
    assert [(e.number, e.title) for e in first.episodes] == [
        (1, "Конец путешествия"),
        (2, "Нет нужды в магии"),
        (3, "Магия убийства людей"),
        (4, "Страна, где покоятся души"),
    ]
    assert first.episodes[0].link.startswith("https://kodikplayer.com/seria/1240101/")
    # Season 2 arrives as {"2": ..., "1": ...} and has an episode without a title.
    assert second.episodes == (
        KodikEpisode(
            number=1,
            link=second.episodes[0].link,
            title="Мини-аниме: Фрирен-бой 1",
        ),
        KodikEpisode(number=2, link=second.episodes[1].link, title=""),
    )
    assert second.episodes[0].link.startswith("https://kodikplayer.com/seria/1240201/")
    assert second.episodes[1].link.startswith("https://kodikplayer.com/seria/1240202/")


def test_search_fixture_result_without_shikimori_id() -> None:
    result = parse_results(fixture("kodik_search_52991.json")).results[2]

    assert result.shikimori_id is None
    assert [(s.number, len(s.episodes)) for s in result.seasons] == [(1, 3)]


# --- /list fixtures --------------------------------------------------------------------------


def test_list_page1() -> None:
    page = parse_results(fixture("kodik_list_page1.json"))

    assert page.next_page is not None
    assert page.next_page.startswith("https://kodikapi.com/list?")
    assert "token=SECRET" in page.next_page
    assert "&next=WzE3NjU2NDg4MDAwMDAsInNlcmlhbC02MzY5NSJd" in page.next_page
    assert [r.material_id for r in page.results] == [
        "serial-61990",
        "serial-62011",
        "movie-80414",
        "serial-63701",
        "serial-63695",
    ]
    assert [r.shikimori_id for r in page.results] == [59027, 52807, 57555, 59062, None]
    # Serials listed without with_episodes carry no seasons: nothing to say about episodes.
    assert [len(r.seasons) for r in page.results] == [0, 0, 1, 0, 0]
    assert page.results[3].translation == TranslationRecord(
        external_id="869", name="Субтитры", kind="subtitles"
    )
    assert page.results[0].updated_at == datetime(2025, 12, 13, 19, 40, tzinfo=UTC)


def test_list_page1_movie_becomes_one_episode() -> None:
    movie = parse_results(fixture("kodik_list_page1.json")).results[2]

    [season] = movie.seasons
    [episode] = season.episodes
    assert episode.link.startswith("https://kodikplayer.com/video/80414/")
    assert season == KodikSeason(
        number=1, episodes=(KodikEpisode(number=1, link=episode.link, title=""),)
    )


def test_list_page2_is_the_last() -> None:
    page = parse_results(fixture("kodik_list_page2.json"))

    assert page.next_page is None
    assert [r.shikimori_id for r in page.results] == [60098, 61517, 21, 53876]


# --- movie fixture ---------------------------------------------------------------------------


def test_movie_fixture() -> None:
    page = parse_results(fixture("kodik_movie.json"))

    [movie] = page.results
    link = "https://kodikplayer.com/video/20623/2aa0b25682ed600915be79c726bb22b0/720p"
    assert movie == KodikResult(
        material_id="movie-20623",
        shikimori_id=199,
        translation=TranslationRecord(external_id="704", name="Дублированный", kind="voice"),
        quality="BDRip 720p",
        seasons=(KodikSeason(number=1, episodes=(KodikEpisode(number=1, link=link, title=""),)),),
        updated_at=datetime(2023, 6, 1, 7, 45, 10, tzinfo=UTC),
    )
    assert page == KodikPage(results=(movie,), next_page=None)


# --- errors ----------------------------------------------------------------------------------


def test_error_fixture_raises_with_the_upstream_text() -> None:
    with pytest.raises(UpstreamParseError) as excinfo:
        parse_results(fixture("kodik_error.json"))

    assert str(excinfo.value) == "kodik: Отсутствует или неверный токен"
    assert excinfo.value.upstream == "kodik"


def test_error_key_wins_over_results() -> None:
    with pytest.raises(UpstreamParseError, match="kodik: Ошибка сервера"):
        parse_results({"error": "Ошибка сервера", "results": []})


@pytest.mark.parametrize(
    "payload",
    [
        [serial()],
        None,
        "error",
        {"time": "1ms", "total": 1},
        {"time": "1ms", "results": None},
        {"time": "1ms", "results": {"0": serial()}},
    ],
)
def test_bad_shape_raises(payload: object) -> None:
    with pytest.raises(UpstreamParseError, match=r"^kodik: ") as excinfo:
        parse_results(payload)
    assert excinfo.value.upstream == "kodik"


# --- rules on inline payloads ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("shikimori_id", "expected"),
    [("52991", 52991), (52991, 52991), (" 52991 ", 52991), ("", None), ("abc", None),
     ("52991a", None), (None, None), (True, None), (0, None)],
)  # fmt: skip
def test_shikimori_id(shikimori_id: object, expected: int | None) -> None:
    assert parse_one(shikimori_id=shikimori_id).shikimori_id == expected


def test_shikimori_id_omitted() -> None:
    item = serial()
    del item["shikimori_id"]

    [result] = parse_results({"results": [item]}).results

    assert result.shikimori_id is None


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("//kodikplayer.com/serial/1/h/720p", "https://kodikplayer.com/serial/1/h/720p"),
        ("//aniqit.com/serial/1/h/720p", "https://aniqit.com/serial/1/h/720p"),
        ("https://kodik.info/serial/1/h/720p", "https://kodik.info/serial/1/h/720p"),
    ],
)
def test_protocol_relative_links_get_https(link: str, expected: str) -> None:
    serial_result = parse_one(link=link, seasons={"1": {"link": link, "episodes": {"1": link}}})
    movie_result = parse_one(id="movie-1", link=link)

    assert serial_result.seasons[0].episodes[0].link == expected
    assert movie_result.seasons[0].episodes[0].link == expected


def test_non_numeric_season_and_episode_keys_are_skipped() -> None:
    result = parse_one(
        seasons={
            "2": {"link": "//k/s2", "episodes": {"1": "//k/s2e1"}},
            "special": {"link": "//k/sp", "episodes": {"1": "//k/sp1"}},
            "1": {
                "link": "//k/s1",
                "episodes": {
                    "10": "//k/e10",
                    "2": {"title": "Вторая", "link": "//k/e2", "screenshots": []},
                    "1": "//k/e1",
                    "1.5": "//k/e1.5",
                    "recap": "//k/recap",
                    "3": {"title": "Без ссылки"},
                    "4": None,
                },
            },
            "3": "not an object",
        }
    )

    assert result.seasons == (
        KodikSeason(
            number=1,
            episodes=(
                KodikEpisode(number=1, link="https://k/e1", title=""),
                KodikEpisode(number=2, link="https://k/e2", title="Вторая"),
                KodikEpisode(number=10, link="https://k/e10", title=""),
            ),
        ),
        KodikSeason(number=2, episodes=(KodikEpisode(number=1, link="https://k/s2e1", title=""),)),
    )


def test_serial_without_seasons_key_has_no_seasons() -> None:
    item = serial()
    del item["seasons"]

    [result] = parse_results({"results": [item]}).results

    assert result.seasons == ()


def test_movie_by_id_prefix_ignores_any_seasons() -> None:
    result = parse_one(
        id="movie-20623",
        type="anime",
        link="//kodikplayer.com/video/20623/h/720p",
        seasons={"1": {"link": "//x", "episodes": {"1": "//x/1", "2": "//x/2"}}},
    )

    assert result.seasons == (
        KodikSeason(
            number=1,
            episodes=(
                KodikEpisode(number=1, link="https://kodikplayer.com/video/20623/h/720p", title=""),
            ),
        ),
    )


def test_result_without_seasons_or_last_episode_is_a_movie() -> None:
    item = serial(id="serial-1")
    for key in ("seasons", "last_season", "last_episode", "episodes_count"):
        del item[key]

    [result] = parse_results({"results": [item]}).results

    assert len(result.seasons) == 1
    assert [e.number for e in result.seasons[0].episodes] == [1]
    assert (
        result.seasons[0].episodes[0].link == "https://kodikplayer.com/serial/53973/0a1b2c3d/720p"
    )


@pytest.mark.parametrize(
    ("translation", "expected"),
    [
        (
            {"id": 610, "title": "AniLibria.TV", "type": "voice"},
            TranslationRecord(external_id="610", name="AniLibria.TV", kind="voice"),
        ),
        (
            {"id": "869", "title": "Субтитры", "type": "subtitles"},
            TranslationRecord(external_id="869", name="Субтитры", kind="subtitles"),
        ),
        (
            {"id": 1, "title": "Оригинал", "type": "raw"},
            TranslationRecord(external_id="1", name="Оригинал", kind="voice"),
        ),
        (
            {"id": 2, "title": None},
            TranslationRecord(external_id="2", name="", kind="voice"),
        ),
    ],
)
def test_translation(translation: dict[str, Any], expected: TranslationRecord) -> None:
    assert parse_one(translation=translation).translation == expected


@pytest.mark.parametrize(
    ("updated_at", "expected"),
    [
        ("2024-03-22T18:40:05Z", datetime(2024, 3, 22, 18, 40, 5, tzinfo=UTC)),
        ("2024-03-22T18:40:05.123Z", datetime(2024, 3, 22, 18, 40, 5, 123000, tzinfo=UTC)),
        ("2024-03-22T21:40:05+03:00", datetime(2024, 3, 22, 18, 40, 5, tzinfo=UTC)),
        ("2024-03-22T18:40:05", datetime(2024, 3, 22, 18, 40, 5, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("yesterday", None),
        (1711132805, None),
    ],
)
def test_updated_at(updated_at: object, expected: datetime | None) -> None:
    result = parse_one(updated_at=updated_at)

    assert result.updated_at == expected
    if result.updated_at is not None:
        assert result.updated_at.tzinfo == UTC


def test_missing_optional_fields_become_empty() -> None:
    item = serial()
    for key in ("title", "title_orig", "quality", "year", "updated_at"):
        del item[key]

    [result] = parse_results({"results": [item]}).results

    assert (result.quality, result.updated_at) == ("", None)


def test_empty_next_page_is_none() -> None:
    page = parse_results({"results": [serial(), serial(id="serial-2")], "next_page": ""})

    assert len(page.results) == 2
    assert page.next_page is None


def test_next_page_is_kept_verbatim() -> None:
    url = "https://kodik-api.com/list?token=SECRET&limit=100&next=WzE3MzU2MTkwNjcwMDAsInNlcmlhbC02MzY5NSJd"

    assert parse_results({"total": 300, "results": [], "next_page": url}).next_page == url


@pytest.mark.parametrize(
    "broken",
    [
        "serial-1",
        None,
        serial(id=None),
        serial(id=""),
        serial(link=None),
        serial(link=""),
        serial(translation=None),
        serial(translation={"title": "No id", "type": "voice"}),
        serial(translation={"id": True, "title": "Bool id"}),
    ],
)
def test_unusable_results_are_skipped(broken: object) -> None:
    page = parse_results({"total": 2, "results": [broken, serial(id="serial-ok")]})

    assert [r.material_id for r in page.results] == ["serial-ok"]
