from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingestion.records import AnimeRecord, GenreRecord, StudioRecord, UpstreamParseError
from ingestion.sources.shikimori.parser import (
    parse_anime_detail,
    parse_anime_list,
    parse_calendar,
    parse_genres,
    strip_bbcode,
)

FIXTURES = Path(__file__).parent / "fixtures"
HOST = "https://shikimori.one"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def short_item(**overrides: object) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": 52991,
        "name": "Sousou no Frieren",
        "russian": "Провожающая в последний путь Фрирен",
        "image": {
            "original": "/system/animes/original/52991.jpg?1711965679",
            "preview": "/system/animes/preview/52991.jpg?1711965679",
            "x96": "/system/animes/x96/52991.jpg?1711965679",
            "x48": "/system/animes/x48/52991.jpg?1711965679",
        },
        "url": "/animes/52991-sousou-no-frieren",
        "kind": "tv",
        "score": "9.29",
        "status": "released",
        "episodes": 28,
        "episodes_aired": 28,
        "aired_on": "2023-09-29",
        "released_on": "2024-03-22",
    }
    item.update(overrides)
    return item


def parse_one(**overrides: object) -> AnimeRecord:
    [record] = parse_anime_list([short_item(**overrides)], host=HOST)
    return record


def detail_payload(**overrides: object) -> dict[str, Any]:
    payload: dict[str, Any] = fixture("shikimori_anime_52991.json")
    payload.update(overrides)
    return payload


# --- list: recorded pages --------------------------------------------------------------------


def test_list_page1_parses_every_item() -> None:
    records = parse_anime_list(fixture("shikimori_animes_page1.json"), host=HOST)

    assert len(records) == 50
    assert records[0].shikimori_id == 16498
    assert records[-1].shikimori_id == 1575
    assert all(not record.is_detail for record in records)


def test_list_page1_frieren_short_record() -> None:
    records = {
        r.shikimori_id: r
        for r in parse_anime_list(fixture("shikimori_animes_page1.json"), host=HOST)
    }

    assert records[52991] == AnimeRecord(
        shikimori_id=52991,
        title="Sousou no Frieren",
        title_ru="Провожающая в последний путь Фрирен",
        kind="tv",
        status="released",
        score=Decimal("9.29"),
        episodes_total=28,
        episodes_aired=28,
        aired_on=date(2023, 9, 29),
        released_on=date(2024, 3, 22),
        year=2023,
        season="fall",
        poster_url="https://shikimori.one/system/animes/original/52991.jpg?1711965679",
    )


def test_list_page1_odd_cases() -> None:
    records = {
        r.shikimori_id: r
        for r in parse_anime_list(fixture("shikimori_animes_page1.json"), host=HOST)
    }

    # name null -> the Russian title.
    assert records[9969].title == "Гинтама 2"
    assert records[9969].title_ru == "Гинтама 2"
    # russian null -> "".
    assert records[60022].title == "One Piece Fan Letter"
    assert records[60022].title_ru == ""
    assert records[60022].kind == "tv_special"
    # score "0.0" on an announced title.
    assert records[59978].score == Decimal("0.00")
    assert records[59978].status == "anons"
    assert (records[59978].year, records[59978].season) == (2026, "winter")
    # ongoing with an unknown episode count.
    assert records[21].status == "ongoing"
    assert records[21].episodes_total == 0
    assert records[21].episodes_aired == 1153
    assert records[21].released_on is None
    # a movie that has aired_on but no released_on.
    movie = records[57555]
    assert (movie.kind, movie.aired_on, movie.released_on) == ("movie", date(2025, 9, 19), None)
    assert (movie.year, movie.season) == (2025, "fall")
    # the missing-poster placeholder, and an announced title without any date.
    assert records[61469].poster_url == ""
    assert (records[61469].aired_on, records[61469].year, records[61469].season) == (None, None, "")
    # an absolute image URL stays as it is.
    assert records[5114].poster_url == (
        "https://desu.shikimori.one/system/animes/original/5114.jpg?1699470925"
    )
    # a letter-prefixed url ("/animes/z20-naruto") does not touch the numeric id.
    assert records[20].title == "Naruto"
    assert records[20].score == Decimal("8.00")


def test_list_page2_short_last_page() -> None:
    records = parse_anime_list(fixture("shikimori_animes_page2_short.json"), host=HOST)

    assert [r.shikimori_id for r in records] == [966, 8687, 53876, 55809, 51039, 47405, 56524]
    assert records[0].title == "Crayon Shin-chan"
    assert records[0].episodes_total == 0


def test_list_empty_page() -> None:
    assert parse_anime_list([], host=HOST) == []


# --- list: rules on inline payloads ----------------------------------------------------------


@pytest.mark.parametrize(
    "bad_item",
    [
        {"name": "no id"},
        {"id": None, "name": "null id"},
        {"id": "z20", "name": "letter id"},
        {"id": True, "name": "bool id"},
        {"id": 12.5, "name": "float id"},
        {"id": 0, "name": "zero id"},
        {"id": -3, "name": "negative id"},
        "not an object",
        None,
    ],
)
def test_list_skips_items_without_an_integer_id(bad_item: object) -> None:
    records = parse_anime_list([bad_item, short_item(id=1, name="Cowboy Bebop")], host=HOST)

    assert [(r.shikimori_id, r.title) for r in records] == [(1, "Cowboy Bebop")]


def test_list_accepts_a_digit_string_id() -> None:
    assert parse_one(id="52991").shikimori_id == 52991


@pytest.mark.parametrize("payload", [{"id": 1}, None, "[]", 42])
def test_list_payload_not_an_array_raises(payload: object) -> None:
    with pytest.raises(UpstreamParseError, match="shikimori: anime list") as excinfo:
        parse_anime_list(payload, host=HOST)
    assert excinfo.value.upstream == "shikimori"


@pytest.mark.parametrize(
    ("name", "russian", "expected_title", "expected_ru"),
    [
        ("Sousou no Frieren", "Фрирен", "Sousou no Frieren", "Фрирен"),
        (None, "Фрирен", "Фрирен", "Фрирен"),
        ("", "Фрирен", "Фрирен", "Фрирен"),
        (None, None, "52991", ""),
        ("  ", "", "52991", ""),
    ],
)
def test_title_fallbacks(
    name: str | None, russian: str | None, expected_title: str, expected_ru: str
) -> None:
    record = parse_one(name=name, russian=russian)

    assert (record.title, record.title_ru) == (expected_title, expected_ru)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("tv", "tv"),
        ("movie", "movie"),
        ("ova", "ova"),
        ("ona", "ona"),
        ("special", "special"),
        ("tv_special", "tv_special"),
        ("music", "music"),
        ("pv", "pv"),
        ("cm", "cm"),
        ("tv_13", "tv"),
        ("tv_24", "tv"),
        ("tv_48", "tv"),
        (None, ""),
        ("manga", ""),
        (7, ""),
    ],
)
def test_kind(kind: object, expected: str) -> None:
    assert parse_one(kind=kind).kind == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [("anons", "anons"), ("ongoing", "ongoing"), ("released", "released"), (None, ""), ("x", "")],
)
def test_status(status: object, expected: str) -> None:
    assert parse_one(status=status).status == expected


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ("9.29", Decimal("9.29")),
        ("0.0", Decimal("0.00")),
        ("8", Decimal("8.00")),
        (" 7.5 ", Decimal("7.50")),
        ("8.755", Decimal("8.76")),
        (9.29, Decimal("9.29")),
        (8, Decimal("8.00")),
        ("10.0", Decimal("10.00")),
        (None, Decimal("0.00")),
        ("", Decimal("0.00")),
        ("n/a", Decimal("0.00")),
        ("NaN", Decimal("0.00")),
        ("Infinity", Decimal("0.00")),
        ("-1", Decimal("0.00")),
        ("11.2", Decimal("0.00")),
        (True, Decimal("0.00")),
        ([9.29], Decimal("0.00")),
    ],
)
def test_score(score: object, expected: Decimal) -> None:
    parsed = parse_one(score=score).score

    assert parsed == expected
    assert parsed.as_tuple().exponent == -2


def test_score_missing_key() -> None:
    item = short_item()
    del item["score"]

    [record] = parse_anime_list([item], host=HOST)

    assert record.score == Decimal("0.00")


@pytest.mark.parametrize(
    ("episodes", "expected"), [(28, 28), (0, 0), (None, 0), (-1, 0), ("12", 12), ("x", 0)]
)
def test_episode_counts(episodes: object, expected: int) -> None:
    record = parse_one(episodes=episodes, episodes_aired=episodes)

    assert (record.episodes_total, record.episodes_aired) == (expected, expected)


@pytest.mark.parametrize(
    ("aired_on", "expected"),
    [
        ("2023-09-29", date(2023, 9, 29)),
        (None, None),
        ("", None),
        ("2023-13-40", None),
        ("29.09.2023", None),
        (20230929, None),
    ],
)
def test_dates(aired_on: object, expected: date | None) -> None:
    record = parse_one(aired_on=aired_on, released_on=aired_on)

    assert (record.aired_on, record.released_on) == (expected, expected)


@pytest.mark.parametrize(
    ("aired_on", "year", "season"),
    [
        ("2023-12-01", 2023, "winter"),
        ("2024-01-05", 2024, "winter"),
        ("2024-02-29", 2024, "winter"),
        ("2024-03-01", 2024, "spring"),
        ("2024-05-31", 2024, "spring"),
        ("2024-06-01", 2024, "summer"),
        ("2024-08-31", 2024, "summer"),
        ("2024-09-01", 2024, "fall"),
        ("2024-11-30", 2024, "fall"),
        (None, None, ""),
    ],
)
def test_year_and_season_follow_aired_on(
    aired_on: str | None, year: int | None, season: str
) -> None:
    record = parse_one(aired_on=aired_on)

    assert (record.year, record.season) == (year, season)


@pytest.mark.parametrize(
    ("image", "host", "expected"),
    [
        (
            {"original": "/system/animes/original/52991.jpg?1711965679"},
            "https://shikimori.one",
            "https://shikimori.one/system/animes/original/52991.jpg?1711965679",
        ),
        (
            {"original": "/system/animes/original/52991.jpg?1711965679"},
            "https://shikimori.io/",
            "https://shikimori.io/system/animes/original/52991.jpg?1711965679",
        ),
        (
            {"original": "https://desu.shikimori.one/system/animes/original/1.jpg?1"},
            HOST,
            "https://desu.shikimori.one/system/animes/original/1.jpg?1",
        ),
        (
            {"original": "//desu.shikimori.one/system/animes/original/1.jpg"},
            HOST,
            "https://desu.shikimori.one/system/animes/original/1.jpg",
        ),
        (
            {"original": None, "preview": "/system/animes/preview/1.jpg?1"},
            HOST,
            "https://shikimori.one/system/animes/preview/1.jpg?1",
        ),
        ({"original": "/assets/globals/missing_original.jpg"}, HOST, ""),
        ({"original": "/assets/globals/missing_original.jpg?1234"}, HOST, ""),
        ({"original": "https://shikimori.one/assets/globals/missing_original.jpg"}, HOST, ""),
        ({"original": None}, HOST, ""),
        ({"original": ""}, HOST, ""),
        ({}, HOST, ""),
        (None, HOST, ""),
    ],
)
def test_poster_url(image: object, host: str, expected: str) -> None:
    [record] = parse_anime_list([short_item(image=image)], host=host)

    assert record.poster_url == expected


def test_poster_url_missing_image_key() -> None:
    item = short_item()
    del item["image"]

    [record] = parse_anime_list([item], host=HOST)

    assert record.poster_url == ""


# --- detail ----------------------------------------------------------------------------------


def test_detail_frieren() -> None:
    record = parse_anime_detail(fixture("shikimori_anime_52991.json"), host=HOST)

    assert record.is_detail
    assert record.shikimori_id == 52991
    assert record.mal_id == 52991
    assert record.title == "Sousou no Frieren"
    assert record.title_ru == "Провожающая в последний путь Фрирен"
    assert record.title_en == "Frieren: Beyond Journey's End"
    assert record.title_ja == "葬送のフリーレン"
    assert record.synonyms == ("Frieren at the Funeral", "Frieren: Beyond Journey's End")
    assert record.kind == "tv"
    assert record.status == "released"
    assert record.score == Decimal("9.29")
    assert (record.episodes_total, record.episodes_aired) == (28, 28)
    assert (record.aired_on, record.released_on) == (date(2023, 9, 29), date(2024, 3, 22))
    assert (record.year, record.season) == (2023, "fall")
    assert record.poster_url == "https://shikimori.one/system/animes/original/52991.jpg?1711965679"
    assert record.duration_minutes == 24
    assert record.rating == "pg_13"
    assert record.franchise == "sousou_no_frieren"
    assert record.next_episode_at is None
    assert record.description == (
        "Маг Фрирен вместе с героем Химмелем, жрецом Хайтером и воином Айзеном за десять лет "
        "победили Короля демонов. Для эльфийки, живущей тысячелетиями, это лишь миг.\n"
        "Спустя полвека она отправляется в путь, чтобы понять людей, — по мотивам манги "
        "Канэхито Ямады."
    )
    assert record.genres == (
        GenreRecord(shikimori_id=2, name="Adventure", name_ru="Приключения", kind="genre"),
        GenreRecord(shikimori_id=8, name="Drama", name_ru="Драма", kind="genre"),
        GenreRecord(shikimori_id=10, name="Fantasy", name_ru="Фэнтези", kind="genre"),
        GenreRecord(shikimori_id=27, name="Shounen", name_ru="Сёнэн", kind="demographic"),
    )
    assert record.studios == (StudioRecord(shikimori_id=11, name="Madhouse"),)


def test_detail_null_lists() -> None:
    record = parse_anime_detail(fixture("shikimori_anime_null_lists.json"), host=HOST)

    assert record.shikimori_id == 55809
    assert record.title == "Xian Ni"
    assert record.title_en == ""  # english: [null]
    assert record.title_ja == ""  # japanese: []
    assert record.synonyms == ("Renegade Immortal",)  # [null, "Renegade Immortal"]
    assert record.description == ""  # null
    assert record.is_detail
    assert record.franchise == ""  # null
    assert record.next_episode_at == datetime(2025, 12, 15, 2, 30, tzinfo=UTC)
    assert record.next_episode_at.tzinfo == UTC
    assert (record.kind, record.status, record.episodes_total) == ("ona", "ongoing", 0)
    assert record.released_on is None
    assert record.studios == ()
    assert record.genres is not None
    assert [g.name for g in record.genres] == ["Action", "Adventure", "Fantasy", "Martial Arts"]


@pytest.mark.parametrize(
    ("english", "expected"),
    [
        (["Frieren: Beyond Journey's End"], "Frieren: Beyond Journey's End"),
        ([None], ""),
        ([], ""),
        (None, ""),
        ("Frieren", "Frieren"),
    ],
)
def test_detail_english_and_japanese(english: object, expected: str) -> None:
    record = parse_anime_detail(detail_payload(english=english, japanese=english), host=HOST)

    assert (record.title_en, record.title_ja) == (expected, expected)


@pytest.mark.parametrize(
    ("synonyms", "expected"),
    [
        ([None, "x"], ("x",)),
        (["a", None, " ", "b"], ("a", "b")),
        ([], ()),
        (None, ()),
    ],
)
def test_detail_synonyms(synonyms: object, expected: tuple[str, ...]) -> None:
    assert parse_anime_detail(detail_payload(synonyms=synonyms), host=HOST).synonyms == expected


@pytest.mark.parametrize(
    ("myanimelist_id", "expected"), [(52991, 52991), (None, 52991), ("x", 52991), (5114, 5114)]
)
def test_detail_mal_id_falls_back_to_the_id(myanimelist_id: object, expected: int) -> None:
    record = parse_anime_detail(detail_payload(myanimelist_id=myanimelist_id), host=HOST)

    assert record.mal_id == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Маг [character=184947]Фрирен[/character] идёт", "Маг Фрирен идёт"),
        ("по [url=https://example.com/a?b=1]манге[/url]", "по манге"),
        ("[i]курсив[/i] и [b]жирный[/b]", "курсив и жирный"),
        ("[anime=1]Cowboy Bebop[/anime] [person=2]Ватанабэ[/person]", "Cowboy Bebop Ватанабэ"),
        ("[spoiler=спойлер]финал[/spoiler]", "финал"),
        ("[b][i]вложенные[/i][/b]", "вложенные"),
        ("первая[br]вторая", "первая\nвторая"),
        ("строка\r\nстрока", "строка\nстрока"),
        ("до [image=123] после", "до после"),
        ("[Written by MAL Rewrite]", "[Written by MAL Rewrite]"),
        ("сноска [1]", "сноска [1]"),
        ("  без тегов  ", "без тегов"),
        ("", ""),
    ],
)
def test_strip_bbcode(text: str, expected: str) -> None:
    assert strip_bbcode(text) == expected


def test_detail_description_bbcode_stripped() -> None:
    payload = detail_payload(
        description="[character=184947]Фрирен[/character], [url=https://x.test]ссылка[/url]"
    )

    assert parse_anime_detail(payload, host=HOST).description == "Фрирен, ссылка"


@pytest.mark.parametrize(
    ("rating", "expected"),
    [("pg_13", "pg_13"), ("r_plus", "r_plus"), ("rx", "rx"), ("none", "none"), (None, "none")],
)
def test_detail_rating(rating: object, expected: str) -> None:
    assert parse_anime_detail(detail_payload(rating=rating), host=HOST).rating == expected


@pytest.mark.parametrize(("duration", "expected"), [(24, 24), (0, None), (None, None)])
def test_detail_duration(duration: object, expected: int | None) -> None:
    record = parse_anime_detail(detail_payload(duration=duration), host=HOST)

    assert record.duration_minutes == expected


@pytest.mark.parametrize(
    ("next_episode_at", "expected"),
    [
        ("2026-03-20T18:30:00.000+03:00", datetime(2026, 3, 20, 15, 30, tzinfo=UTC)),
        ("2026-03-20T01:00:00.000+03:00", datetime(2026, 3, 19, 22, 0, tzinfo=UTC)),
        ("2026-03-20T15:30:00Z", datetime(2026, 3, 20, 15, 30, tzinfo=UTC)),
        ("2026-03-20T18:30:00", datetime(2026, 3, 20, 15, 30, tzinfo=UTC)),  # Moscow time
        (None, None),
        ("soon", None),
    ],
)
def test_detail_next_episode_at_is_utc(next_episode_at: object, expected: datetime | None) -> None:
    record = parse_anime_detail(detail_payload(next_episode_at=next_episode_at), host=HOST)

    assert record.next_episode_at == expected
    if expected is not None:
        assert record.next_episode_at is not None
        assert record.next_episode_at.tzinfo == UTC


def test_detail_genres_and_studios_odd_entries() -> None:
    payload = detail_payload(
        genres=[
            {"id": 1, "name": "Action", "russian": "Экшен", "kind": "genre", "entry_type": "Anime"},
            {
                "id": 46,
                "name": "Action",
                "russian": "Экшен",
                "kind": "genre",
                "entry_type": "Manga",
            },
            {"id": 15, "name": "Kids", "russian": None, "kind": "genre", "entry_type": "Anime"},
            {"id": 42, "name": "Seinen", "russian": "Сэйнэн", "kind": "genre"},
            {"id": 43, "name": "Josei", "russian": "Дзёсей", "kind": "genre"},
            {"id": 25, "name": "Shoujo", "russian": "Сёдзё", "kind": "genre"},
            {"id": 104, "name": "Gore", "russian": "Жестокость", "kind": "theme"},
            {"name": "No id"},
            {"id": 99, "name": None},
            "Action",
        ],
        studios=[
            {"id": 11, "name": "Madhouse", "filtered_name": "Madhouse", "real": True},
            {"id": None, "name": "Studio Without Id"},
            {"id": 12, "name": None, "filtered_name": "Filtered"},
            {"id": 13, "name": None},
            None,
        ],
    )

    record = parse_anime_detail(payload, host=HOST)

    assert record.genres == (
        GenreRecord(shikimori_id=1, name="Action", name_ru="Экшен", kind="genre"),
        GenreRecord(shikimori_id=15, name="Kids", name_ru="", kind="demographic"),
        GenreRecord(shikimori_id=42, name="Seinen", name_ru="Сэйнэн", kind="demographic"),
        GenreRecord(shikimori_id=43, name="Josei", name_ru="Дзёсей", kind="demographic"),
        GenreRecord(shikimori_id=25, name="Shoujo", name_ru="Сёдзё", kind="demographic"),
        GenreRecord(shikimori_id=104, name="Gore", name_ru="Жестокость", kind="theme"),
    )
    assert record.studios == (
        StudioRecord(shikimori_id=11, name="Madhouse"),
        StudioRecord(shikimori_id=None, name="Studio Without Id"),
        StudioRecord(shikimori_id=12, name="Filtered"),
    )


def test_detail_missing_genre_and_studio_lists_are_empty() -> None:
    record = parse_anime_detail(detail_payload(genres=None, studios="Madhouse"), host=HOST)

    assert (record.genres, record.studios) == ((), ())


@pytest.mark.parametrize(
    "payload",
    [
        [{"id": 52991}],
        None,
        "52991",
        {"name": "Sousou no Frieren"},
        {"id": None, "name": "Sousou no Frieren"},
        {"id": "z52991", "name": "Sousou no Frieren"},
        {"id": False},
    ],
)
def test_detail_bad_shape_raises(payload: object) -> None:
    with pytest.raises(UpstreamParseError, match="shikimori: anime detail") as excinfo:
        parse_anime_detail(payload, host=HOST)
    assert excinfo.value.upstream == "shikimori"


# --- calendar --------------------------------------------------------------------------------


def test_calendar_fixture() -> None:
    records = parse_calendar(fixture("shikimori_calendar.json"), host=HOST)

    assert len(records) == 10
    assert [r.shikimori_id for r in records] == [
        21, 59027, 966, 52807, 235, 51039, 55809, 60098, 61517, 53876,
    ]  # fmt: skip
    times = [r.next_episode_at for r in records]
    assert times == sorted(times)
    assert all(t.tzinfo == UTC for t in times)

    first = records[0]
    assert first.next_episode == 1154
    # "2025-12-14T00:15:00.000+03:00" is the evening before in UTC.
    assert first.next_episode_at == datetime(2025, 12, 13, 21, 15, tzinfo=UTC)
    assert first.duration_seconds == 1440
    assert first.anime.shikimori_id == 21
    assert first.anime.title == "One Piece"
    assert first.anime.status == "ongoing"
    assert first.anime.episodes_total == 0
    assert first.anime.poster_url.startswith("https://shikimori.one/system/animes/original/21.jpg?")
    assert not first.anime.is_detail

    no_duration = records[5]
    assert no_duration.shikimori_id == 51039
    assert no_duration.duration_seconds is None
    assert no_duration.next_episode_at == datetime(2025, 12, 15, 2, 0, tzinfo=UTC)

    assert records[-1].next_episode_at == datetime(2025, 12, 19, 9, 55, tzinfo=UTC)
    assert records[-1].duration_seconds == 24 * 60


def calendar_entry(**overrides: object) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "next_episode": 9,
        "next_episode_at": "2026-03-20T18:30:00.000+03:00",
        "duration": 1440,
        "anime": short_item(id=59978, name="Sousou no Frieren 2nd Season", score="0.0"),
    }
    entry.update(overrides)
    return entry


def test_calendar_inline_entry() -> None:
    [record] = parse_calendar([calendar_entry(duration=None)], host=HOST)

    assert record.shikimori_id == 59978
    assert record.next_episode == 9
    assert record.next_episode_at == datetime(2026, 3, 20, 15, 30, tzinfo=UTC)
    assert record.duration_seconds is None
    assert record.anime.score == Decimal("0.00")


def test_calendar_empty() -> None:
    assert parse_calendar([], host=HOST) == []


@pytest.mark.parametrize(
    "payload",
    [
        {"next_episode": 9},
        None,
        [None],
        [calendar_entry(anime=None)],
        [calendar_entry(anime={"name": "no id"})],
        [calendar_entry(anime=short_item(id="abc"))],
        [calendar_entry(next_episode=None)],
        [calendar_entry(next_episode="ninth")],
        [calendar_entry(next_episode_at=None)],
        [calendar_entry(next_episode_at="tomorrow")],
        [calendar_entry(), calendar_entry(anime=short_item(id=None))],
    ],
)
def test_calendar_bad_shape_raises(payload: object) -> None:
    with pytest.raises(UpstreamParseError, match="shikimori: calendar") as excinfo:
        parse_calendar(payload, host=HOST)
    assert excinfo.value.upstream == "shikimori"


# --- genres ----------------------------------------------------------------------------------


def test_genres_fixture_keeps_anime_only() -> None:
    records = parse_genres(fixture("shikimori_genres.json"))

    assert records == [
        GenreRecord(shikimori_id=1, name="Action", name_ru="Экшен", kind="genre"),
        GenreRecord(shikimori_id=2, name="Adventure", name_ru="Приключения", kind="genre"),
        GenreRecord(shikimori_id=8, name="Drama", name_ru="Драма", kind="genre"),
        GenreRecord(shikimori_id=15, name="Kids", name_ru="Детское", kind="demographic"),
        GenreRecord(shikimori_id=26, name="Shoujo Ai", name_ru="Сёдзё-ай", kind="genre"),
        GenreRecord(shikimori_id=27, name="Shounen", name_ru="Сёнэн", kind="demographic"),
        GenreRecord(shikimori_id=42, name="Seinen", name_ru="Сэйнэн", kind="demographic"),
        GenreRecord(shikimori_id=43, name="Josei", name_ru="Дзёсей", kind="demographic"),
    ]


def test_genres_without_entry_type_are_kept() -> None:
    payload = [
        {"id": 1, "name": "Action", "russian": "Экшен", "kind": "genre"},
        # The older documented form: the entry type sits in "kind".
        {"id": 2, "name": "Adventure", "russian": "Приключения", "kind": "anime"},
        {"id": 61, "name": "Doujinshi", "russian": "Додзинси", "kind": "manga"},
        {"id": 3, "name": "Cars", "russian": None},
        {"id": "x", "name": "Bad id"},
        {"id": 4},
        [],
    ]

    assert parse_genres(payload) == [
        GenreRecord(shikimori_id=1, name="Action", name_ru="Экшен", kind="genre"),
        GenreRecord(shikimori_id=2, name="Adventure", name_ru="Приключения", kind="genre"),
        GenreRecord(shikimori_id=3, name="Cars", name_ru="", kind="genre"),
    ]


@pytest.mark.parametrize("payload", [{"genres": []}, None, "Action"])
def test_genres_payload_not_an_array_raises(payload: object) -> None:
    with pytest.raises(UpstreamParseError, match="shikimori: genres"):
        parse_genres(payload)
