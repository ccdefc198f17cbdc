"""Deterministic fake catalog data for the fake upstream server (standard library only).

``FakeCatalog(anime_count, seed)`` holds exactly ``anime_count`` anime: the real Frieren entry
(Shikimori id 52991) plus ``anime_count - 1`` generated ones with ids 1, 2, 3, ... (52991 is
skipped if the count ever reaches it). Generated entries come from one sequential
``random.Random(seed)`` stream, so anime ``k`` is the same in a catalog of 300 and of 20,000.

Each anime also carries its Kodik materials (one per translation; none for announced titles
and ~1% of the rest) and, for ~30%, an aniwatch-api (HiAnime) slug. Bulky derived data (player
links, episode maps, response dicts) is built only when a response needs it, which keeps a
20,000-anime catalog at well under a second to generate.

The ``*_json`` methods return dicts in the documented upstream shapes
(``/work/shared/reference/upstream-apis.md``). Time-dependent values (``next_episode_at``,
the calendar) are computed against the ``now`` passed in, so a long-running demo stays "live":
every ongoing/announced anime has a weekly slot (weekday and time in +03:00) derived from its
id, and its next episode is the next occurrence of that slot after ``now``.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, TypeVar

_T = TypeVar("_T")
MSK = timezone(timedelta(hours=3))
FRIEREN_ID = 52991
IMAGE_STAMP = 1700000000
SHIKIMORI_SITE = "https://shikimori.one"
KODIK_PLAYER_HOST = "//kodikplayer.com"
STREAM_CDN = "https://hls.fake-upstream.invalid"
STREAM_POSTER_CDN = "https://img.fake-upstream.invalid"

# (id, name, russian): real Shikimori legacy anime genres.
GENRES: tuple[tuple[int, str, str], ...] = (
    (1, "Action", "Экшен"),
    (2, "Adventure", "Приключения"),
    (4, "Comedy", "Комедия"),
    (7, "Mystery", "Тайна"),
    (8, "Drama", "Драма"),
    (10, "Fantasy", "Фэнтези"),
    (14, "Horror", "Ужасы"),
    (18, "Mecha", "Меха"),
    (22, "Romance", "Романтика"),
    (23, "School", "Школа"),
    (24, "Sci-Fi", "Фантастика"),
    (27, "Shounen", "Сёнэн"),
    (30, "Sports", "Спорт"),
    (36, "Slice of Life", "Повседневность"),
    (37, "Supernatural", "Сверхъестественное"),
    (40, "Psychological", "Психологическое"),
)
# /api/genres lists manga genres too (clients must filter on entry_type).
MANGA_GENRES: tuple[tuple[int, str, str], ...] = (
    (61, "Doujinshi", "Додзинси"),
    (69, "Shounen", "Сёнэн"),
)
GENRE_BY_ID: dict[int, tuple[int, str, str]] = {g[0]: g for g in GENRES}
_GENRE_IDS: tuple[int, ...] = tuple(g[0] for g in GENRES)

# (id, name): real Shikimori studio ids.
STUDIOS: tuple[tuple[int, str], ...] = (
    (11, "Madhouse"),
    (2, "Kyoto Animation"),
    (4, "Bones"),
    (10, "Production I.G"),
    (14, "Sunrise"),
    (18, "Toei Animation"),
    (43, "ufotable"),
    (44, "Shaft"),
    (569, "MAPPA"),
    (858, "Wit Studio"),
    (56, "A-1 Pictures"),
)
STUDIO_BY_ID: dict[int, tuple[int, str]] = {s[0]: s for s in STUDIOS}

# Kodik translations: (id, title, type).
TRANSLATIONS: tuple[tuple[int, str, str], ...] = (
    (610, "AniLibria.TV", "voice"),
    (609, "AniDUB", "voice"),
    (767, "SHIZA Project", "voice"),
    (869, "Субтитры", "subtitles"),
)
TRANSLATION_BY_ID: dict[int, tuple[int, str, str]] = {t[0]: t for t in TRANSLATIONS}

# (romaji, hiragana)
_SYLLABLES: tuple[tuple[str, str], ...] = (
    ("ka", "か"), ("ki", "き"), ("ku", "く"), ("ke", "け"), ("ko", "こ"),
    ("sa", "さ"), ("shi", "し"), ("su", "す"), ("se", "せ"), ("so", "そ"),
    ("ta", "た"), ("chi", "ち"), ("tsu", "つ"), ("te", "て"), ("to", "と"),
    ("na", "な"), ("ni", "に"), ("nu", "ぬ"), ("ne", "ね"), ("no", "の"),
    ("ha", "は"), ("hi", "ひ"), ("fu", "ふ"), ("he", "へ"), ("ho", "ほ"),
    ("ma", "ま"), ("mi", "み"), ("mu", "む"), ("me", "め"), ("mo", "も"),
    ("ya", "や"), ("yu", "ゆ"), ("yo", "よ"),
    ("ra", "ら"), ("ri", "り"), ("ru", "る"), ("re", "れ"), ("ro", "ろ"),
    ("wa", "わ"), ("n", "ん"), ("ga", "が"), ("gi", "ぎ"), ("go", "ご"),
    ("za", "ざ"), ("ji", "じ"), ("da", "だ"), ("de", "で"), ("do", "ど"),
    ("ba", "ば"), ("bi", "び"), ("bo", "ぼ"), ("ryu", "りゅう"), ("kyo", "きょ"),
    ("sho", "しょ"),
)  # fmt: skip
_PARTICLES: tuple[tuple[str, str], ...] = (("no", "の"), ("to", "と"), ("wa", "は"))
_RUSSIAN_WORDS: tuple[str, ...] = (
    "небо", "звезда", "меч", "дракон", "ветер", "песня", "тень", "сердце", "город",
    "школа", "лето", "зима", "весна", "осень", "море", "путь", "легенда", "хроники",
    "охотник", "принцесса", "маг", "демон", "рыцарь", "остров", "луна", "солнце",
    "пламя", "лёд", "клинок", "память", "обещание", "мечта", "герой", "король",
    "ведьма", "дорога", "последний", "забытый", "тайный", "вечный", "синий",
    "алый", "тихий", "далёкий", "новый", "мой", "наш", "бесконечный",
)  # fmt: skip
_ENGLISH_WORDS: tuple[str, ...] = (
    "Sky", "Star", "Blade", "Dragon", "Wind", "Song", "Shadow", "Heart", "City",
    "School", "Summer", "Winter", "Spring", "Autumn", "Sea", "Journey", "Legend",
    "Chronicles", "Hunter", "Princess", "Mage", "Demon", "Knight", "Island", "Moon",
    "Sun", "Flame", "Ice", "Memory", "Promise", "Dream", "Hero", "King", "Witch",
    "Road", "Last", "Forgotten", "Secret", "Eternal", "Blue", "Crimson", "Quiet",
)  # fmt: skip
_FANSUBBERS: tuple[str, ...] = ("Crunchyroll", "Timecraft", "Advanced Subtitles", "Ruscatz")
_RATES_STATUSES: tuple[str, ...] = ("Запланировано", "Просмотрено", "Смотрю", "Брошено", "Отложено")

# Cumulative thresholds for kind selection of released/anons titles.
_KINDS: tuple[tuple[float, str], ...] = (
    (0.52, "tv"),
    (0.66, "movie"),
    (0.78, "ova"),
    (0.91, "ona"),
    (1.01, "special"),
)
_RATINGS: tuple[tuple[float, str], ...] = (
    (0.50, "pg_13"),
    (0.70, "r"),
    (0.80, "pg"),
    (0.90, "g"),
    (1.01, "r_plus"),
)
_TV_EPISODES: tuple[int, ...] = (12, 12, 12, 13, 13, 24, 24, 25, 26, 10, 11, 50, 64)
_SLUG_RE = re.compile(r"[^a-z0-9]+")
_KODIK_EPOCH = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())
_KODIK_SPAN = 3 * 365 * 86400  # Kodik updated_at values are spread over 2023..2025


def slugify(text: str) -> str:
    return _SLUG_RE.sub("-", text.lower()).strip("-") or "anime"


def _pick(r: random.Random, table: tuple[tuple[float, str], ...]) -> str:
    u = r.random()
    for threshold, value in table:
        if u < threshold:
            return value
    return table[-1][1]


def _shikimori_ts(value: datetime) -> str:
    """``2025-01-10T12:00:41.524+03:00``: ISO 8601, milliseconds, +03:00."""
    return value.astimezone(MSK).isoformat(timespec="milliseconds")


def _kodik_ts(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date_str(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(slots=True)
class KodikMaterial:
    """One Kodik result: one material x one translation."""

    anime_id: int
    number: int  # the numeric part of "serial-<n>" / "movie-<n>"
    translation_id: int
    is_movie: bool
    season_episodes: tuple[int, ...]  # episodes per season (seasons numbered from 1); () for movies
    created_at: int  # epoch seconds
    updated_at: int  # epoch seconds

    @property
    def kodik_id(self) -> str:
        return f"{'movie' if self.is_movie else 'serial'}-{self.number}"

    @property
    def kodik_type(self) -> str:
        return "anime" if self.is_movie else "anime-serial"

    @property
    def sort_key(self) -> tuple[int, str]:
        """Ascending order of this key is Kodik's ``/list`` order (updated_at desc)."""
        return (-self.updated_at, self.kodik_id)


@dataclass(slots=True)
class StreamInfo:
    """The aniwatch-api (HiAnime) side of one anime."""

    slug: str  # "<name-slug>-<shikimori id>"
    has_dub: bool
    anilist_id: int | None
    intro: tuple[int, int]
    outro_length: int


@dataclass(slots=True)
class FakeAnime:
    id: int
    name: str
    russian: str
    english: str | None
    japanese: str | None
    synonyms: list[str]
    kind: str
    status: str  # anons | ongoing | released
    score: str
    episodes: int
    episodes_aired: int
    aired_on: date | None
    released_on: date | None
    rating: str
    duration: int  # minutes; 0 = unknown
    description: str | None
    franchise: str | None
    genre_ids: tuple[int, ...]
    studio_ids: tuple[int, ...]
    updated_at: datetime
    image_stamp: int = IMAGE_STAMP
    kodik: list[KodikMaterial] = field(default_factory=list)
    stream: StreamInfo | None = None
    # Raw JSON overrides set through /_control/mutate for keys that are not attributes.
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return slugify(self.name)

    @property
    def has_schedule(self) -> bool:
        return self.status in ("ongoing", "anons")

    def next_episode_at(self, now: datetime) -> datetime | None:
        """The next weekly slot after ``now`` for ongoing/announced titles, else None."""
        if not self.has_schedule:
            return None
        weekday = self.id % 7
        minute_of_day = (self.id * 37 % 96) * 15
        local_now = now.astimezone(MSK)
        midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        days_ahead = (weekday - local_now.weekday()) % 7
        slot = midnight + timedelta(days=days_ahead, minutes=minute_of_day)
        if slot <= local_now:
            slot += timedelta(days=7)
        if self.status == "anons":
            slot += timedelta(days=7 * (self.id % 4))
        return slot

    @property
    def next_episode(self) -> int:
        return self.episodes_aired + 1


_MUTABLE_DATES = ("aired_on", "released_on")
_MUTABLE_ATTRS = frozenset(
    f.name
    for f in fields(FakeAnime)
    if f.name not in ("id", "kodik", "stream", "overrides", "genre_ids", "studio_ids")
)


class FakeCatalog:
    """``anime_count`` deterministic anime (``anime_count >= 1``; Frieren is always one)."""

    def __init__(self, anime_count: int, seed: int = 1) -> None:
        if anime_count < 1:
            raise ValueError("anime_count must be >= 1 (the catalog always holds Frieren)")
        self.anime_count = anime_count
        self.seed = seed
        self.version = 0  # bumped by every change; response caches key on it
        self._lock = threading.Lock()
        r = random.Random(seed)
        self.anime: dict[int, FakeAnime] = {}
        next_id = 1
        for _ in range(anime_count - 1):
            if next_id == FRIEREN_ID:
                next_id += 1
            self.anime[next_id] = _generate_anime(r, next_id)
            next_id += 1
        self.anime[FRIEREN_ID] = _frieren()
        self.ids: list[int] = sorted(self.anime)
        self._ordered: list[FakeAnime] = [self.anime[i] for i in self.ids]
        self._stream_by_slug: dict[str, FakeAnime] = {
            a.stream.slug: a for a in self.anime.values() if a.stream is not None
        }
        self._kodik_sorted: list[KodikMaterial] | None = None

    def __len__(self) -> int:
        return len(self.anime)

    def get(self, anime_id: int) -> FakeAnime | None:
        return self.anime.get(anime_id)

    def by_stream_slug(self, slug: str) -> FakeAnime | None:
        return self._stream_by_slug.get(slug)

    def ordered(self) -> list[FakeAnime]:
        """All anime by id (the shared list: do not modify it)."""
        return self._ordered

    def kodik_sorted(self) -> list[KodikMaterial]:
        """Every Kodik material in ``/list`` order (updated_at desc, then id)."""
        with self._lock:
            if self._kodik_sorted is None:
                materials = [m for a in self.anime.values() for m in a.kodik]
                materials.sort(key=lambda m: m.sort_key)
                self._kodik_sorted = materials
            return self._kodik_sorted

    def mutate(self, anime_id: int, changes: dict[str, Any], now: datetime) -> FakeAnime:
        """Change one anime from now on; ``KeyError`` for an unknown id.

        Attribute-backed keys (``name``, ``score``, ``status``, ``episodes_aired``, ...) change
        every view of the anime (list, detail, calendar, Kodik titles); ``english``/``japanese``
        take a list or a string; ``kodik_episodes`` (an int) makes every Kodik material of a
        series carry that many episodes in all (its last season grows or shrinks: a new
        episode uploaded); any other key is written as-is into the Shikimori JSON. Its
        ``updated_at`` and its Kodik materials' ``updated_at`` become ``now``.
        """
        with self._lock:
            anime = self.anime[anime_id]
            for key, value in changes.items():
                if key in ("english", "japanese"):
                    setattr(anime, key, value[0] if isinstance(value, list) and value else value)
                elif key in _MUTABLE_DATES:
                    setattr(anime, key, date.fromisoformat(value) if value else None)
                elif key == "updated_at":
                    anime.updated_at = datetime.fromisoformat(value)
                elif key == "kodik_episodes":
                    for material in anime.kodik:
                        if material.season_episodes:
                            earlier = material.season_episodes[:-1]
                            last = max(1, int(value) - sum(earlier))
                            material.season_episodes = (*earlier, last)
                elif key in _MUTABLE_ATTRS:
                    setattr(anime, key, value)
                else:
                    anime.overrides[key] = value
            if "updated_at" not in changes:
                anime.updated_at = now
            stamp = int(now.timestamp())
            for material in anime.kodik:
                material.updated_at = stamp
            self._kodik_sorted = None
            self.version += 1
            return anime

    def kodik_edit(
        self,
        anime_id: int,
        now: datetime,
        *,
        remove_translations: list[int] | tuple[int, ...] = (),
        season_episodes: dict[int, list[int]] | None = None,
    ) -> FakeAnime:
        """Takedowns: Kodik stops listing the anime's materials of ``remove_translations`` and
        lists ``season_episodes[translation_id]`` episodes per season for the others (fewer
        than before: links removed). ``KeyError`` for an unknown id."""
        with self._lock:
            anime = self.anime[anime_id]
            removed = set(remove_translations)
            anime.kodik = [m for m in anime.kodik if m.translation_id not in removed]
            stamp = int(now.timestamp())
            for material in anime.kodik:
                counts = (season_episodes or {}).get(material.translation_id)
                if counts is not None:
                    material.season_episodes = tuple(int(c) for c in counts)
                material.updated_at = stamp
            self._kodik_sorted = None
            self.version += 1
            return anime

    # --- Shikimori shapes -----------------------------------------------------------------

    def short_json(self, a: FakeAnime) -> dict[str, Any]:
        stamp = f"{a.id}.jpg?{a.image_stamp}"
        data: dict[str, Any] = {
            "id": a.id,
            "name": a.name,
            "russian": a.russian,
            "image": {
                "original": f"/system/animes/original/{stamp}",
                "preview": f"/system/animes/preview/{stamp}",
                "x96": f"/system/animes/x96/{stamp}",
                "x48": f"/system/animes/x48/{stamp}",
            },
            "url": f"/animes/{a.id}-{a.slug}",
            "kind": a.kind,
            "score": a.score,
            "status": a.status,
            "episodes": a.episodes,
            "episodes_aired": a.episodes_aired,
            "aired_on": _date_str(a.aired_on),
            "released_on": _date_str(a.released_on),
        }
        if a.overrides:
            for key in data.keys() & a.overrides.keys():
                data[key] = a.overrides[key]
        return data

    def detail_json(self, a: FakeAnime, now: datetime) -> dict[str, Any]:
        data = self.short_json(a)
        r = random.Random(self.seed * 1_000_003 + a.id)  # detail-only extras, stable per anime
        next_at = a.next_episode_at(now)
        thread_id = 100000 + a.id * 7
        description_html = (
            f'<div class="b-text_with_paragraphs">{_bbcode_to_html(a.description)}</div>'
            if a.description
            else '<div class="b-text_with_paragraphs"></div>'
        )
        screenshots = []
        for _ in range(r.randint(0, 2)):
            shot = f"{r.getrandbits(64):016x}.jpg?{a.image_stamp}"
            screenshots.append(
                {
                    "original": f"/system/screenshots/original/{shot}",
                    "preview": f"/system/screenshots/x332/{shot}",
                }
            )
        videos = []
        if r.random() < 0.5:
            key = f"{r.getrandbits(40):010x}"
            videos.append(
                {
                    "id": 40000 + a.id,
                    "url": f"https://youtube.com/watch?v={key}",
                    "image_url": f"http://img.youtube.com/vi/{key}/hqdefault.jpg",
                    "player_url": f"http://youtube.com/embed/{key}",
                    "name": "PV 1",
                    "kind": "pv",
                    "hosting": "youtube",
                }
            )
        votes = 0 if a.status == "anons" else r.randint(50, 50000)
        data.update(
            {
                "rating": a.rating,
                "english": [a.english],
                "japanese": [a.japanese],
                "synonyms": list(a.synonyms),
                "license_name_ru": None,
                "duration": a.duration,
                "description": a.description,
                "description_html": description_html,
                "description_source": None,
                "franchise": a.franchise,
                "favoured": False,
                "anons": a.status == "anons",
                "ongoing": a.status == "ongoing",
                "thread_id": thread_id,
                "topic_id": thread_id,
                "myanimelist_id": a.id,
                "rates_scores_stats": (
                    [
                        {"name": 10, "value": votes // 3},
                        {"name": 9, "value": votes // 4},
                        {"name": 8, "value": votes // 5},
                    ]
                    if votes
                    else []
                ),
                "rates_statuses_stats": [
                    {"name": name, "value": r.randint(10, 100000)} for name in _RATES_STATUSES
                ],
                "updated_at": _shikimori_ts(a.updated_at),
                "next_episode_at": _shikimori_ts(next_at) if next_at else None,
                "fansubbers": [_FANSUBBERS[a.id % len(_FANSUBBERS)]] if a.id % 3 == 0 else [],
                "fandubbers": [
                    TRANSLATION_BY_ID[m.translation_id][1]
                    for m in a.kodik
                    if TRANSLATION_BY_ID[m.translation_id][2] == "voice"
                ],
                "licensors": [],
                "genres": [
                    {
                        "id": gid,
                        "name": GENRE_BY_ID[gid][1],
                        "russian": GENRE_BY_ID[gid][2],
                        "kind": "genre",
                        "entry_type": "Anime",
                    }
                    for gid in a.genre_ids
                ],
                "studios": [
                    {
                        "id": sid,
                        "name": STUDIO_BY_ID[sid][1],
                        "filtered_name": STUDIO_BY_ID[sid][1],
                        "real": True,
                        "image": f"/system/studios/original/{sid}.png?1311292712",
                    }
                    for sid in a.studio_ids
                ],
                "videos": videos,
                "screenshots": screenshots,
                "user_rate": None,
            }
        )
        if a.overrides:
            data.update(a.overrides)
        return data

    def calendar_json(self, now: datetime) -> list[dict[str, Any]]:
        """Ongoing and announced anime, sorted by their next episode (all in the future)."""
        entries: list[tuple[datetime, int, FakeAnime]] = []
        for a in self.anime.values():
            next_at = a.next_episode_at(now)
            if next_at is not None:
                entries.append((next_at, a.id, a))
        entries.sort(key=lambda e: (e[0], e[1]))
        return [
            {
                "next_episode": a.next_episode,
                "next_episode_at": _shikimori_ts(next_at),
                "duration": a.duration * 60 if a.duration else None,
                "anime": self.short_json(a),
            }
            for next_at, _, a in entries
        ]

    @staticmethod
    def genres_json() -> list[dict[str, Any]]:
        anime = [
            {"id": g, "name": n, "russian": ru, "kind": "genre", "entry_type": "Anime"}
            for g, n, ru in GENRES
        ]
        manga = [
            {"id": g, "name": n, "russian": ru, "kind": "genre", "entry_type": "Manga"}
            for g, n, ru in MANGA_GENRES
        ]
        return anime + manga

    # --- Kodik shapes ---------------------------------------------------------------------

    def _hex(self, kind: str, number: int) -> str:
        return hashlib.md5(
            f"{self.seed}/{kind}/{number}".encode(), usedforsecurity=False
        ).hexdigest()

    def kodik_json(
        self,
        m: KodikMaterial,
        *,
        with_seasons: bool = False,
        with_episodes: bool = False,
        with_episodes_data: bool = False,
        with_material_data: bool = False,
    ) -> dict[str, Any]:
        a = self.anime[m.anime_id]
        tr_id, tr_title, tr_type = TRANSLATION_BY_ID[m.translation_id]
        if m.is_movie:
            link = f"{KODIK_PLAYER_HOST}/video/{m.number}/{self._hex('video', m.number)}/720p"
        else:
            link = f"{KODIK_PLAYER_HOST}/serial/{m.number}/{self._hex('serial', m.number)}/720p"
        other = " / ".join(t for t in (a.japanese, a.english) if t)
        data: dict[str, Any] = {
            "id": m.kodik_id,
            "type": m.kodik_type,
            "link": link,
            "title": a.russian,
            "title_orig": a.name,
            "other_title": other,
            "translation": {"id": tr_id, "title": tr_title, "type": tr_type},
            "year": a.aired_on.year if a.aired_on else 2026,
        }
        if not m.is_movie:
            data["last_season"] = len(m.season_episodes)
            data["last_episode"] = m.season_episodes[-1]
            data["episodes_count"] = sum(m.season_episodes)
        if a.id % 4 == 0:
            data["kinopoisk_id"] = str(1000000 + a.id)
        if a.id % 5 == 0:
            data["imdb_id"] = f"tt{20000000 + a.id}"
        data.update(
            {
                "worldart_link": f"http://www.world-art.ru/animation/animation.php?id={a.id}",
                "shikimori_id": str(a.id),
                "quality": "WEB-DLRip 720p",
                "camrip": False,
                "lgbt": False,
                "blocked_countries": [],
            }
        )
        if not m.is_movie:
            data["blocked_seasons"] = {}
        data["created_at"] = _kodik_ts(m.created_at)
        data["updated_at"] = _kodik_ts(m.updated_at)
        first_seria = m.number * 10000 + 1001
        if not m.is_movie and (with_seasons or with_episodes or with_episodes_data):
            seasons: dict[str, Any] = {}
            for season_no, count in enumerate(m.season_episodes, start=1):
                season_id = m.number * 10 + season_no
                season: dict[str, Any] = {
                    "link": f"{KODIK_PLAYER_HOST}/season/{season_id}/"
                    f"{self._hex('season', season_id)}/720p"
                }
                if with_episodes or with_episodes_data:
                    episodes: dict[str, Any] = {}
                    for ep in range(1, count + 1):
                        seria = m.number * 10000 + season_no * 1000 + ep
                        ep_link = (
                            f"{KODIK_PLAYER_HOST}/seria/{seria}/{self._hex('seria', seria)}/720p"
                        )
                        if with_episodes_data:
                            episodes[str(ep)] = {
                                "title": f"{ep} серия",
                                "link": ep_link,
                                "screenshots": [
                                    f"https://i.kodik.biz/screenshots/seria/{seria}/{i}.jpg"
                                    for i in (1, 2)
                                ],
                            }
                        else:
                            episodes[str(ep)] = ep_link
                    season["episodes"] = episodes
                seasons[str(season_no)] = season
            data["seasons"] = seasons
        data["screenshots"] = [
            f"https://i.kodik.biz/screenshots/seria/{first_seria}/{i}.jpg" for i in (1, 2)
        ]
        if with_material_data:
            data["material_data"] = self._kodik_material_data(a)
        return data

    def _kodik_material_data(self, a: FakeAnime) -> dict[str, Any]:
        material: dict[str, Any] = {
            "title": a.russian,
            "anime_title": a.russian,
            "title_en": a.name,
            "other_titles": [a.name],
            "other_titles_en": [a.english] if a.english else [],
            "other_titles_jp": [a.japanese] if a.japanese else [],
            "anime_kind": a.kind,
            "all_status": a.status,
            "anime_status": a.status,
            "year": a.aired_on.year if a.aired_on else 2026,
            "anime_poster_url": f"{SHIKIMORI_SITE}/system/animes/original/{a.id}.jpg",
            "poster_url": f"{SHIKIMORI_SITE}/system/animes/original/{a.id}.jpg",
            "duration": a.duration,
            "anime_genres": [GENRE_BY_ID[g][2] for g in a.genre_ids],
            "anime_studios": [STUDIO_BY_ID[s][1] for s in a.studio_ids],
            "shikimori_rating": round(float(a.score), 1) if _is_number(a.score) else 0.0,
            "shikimori_votes": 100 + a.id * 13 % 100000,
            "aired_at": _date_str(a.aired_on),
            "released_at": _date_str(a.released_on),
            "rating_mpaa": {"g": "G", "pg": "PG", "pg_13": "PG-13", "r": "R"}.get(a.rating, "R+"),
            "minimal_age": {"g": 0, "pg": 6, "pg_13": 12, "r": 16}.get(a.rating, 18),
            "episodes_total": a.episodes,
            "episodes_aired": a.episodes_aired,
        }
        if a.description:
            material["anime_description"] = _strip_bbcode(a.description)
        return material

    # --- aniwatch-api shapes ----------------------------------------------------------------

    def stream_episode_id(self, a: FakeAnime, number: int) -> str:
        """HiAnime episode ids carry a site-wide episode number, not the episode's number."""
        assert a.stream is not None
        return f"{a.stream.slug}?ep={a.id * 1000 + number}"

    def stream_episode_count(self, a: FakeAnime) -> int:
        return 1 if a.kind == "movie" else max(1, min(a.episodes_aired, 999))

    def stream_episode_number(self, a: FakeAnime, ep: int) -> int | None:
        """The episode number behind ``?ep=<ep>``, or None when this anime has no such episode."""
        number = ep - a.id * 1000
        return number if 1 <= number <= self.stream_episode_count(a) else None

    def stream_card_json(self, a: FakeAnime) -> dict[str, Any]:
        assert a.stream is not None
        count = self.stream_episode_count(a)
        return {
            "id": a.stream.slug,
            "name": a.english or a.name,
            "jname": a.name,
            "poster": f"{STREAM_POSTER_CDN}/poster/{a.stream.slug}.jpg",
            "duration": f"{a.duration}m" if a.duration else "?",
            "type": {"tv": "TV", "movie": "Movie", "ova": "OVA", "ona": "ONA"}.get(
                a.kind, "Special"
            ),
            "rating": "18+" if a.rating in ("r_plus", "rx") else None,
            "episodes": {"sub": count, "dub": count if a.stream.has_dub else None},
        }

    def stream_info_json(self, a: FakeAnime) -> dict[str, Any]:
        assert a.stream is not None
        card = self.stream_card_json(a)
        return {
            "anime": {
                "info": {
                    "id": a.stream.slug,
                    "anilistId": a.stream.anilist_id,
                    "malId": a.id,
                    "name": card["name"],
                    "poster": card["poster"],
                    "description": _strip_bbcode(a.description or ""),
                    "stats": {
                        "rating": "PG-13",
                        "quality": "HD",
                        "episodes": card["episodes"],
                        "type": card["type"],
                        "duration": card["duration"],
                    },
                    "promotionalVideos": [],
                    "charactersVoiceActors": [],
                },
                "moreInfo": {
                    "japanese": a.japanese or "",
                    "aired": _date_str(a.aired_on) or "?",
                    "duration": card["duration"],
                    "status": {"ongoing": "Currently Airing", "anons": "Not yet aired"}.get(
                        a.status, "Finished Airing"
                    ),
                    "malscore": a.score,
                    "genres": [GENRE_BY_ID[g][1] for g in a.genre_ids],
                    "studios": ", ".join(STUDIO_BY_ID[s][1] for s in a.studio_ids),
                    "producers": [],
                },
            },
            "seasons": [],
            "mostPopularAnimes": [],
            "relatedAnimes": [],
            "recommendedAnimes": [],
        }

    def stream_episodes_json(self, a: FakeAnime) -> dict[str, Any]:
        count = self.stream_episode_count(a)
        return {
            "totalEpisodes": count,
            "episodes": [
                {
                    "number": n,
                    "title": f"Episode {n}",
                    "episodeId": self.stream_episode_id(a, n),
                    "isFiller": a.id % 11 == 0 and n % 7 == 0,
                }
                for n in range(1, count + 1)
            ],
        }

    def stream_servers_json(self, a: FakeAnime, number: int) -> dict[str, Any]:
        assert a.stream is not None
        servers = [{"serverName": "hd-1", "serverId": 4}, {"serverName": "hd-2", "serverId": 1}]
        return {
            "episodeId": self.stream_episode_id(a, number),
            "episodeNo": number,
            "sub": servers,
            "dub": servers if a.stream.has_dub else [],
            "raw": [],
        }

    def stream_sources_json(
        self, a: FakeAnime, number: int, server: str, category: str
    ) -> dict[str, Any]:
        assert a.stream is not None
        ep = a.id * 1000 + number
        base = f"{STREAM_CDN}/{a.stream.slug}/{ep}/{server}/{category}"
        intro_start, intro_end = a.stream.intro
        outro_start = max(intro_end + 60, a.duration * 60 - a.stream.outro_length - 30)
        return {
            "headers": {"Referer": "https://megacloud.blog/"},
            "sources": [{"url": f"{base}/master.m3u8", "isM3U8": True, "type": "hls"}],
            "subtitles": (
                [
                    {"url": f"{base}/eng-2.vtt", "lang": "English", "default": True},
                    {"url": f"{base}/rus-3.vtt", "lang": "Russian", "default": False},
                ]
                if category == "sub"
                else []
            ),
            "intro": {"start": intro_start, "end": intro_end},
            "outro": {"start": outro_start, "end": outro_start + a.stream.outro_length},
            "anilistID": a.stream.anilist_id,
            "malID": a.id,
        }


# --- generation ----------------------------------------------------------------------------


def _randint(r: random.Random, low: int, high: int) -> int:
    """``r.randint`` at a third of the cost (generation draws ~10 of these per anime)."""
    return low + int(r.random() * (high - low + 1))


def _sample(r: random.Random, pool: tuple[_T, ...], k: int) -> list[_T]:
    """``k`` distinct items in draw order (partial Fisher-Yates on a copy)."""
    items = list(pool)
    for i in range(k):
        j = i + int(r.random() * (len(items) - i))
        items[i], items[j] = items[j], items[i]
    return items[:k]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


_BBCODE_RE = re.compile(r"\[/?[a-z_]+(?:=[^\]]*)?\]")


def _strip_bbcode(text: str) -> str:
    return _BBCODE_RE.sub("", text)


def _bbcode_to_html(text: str) -> str:
    text = re.sub(
        r"\[character=(\d+)\](.*?)\[/character\]",
        r'<a href="https://shikimori.one/characters/\1" class="bubbled b-link">\2</a>',
        text,
    )
    return _strip_bbcode(text).replace("\r\n", "<br>").replace("\n", "<br>")


def _romaji_word(r: random.Random) -> tuple[str, str]:
    count = 2 + int(r.random() * 3)
    parts = [_SYLLABLES[int(r.random() * len(_SYLLABLES))] for _ in range(count)]
    romaji = "".join(p[0] for p in parts)
    return romaji.capitalize(), "".join(p[1] for p in parts)


def _romaji_title(r: random.Random) -> tuple[str, str]:
    words = 1 + int(r.random() * 3)
    romaji: list[str] = []
    kana: list[str] = []
    for i in range(words):
        if i and r.random() < 0.35:
            particle = _PARTICLES[int(r.random() * len(_PARTICLES))]
            romaji.append(particle[0])
            kana.append(particle[1])
        word, word_kana = _romaji_word(r)
        romaji.append(word)
        kana.append(word_kana)
    return " ".join(romaji), "".join(kana)


def _words(r: random.Random, pool: tuple[str, ...], low: int, high: int) -> list[str]:
    return [pool[int(r.random() * len(pool))] for _ in range(_randint(r, low, high))]


def _generate_anime(r: random.Random, anime_id: int) -> FakeAnime:
    u = r.random()
    status = "ongoing" if u < 0.10 else "anons" if u < 0.15 else "released"
    kind = ("tv" if r.random() < 0.75 else "ona") if status == "ongoing" else _pick(r, _KINDS)

    name, kana = _romaji_title(r)
    if r.random() < 0.12:
        name += f" {_randint(r, 2, 4)}"  # sequels
    russian_words = _words(r, _RUSSIAN_WORDS, 1, 4)
    russian = " ".join(russian_words).capitalize()
    english = " ".join(_words(r, _ENGLISH_WORDS, 2, 3)) if r.random() < 0.6 else None
    japanese = kana if r.random() < 0.85 else None
    synonyms = [_romaji_title(r)[0]] if r.random() < 0.2 else []

    if kind == "tv":
        planned = _TV_EPISODES[int(r.random() * len(_TV_EPISODES))]
        duration = 23 if r.random() < 0.3 else 24
    elif kind == "movie":
        planned, duration = 1, _randint(r, 75, 130)
    elif kind == "ova":
        planned, duration = _randint(r, 1, 6), _randint(r, 24, 45)
    elif kind == "ona":
        planned, duration = _randint(r, 8, 16), _randint(r, 12, 24)
    else:
        planned, duration = _randint(r, 1, 6), _randint(r, 5, 25)

    aired_on: date | None
    released_on: date | None
    if status == "released":
        aired_on = date(_randint(r, 1990, 2025), _randint(r, 1, 12), _randint(r, 1, 28))
        episodes = episodes_aired = planned
        released_on = aired_on + timedelta(days=7 * (planned - 1)) if r.random() < 0.85 else None
        score = f"{r.uniform(5.5, 9.1):.2f}"
    elif status == "ongoing":
        aired_on = date(2026, _randint(r, 1, 11), _randint(r, 1, 28))
        episodes_aired = _randint(r, 1, 20)
        episodes = 0 if r.random() < 0.3 else max(planned, episodes_aired + 1)
        released_on = None
        score = f"{r.uniform(6.0, 8.9):.2f}" if r.random() < 0.8 else "0.0"
    else:
        aired_on = date(2027, _randint(r, 1, 12), _randint(r, 1, 28)) if r.random() < 0.5 else None
        episodes, episodes_aired, released_on, score = planned, 0, None, "0.0"
        if r.random() < 0.4:
            duration = 0
    if score.endswith("0") and score != "0.0":
        score = score[:-1]  # Shikimori sends "9.1", not "9.10"
    if r.random() < 0.03:
        duration = 0

    genre_ids = tuple(sorted(_sample(r, _GENRE_IDS, _randint(r, 1, 4))))
    v = r.random()
    if v < 0.05:
        studio_ids: tuple[int, ...] = ()
    elif v < 0.9:
        studio_ids = (STUDIOS[int(r.random() * len(STUDIOS))][0],)
    else:
        studio_ids = tuple(s[0] for s in _sample(r, STUDIOS, 2))

    if r.random() < 0.75:
        hero = _romaji_word(r)[0]
        description: str | None = (
            f"[character={100000 + anime_id}]{hero}[/character] — "
            + " ".join(_words(r, _RUSSIAN_WORDS, 8, 20)).capitalize()
            + ".\r\n"
            + " ".join(_words(r, _RUSSIAN_WORDS, 5, 12)).capitalize()
            + "."
        )
    else:
        description = None
    franchise = slugify(name.split(" ")[0]).replace("-", "_") if r.random() < 0.4 else None
    rating = _pick(r, _RATINGS)
    updated_at = datetime(2024, 1, 1, tzinfo=MSK) + timedelta(
        seconds=_randint(r, 0, 600 * 86400), milliseconds=_randint(r, 0, 999)
    )

    anime = FakeAnime(
        id=anime_id,
        name=name,
        russian=russian,
        english=english,
        japanese=japanese,
        synonyms=synonyms,
        kind=kind,
        status=status,
        score=score,
        episodes=episodes,
        episodes_aired=episodes_aired,
        aired_on=aired_on,
        released_on=released_on,
        rating=rating,
        duration=duration,
        description=description,
        franchise=franchise,
        genre_ids=genre_ids,
        studio_ids=studio_ids,
        updated_at=updated_at,
    )
    if status != "anons" and r.random() >= 0.01:
        anime.kodik = _generate_kodik(r, anime)
    if r.random() < 0.30:
        anime.stream = _generate_stream(r, anime)
    return anime


def _generate_kodik(r: random.Random, a: FakeAnime) -> list[KodikMaterial]:
    v = r.random()
    count = 1 if v < 0.5 else 2 if v < 0.85 else 3
    translations = _sample(r, TRANSLATIONS, count)
    is_movie = a.kind == "movie"
    episodes = max(1, a.episodes_aired or a.episodes)
    two_seasons = not is_movie and episodes >= 2 and r.random() < 0.10
    created = _KODIK_EPOCH + int(r.random() * _KODIK_SPAN)
    materials = []
    for index, (tr_id, _, tr_type) in enumerate(translations):
        # Voice-overs of airing shows lag the subtitles by an episode now and then.
        lag = 1 if a.status == "ongoing" and tr_type == "voice" and r.random() < 0.3 else 0
        available = max(1, episodes - lag)
        seasons: tuple[int, ...] = ()
        if not is_movie:
            if two_seasons and available >= 2:
                first = (available + 1) // 2
                seasons = (first, available - first)
            else:
                seasons = (available,)
        materials.append(
            KodikMaterial(
                anime_id=a.id,
                number=a.id * 10 + index,
                translation_id=tr_id,
                is_movie=is_movie,
                season_episodes=seasons,
                created_at=created + index * 3600,
                updated_at=created + index * 3600 + int(r.random() * 90 * 86400),
            )
        )
    return materials


def _generate_stream(r: random.Random, a: FakeAnime) -> StreamInfo:
    intro_start = _randint(r, 0, 120)
    return StreamInfo(
        slug=f"{a.slug}-{a.id}",
        has_dub=r.random() < 0.4,
        anilist_id=100000 + a.id if r.random() < 0.9 else None,
        intro=(intro_start, intro_start + 90),
        outro_length=_randint(r, 60, 95),
    )


def _frieren() -> FakeAnime:
    a = FakeAnime(
        id=FRIEREN_ID,
        name="Sousou no Frieren",
        russian="Провожающая в последний путь Фрирен",
        english="Frieren: Beyond Journey's End",
        japanese="葬送のフリーレン",
        synonyms=["Frieren at the Funeral"],
        kind="tv",
        status="released",
        score="9.29",
        episodes=28,
        episodes_aired=28,
        aired_on=date(2023, 9, 29),
        released_on=date(2024, 3, 22),
        rating="pg_13",
        duration=24,
        description=(
            "Маг [character=184947]Фрирен[/character] вместе с героем "
            "[character=184948]Химмелем[/character] и их спутниками за десять лет победили "
            "[i]Короля демонов[/i].\r\nСпустя полвека эльфийка отправляется в путь, "
            "чтобы понять людей."
        ),
        franchise="sousou_no_frieren",
        genre_ids=(2, 8, 10),
        studio_ids=(11,),
        updated_at=datetime(2025, 1, 10, 12, 0, 41, 524000, tzinfo=MSK),
    )
    created = int(datetime(2023, 9, 29, 19, 2, 11, tzinfo=UTC).timestamp())
    updated = int(datetime(2024, 3, 22, 18, 40, 5, tzinfo=UTC).timestamp())
    a.kodik = [
        KodikMaterial(
            anime_id=FRIEREN_ID,
            number=FRIEREN_ID * 10 + index,
            translation_id=tr_id,
            is_movie=False,
            season_episodes=(28,),
            created_at=created + index * 3600,
            updated_at=updated + index * 3600,
        )
        for index, tr_id in enumerate((610, 609, 869))
    ]
    a.stream = StreamInfo(
        slug=f"{a.slug}-{FRIEREN_ID}",
        has_dub=True,
        anilist_id=154587,
        intro=(31, 121),
        outro_length=90,
    )
    return a
