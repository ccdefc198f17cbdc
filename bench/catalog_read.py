"""Catalog read benchmark: GET /anime and GET /search/anime through a real gunicorn server.

What it does, in order:

1. creates its own PostgreSQL database (``kitsu_bench`` by default) if missing and migrates it;
2. loads N synthetic published anime (titles in romaji, English, Russian and Japanese built
   from word lists, a few rare "Frieren" titles, ~20 genres, studios) with ``bulk_create``,
   unless the database already holds at least N anime (``--reload`` forces a fresh load);
3. optionally prints EXPLAIN ANALYZE of the search, cursor, offset and genre queries
   (``--explain``);
4. starts ``gunicorn kitsu.wsgi:application`` on 127.0.0.1, waits for ``/health`` and drives
   each scenario with a bounded thread-pool load generator (httpx), then stops the server;
5. prints per-scenario requests, errors, throughput and latency percentiles (and markdown
   tables with ``--markdown``). ``--compare-cache`` repeats the run with the catalog cache on.

Run from the repository root: ``.venv/bin/python bench/catalog_read.py --help``.
Only 127.0.0.1 is contacted (PostgreSQL, Redis and the server under test).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import (
    REPO_ROOT,
    Server,
    create_database,
    database_name,
    free_port,
    gunicorn_command,
    log,
    markdown_table,
    migrate,
    percentile,
    raise_open_file_limit,
    require_local,
    setup_django,
    text_table,
)
from bench.wrk import WrkResult, run_pgbench, run_wrk, wrk_available

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kitsu_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/2"
CACHE_KEY_PREFIX = "kitsu-bench"
PAGE_SIZE = 20
REQUEST_TIMEOUT = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# --- Synthetic catalog -----------------------------------------------------------------------
# (romaji, Japanese) pairs: a romaji title and its Japanese title are built from the same words.
WORDS: tuple[tuple[str, str], ...] = (
    ("sora", "空"), ("hikari", "光"), ("kaze", "風"), ("yume", "夢"), ("hoshi", "星"),
    ("tsuki", "月"), ("hana", "花"), ("yuki", "雪"), ("umi", "海"), ("mori", "森"),
    ("kokoro", "心"), ("tsubasa", "翼"), ("kage", "影"), ("honoo", "炎"), ("mizu", "水"),
    ("ame", "雨"), ("niji", "虹"), ("sakura", "桜"), ("kimi", "君"), ("boku", "僕"),
    ("sekai", "世界"), ("mirai", "未来"), ("kioku", "記憶"), ("densetsu", "伝説"),
    ("monogatari", "物語"), ("shoujo", "少女"), ("yuusha", "勇者"), ("maou", "魔王"),
    ("kishi", "騎士"), ("majo", "魔女"), ("tenshi", "天使"), ("akuma", "悪魔"), ("ryuu", "竜"),
    ("kitsune", "狐"), ("neko", "猫"), ("tabi", "旅"), ("michi", "道"), ("uta", "歌"),
    ("koe", "声"), ("natsu", "夏"), ("fuyu", "冬"), ("haru", "春"), ("aki", "秋"),
    ("gakuen", "学園"), ("senki", "戦記"), ("kakumei", "革命"), ("tengoku", "天国"),
    ("shiro", "城"), ("ken", "剣"), ("hime", "姫"), ("ookami", "狼"), ("kaizoku", "海賊"),
    ("mahou", "魔法"), ("jikan", "時間"), ("kiseki", "奇跡"), ("yakusoku", "約束"),
    ("shinobi", "忍"), ("oukoku", "王国"), ("hanabi", "花火"), ("tokei", "時計"),
)  # fmt: skip
PARTICLES: tuple[tuple[str, str], ...] = (("no", "の"), ("to", "と"), ("wa", "は"))
EN_ADJECTIVES = (
    "Silent", "Crimson", "Eternal", "Lost", "Hidden", "Broken", "Last", "Burning", "Frozen",
    "Wandering", "Golden", "Shadow", "Distant", "Final", "Little", "Endless", "Scarlet", "Azure",
    "Forgotten", "Brave", "Starlit", "Hollow", "Radiant", "Restless",
)  # fmt: skip
EN_NOUNS = (
    "Sky", "Blade", "Garden", "Kingdom", "Journey", "Witch", "Dragon", "Song", "Promise", "Star",
    "Academy", "Knight", "Summer", "Memory", "Tale", "Hero", "Fox", "Moon", "Sea", "Flower",
    "Archive", "Requiem", "Chronicle", "Frontier", "Voyage", "Castle", "Wolf", "Clockwork",
)  # fmt: skip
RU_ADJECTIVES = (
    "Тихий", "Багровый", "Вечный", "Потерянный", "Скрытый", "Сломанный", "Последний",
    "Пылающий", "Ледяной", "Странствующий", "Золотой", "Тёмный", "Далёкий", "Маленький",
    "Бесконечный", "Алый", "Забытый", "Храбрый", "Звёздный", "Весенний",
)  # fmt: skip
RU_NOUNS = (
    "клинок", "сад", "путь", "дракон", "рыцарь", "герой", "лис", "океан", "цветок", "мир",
    "город", "сон", "замок", "ветер", "свет", "день", "край", "берег", "лес", "страж",
)  # fmt: skip
SEQUEL_SUFFIXES: tuple[tuple[str, str, str], ...] = (
    # (romaji/English suffix, Russian suffix, Japanese suffix)
    (" 2nd Season", " (2 сезон)", " 第2期"),
    (" Season 3", " (3 сезон)", " 第3期"),
    (": The Movie", ": Фильм", " 劇場版"),
    (": Final Season", ": Финал", " 完結編"),
    (" OVA", " OVA", " OVA"),
)
# A rare franchise (about 0.15% of rows) so that search has a small, exact set of hits.
RARE_TITLES: tuple[tuple[str, str, str, str], ...] = (
    # (romaji, English, Russian, Japanese)
    ("Sousou no Frieren", "Frieren: Beyond Journey's End", "Провожающая в последний путь Фрирен",
     "葬送のフリーレン"),
    ("Frieren to Himmel", "Frieren and the Hero Himmel", "Фрирен и герой Химмель",
     "フリーレンとヒンメル"),
    ("Eisen no Tabi", "The Journey of Eisen", "Путь Айзена", "アイゼンの旅"),
)  # fmt: skip
RARE_EVERY = 700
DATA_EPOCH = datetime(2025, 6, 1, tzinfo=UTC)  # created_at spreads over 8 years before this
KINDS, KIND_WEIGHTS = ("tv", "movie", "ova", "ona", "special"), (60, 15, 10, 10, 5)
STATUSES, STATUS_WEIGHTS = ("released", "ongoing", "anons"), (85, 10, 5)
GENRES: tuple[tuple[str, str, str, float], ...] = (
    # (name, Russian name, kind, relative frequency)
    ("Action", "Экшен", "genre", 30), ("Comedy", "Комедия", "genre", 28),
    ("Fantasy", "Фэнтези", "genre", 22), ("Drama", "Драма", "genre", 20),
    ("Adventure", "Приключения", "genre", 18), ("Romance", "Романтика", "genre", 16),
    ("Sci-Fi", "Фантастика", "genre", 12), ("Slice of Life", "Повседневность", "genre", 12),
    ("School", "Школа", "theme", 11), ("Supernatural", "Сверхъестественное", "genre", 10),
    ("Mystery", "Детектив", "genre", 8), ("Shounen", "Сёнен", "demographic", 8),
    ("Isekai", "Исекай", "theme", 7), ("Sports", "Спорт", "genre", 5),
    ("Mecha", "Меха", "theme", 5), ("Psychological", "Психологическое", "theme", 4),
    ("Historical", "Исторический", "theme", 4), ("Music", "Музыка", "theme", 3),
    ("Horror", "Ужасы", "genre", 2), ("Military", "Военное", "theme", 2),
)  # fmt: skip
STUDIO_WORDS = (
    "Kaze", "Hoshi", "Kitsune", "Tsuki", "Aurora", "Blue Lantern", "Paper Crane", "Red Fox",
    "Lumen", "Orbit", "Sakura", "Nagi", "Harbor", "Mirage", "Sunrise Hill", "Pale Moon",
    "Ginga", "Hikari", "North Star", "Yamabuki",
)  # fmt: skip
STUDIO_SUFFIXES = ("Studio", "Animation", "Pictures")

# --- Search terms -----------------------------------------------------------------------------
# (label, query): an exact rare romaji word, a common romaji word, a Russian word, a typo,
# a Japanese substring and a miss. Their match counts are printed before the run.
SEARCH_TERMS: tuple[tuple[str, str], ...] = (
    ("romaji, rare", "frieren"),
    ("romaji, common", "hikari"),
    ("russian", "клинок"),
    ("typo", "freiren"),
    ("japanese substring", "フリーレン"),
    ("miss", "evangelion"),
)


# --- Small helpers ----------------------------------------------------------------------------
def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unavailable (no commit yet)"
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    return f"{commit}{' (dirty)' if dirty else ''}"


def source_fingerprint() -> str:
    """Short sha256 of the app's Python sources: identifies the code measured on a dirty tree."""
    digest = hashlib.sha256()
    for folder in ("kitsu", "catalog"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_times() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of all CPUs since boot from /proc/stat, or None off Linux."""
    try:
        fields = Path("/proc/stat").read_text(encoding="utf-8").split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields[:8]]  # guest time is already counted in user
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


@dataclass(frozen=True)
class ProcessInfo:
    ppid: int
    name: str
    cpu: float  # user + system seconds


def process_table() -> dict[int, ProcessInfo]:
    """Every process visible in /proc with its parent, command name and CPU seconds."""
    table: dict[int, ProcessInfo] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        name = text[text.find("(") + 1 : text.rfind(")")]
        fields = text[text.rfind(")") + 1 :].split()  # fields[0] is the state
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        table[int(entry.name)] = ProcessInfo(int(fields[1]), name, cpu)
    return table


def wait_for_quiet(max_wait: float, threshold: float = 0.15) -> float | None:
    """Wait up to ``max_wait`` s for a 1-second window with the machine < ``threshold`` busy.

    The machine may be shared (other test runs): this keeps their load out of the numbers
    where possible. Returns the busy share of the last window (None off Linux).
    """
    deadline = time.monotonic() + max_wait
    share = None
    while True:
        before = cpu_times()
        time.sleep(1.0)
        after = cpu_times()
        if before is None or after is None or after[1] <= before[1]:
            return None
        share = (after[0] - before[0]) / (after[1] - before[1])
        if share < threshold or time.monotonic() >= deadline:
            return share


@dataclass(frozen=True)
class CpuShares:
    """Shares of the whole machine (all CPUs = 1.0) during a measured phase."""

    app: float  # gunicorn master and workers
    database: float  # PostgreSQL backends connected to the bench database
    redis: float  # the Redis server (shared with anything else using it)
    generator: float  # this process: the load generator
    other: float  # everything else: other jobs on the machine, kernel, exited processes
    top_other: tuple[tuple[str, float], ...]  # the biggest other processes, by name

    def __str__(self) -> str:
        parts = (self.app, self.database, self.redis, self.generator, self.other)
        return "/".join(f"{100 * part:.0f}" for part in parts)


@dataclass(frozen=True)
class CpuSnapshot:
    busy: float
    total: float
    generator: float
    processes: dict[int, ProcessInfo]
    database_pids: frozenset[int]


class CpuProbe:
    """Splits the machine's CPU time between the server, PostgreSQL, the generator and the rest."""

    def __init__(
        self,
        server_pid: int | None,
        database_pids: Callable[[], list[int]],
        redis_pid: int | None,
    ) -> None:
        self.server_pid = server_pid
        self.database_pids = database_pids
        self.redis_pid = redis_pid

    def snapshot(self) -> CpuSnapshot | None:
        machine = cpu_times()
        if machine is None:
            return None
        return CpuSnapshot(
            machine[0],
            machine[1],
            time.process_time(),
            process_table(),
            frozenset(self.database_pids()),
        )

    def shares(self, before: CpuSnapshot | None) -> CpuShares | None:
        after = self.snapshot()
        if before is None or after is None or after.total <= before.total:
            return None
        capacity = after.total - before.total
        grown: dict[int, float] = {}
        for pid, info in after.processes.items():
            old = before.processes.get(pid)
            grown[pid] = info.cpu - (old.cpu if old is not None and old.ppid == info.ppid else 0.0)
        app_pids = {pid for pid, info in after.processes.items() if info.ppid == self.server_pid}
        app_pids.add(self.server_pid or -1)
        groups = {
            "app": app_pids,
            "database": set(before.database_pids | after.database_pids),
            "redis": {self.redis_pid or -1},
            "generator": {os.getpid()},
        }
        used = {name: sum(grown.get(pid, 0.0) for pid in pids) for name, pids in groups.items()}
        used["generator"] = after.generator - before.generator
        mine = set().union(*groups.values())
        others: Counter[str] = Counter()
        for pid, seconds in grown.items():
            if pid not in mine and seconds > 0:
                others[after.processes[pid].name] += seconds / capacity
        busy = (after.busy - before.busy) / capacity
        shares = {name: seconds / capacity for name, seconds in used.items()}
        return CpuShares(
            shares["app"],
            shares["database"],
            shares["redis"],
            shares["generator"],
            max(0.0, busy - sum(shares.values())),
            tuple(others.most_common(3)),
        )


# --- Data: load (database helpers in bench/harness.py) ----------------------------------------
@dataclass
class TitleSet:
    title: str
    romaji: str
    english: str
    russian: str
    japanese: str
    synonyms: list[str]


def _romaji_and_japanese(rng: random.Random) -> tuple[str, str]:
    words = rng.sample(WORDS, rng.choice((2, 2, 2, 3)))
    if rng.random() < 0.65:
        romaji_particle, ja_particle = rng.choice(PARTICLES)
        romaji = f"{words[0][0].capitalize()} {romaji_particle} " + " ".join(
            w[0].capitalize() for w in words[1:]
        )
        japanese = words[0][1] + ja_particle + "".join(w[1] for w in words[1:])
    else:
        romaji = " ".join(w[0].capitalize() for w in words)
        japanese = "".join(w[1] for w in words)
    return romaji, japanese


def _english(rng: random.Random) -> str:
    pattern = rng.randrange(4)
    adjective, noun, other = rng.choice(EN_ADJECTIVES), rng.choice(EN_NOUNS), rng.choice(EN_NOUNS)
    if pattern == 0:
        return f"{adjective} {noun}"
    if pattern == 1:
        return f"The {noun} of the {adjective} {other}"
    if pattern == 2:
        return f"{noun}: {adjective} {other}"
    return f"{adjective} {noun} {other}"


def make_titles(index: int, rng: random.Random) -> TitleSet:
    if index % RARE_EVERY == RARE_EVERY // 2:
        romaji, english, russian, japanese = RARE_TITLES[(index // RARE_EVERY) % len(RARE_TITLES)]
    else:
        romaji, japanese = _romaji_and_japanese(rng)
        english = _english(rng)
        russian = f"{rng.choice(RU_ADJECTIVES)} {rng.choice(RU_NOUNS)}"
    if rng.random() < 0.15:
        suffix, ru_suffix, ja_suffix = rng.choice(SEQUEL_SUFFIXES)
        romaji, english = romaji + suffix, english + suffix
        russian, japanese = russian + ru_suffix, japanese + ja_suffix
    synonyms: list[str] = []
    if rng.random() < 0.3:
        synonyms.append("".join(word[0] for word in english.split() if word[0].isalpha()))
    if rng.random() < 0.1:
        synonyms.append(romaji.split(" ")[0])
    title = english if rng.random() < 0.4 else romaji
    return TitleSet(title, romaji, english, russian, japanese, synonyms)


def _weighted_sample(
    rng: random.Random, population: Sequence[Any], weights: Sequence[float], k: int
) -> list[Any]:
    chosen: list[Any] = []
    while len(chosen) < k:
        item = rng.choices(population, weights=weights)[0]
        if item not in chosen:
            chosen.append(item)
    return chosen


def describe(titles: TitleSet, rng: random.Random) -> str:
    sentences = [
        f"{titles.english} ({titles.romaji}).",
        f"A {rng.choice(EN_ADJECTIVES).lower()} {rng.choice(EN_NOUNS).lower()} meets a "
        f"{rng.choice(EN_ADJECTIVES).lower()} {rng.choice(EN_NOUNS).lower()}.",
        f"Their {rng.choice(EN_NOUNS).lower()} changes the {rng.choice(EN_NOUNS).lower()} "
        "forever, or at least until the next season.",
    ]
    return " ".join(sentences)


def load_catalog(count: int, *, seed: int, batch_size: int = 1000) -> float:
    """Replace the bench catalog with ``count`` published anime; returns the load time (s)."""
    from django.db import connection, transaction
    from django.utils.text import slugify

    from catalog.models import Anime, Genre, Studio

    rng = random.Random(seed)
    started = time.perf_counter()
    now = DATA_EPOCH  # fixed, so that the same --seed always loads the same rows
    with transaction.atomic():
        tables = ", ".join(
            connection.ops.quote_name(model._meta.db_table) for model in (Anime, Genre, Studio)
        )
        with connection.cursor() as cursor:
            # CASCADE also empties the m2m tables and anything else pointing at anime.
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        genres = Genre.objects.bulk_create(
            Genre(name=name, name_ru=name_ru, slug=slugify(name), kind=kind)
            for name, name_ru, kind, _ in GENRES
        )
        genre_weights = [weight for *_, weight in GENRES]
        studio_names = [f"{word} {suffix}" for suffix in STUDIO_SUFFIXES for word in STUDIO_WORDS]
        studios = Studio.objects.bulk_create(
            Studio(name=name, slug=slugify(name)) for name in studio_names
        )
        studio_weights = [1 / (rank + 1) for rank in range(len(studios))]  # a few big studios

        genre_links: list[Any] = []
        studio_links: list[Any] = []
        genre_through = Anime.genres.through
        studio_through = Anime.studios.through
        for start in range(0, count, batch_size):
            batch: list[Anime] = []
            for index in range(start, min(start + batch_size, count)):
                titles = make_titles(index, rng)
                year = min(2025, int(rng.triangular(1985, 2026, 2022)))
                episodes = rng.choice((1, 12, 12, 12, 13, 24, 25, 26, 50))
                anime = Anime(
                    shikimori_id=index + 1,
                    mal_id=index + 1,
                    title=titles.title,
                    title_original=titles.romaji,
                    title_en=titles.english,
                    title_ru=titles.russian,
                    title_ja=titles.japanese,
                    synonyms=titles.synonyms,
                    description=describe(titles, rng),
                    poster_url=f"https://img.example.invalid/posters/{index + 1}.jpg",
                    kind=rng.choices(KINDS, KIND_WEIGHTS)[0],
                    status=rng.choices(STATUSES, STATUS_WEIGHTS)[0],
                    year=year,
                    season=rng.choice(("winter", "spring", "summer", "fall")),
                    aired_on=date(year, rng.randint(1, 12), rng.randint(1, 28)),
                    episodes_total=episodes,
                    episodes_aired=episodes,
                    duration_minutes=24,
                    rating=rng.choice(("g", "pg", "pg_13", "pg_13", "r")),
                    score=Decimal(f"{min(9.6, max(3.0, rng.gauss(7.0, 0.9))):.2f}"),
                    state=Anime.State.PUBLISHED,
                    source=Anime.Source.IMPORT,
                    created_at=now - timedelta(seconds=rng.uniform(0, 8 * 365 * 86400)),
                )
                anime.search_document = anime.build_search_document()
                batch.append(anime)
                for genre in _weighted_sample(rng, genres, genre_weights, rng.randint(1, 4)):
                    genre_links.append(genre_through(anime_id=anime.id, genre_id=genre.id))
                for studio in _weighted_sample(rng, studios, studio_weights, rng.randint(1, 2)):
                    studio_links.append(studio_through(anime_id=anime.id, studio_id=studio.id))
            Anime.objects.bulk_create(batch)
        genre_through.objects.bulk_create(genre_links, batch_size=5000)
        studio_through.objects.bulk_create(studio_links, batch_size=5000)
    return time.perf_counter() - started


def analyze_tables() -> None:
    from django.db import connection

    from catalog.models import Anime

    tables = [Anime._meta.db_table, Anime.genres.through._meta.db_table]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")
    # A session whose first use of pg_trgm is inside VACUUM loses the threshold set through the
    # connection options (it falls back to 0.6), so the searches below use a fresh session.
    connection.close()


def bench_database_pids() -> list[int]:
    """PostgreSQL backends serving the bench database, except this process's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [int(row[0]) for row in cursor.fetchall()]


def public_anime_count() -> int:
    from catalog.models import Anime

    return Anime.objects.public().count()


def search_match_counts() -> list[tuple[str, str, int]]:
    from catalog.selectors import anime_search

    return [(label, term, anime_search(query=term).count()) for label, term in SEARCH_TERMS]


def server_versions() -> tuple[str, str]:
    from django.db import connection
    from gunicorn import __version__ as gunicorn_version

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = str(cursor.fetchone()[0])
    return pg_version, str(gunicorn_version)


# --- EXPLAIN ----------------------------------------------------------------------------------
INDEX_NAMES = (
    "anime_search_fts",
    "anime_search_trgm",
    "anime_pub_newest",
    "anime_pub_score",
    "anime_pub_title",
    "anime_pub_year",
)


def explain_plans(deep_offset: int) -> list[tuple[str, str]]:
    """(name, plan text) of the queries behind the benchmarked endpoints."""
    from django.db.models import QuerySet

    from catalog.models import Genre
    from catalog.selectors import anime_list, anime_search

    def sliced(queryset: QuerySet[Any], offset: int = 0) -> QuerySet[Any]:
        return queryset[offset : offset + PAGE_SIZE]

    newest = anime_list(filters={}, ordering="newest")[0].queryset()
    # DRF's CursorPagination filters on the first ordering key and fetches page_size + 1 rows.
    position = newest.values_list("created_at", flat=True)[deep_offset]
    cursor_page = newest.filter(created_at__lt=position)[: PAGE_SIZE + 1]
    rare_genre = Genre.objects.order_by("id").last()
    queries: list[tuple[str, Callable[[], QuerySet[Any]]]] = [
        *(
            (f"search q={term!r} ({label})", lambda term=term: sliced(anime_search(query=term)))
            for label, term in SEARCH_TERMS
        ),
        (f"cursor page ~{deep_offset} rows deep (ordering newest)", lambda: cursor_page),
        (f"offset {deep_offset} (ordering newest)", lambda: sliced(newest, deep_offset)),
        (
            "genre=action ordering=score",
            lambda: sliced(anime_list(filters={"genre": "action"}, ordering="score")[0].queryset()),
        ),
    ]
    if rare_genre is not None:
        queries.append(
            (
                f"genre={rare_genre.slug} ordering=score (rare genre)",
                lambda: sliced(
                    anime_list(filters={"genre": rare_genre.slug}, ordering="score")[0].queryset()
                ),
            )
        )
    return [(name, build().explain(analyze=True, buffers=True)) for name, build in queries]


def plan_summary(plan: str) -> str:
    used = [name for name in INDEX_NAMES if name in plan]
    seq = [
        line.strip().split(" on ")[1].split()[0]
        for line in plan.splitlines()
        if "Seq Scan on " in line
    ]
    execution = next(
        (line.split(":", 1)[1].strip() for line in plan.splitlines() if "Execution Time" in line),
        "?",
    )
    parts = [f"indexes: {', '.join(used) or 'none of the catalog indexes'}"]
    parts.append(f"seq scans: {', '.join(seq) if seq else 'none'}")
    parts.append(f"execution {execution}")
    return "; ".join(parts)


# --- Server -----------------------------------------------------------------------------------
@dataclass
class ServerConfig:
    database_url: str
    redis_url: str
    workers: int
    threads: int
    port: int
    cache_seconds: int
    db_pool_max: int | None

    def command(self) -> list[str]:
        return gunicorn_command(workers=self.workers, port=self.port, threads=self.threads)

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "CACHE_KEY_PREFIX": CACHE_KEY_PREFIX,
            "CATALOG_CACHE_SECONDS": str(self.cache_seconds),
            "KITSU_ENV": "development",
            "DEBUG": "false",  # DEBUG keeps every SQL query in memory: not what production runs
            "DB_POOL": "true",
            "LOG_LEVEL": "WARNING",
        }
        if self.db_pool_max is not None:
            env["DB_POOL_MAX"] = str(self.db_pool_max)
        return env


def redis_pid(redis_url: str) -> int | None:
    """Process id of the local Redis server (from INFO), to account for its CPU time."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        pid = client.info("server").get("process_id")
    except redis.RedisError:
        return None
    finally:
        client.close()
    return int(pid) if pid else None


def flush_bench_cache(redis_url: str) -> int:
    """Delete this benchmark's cache keys (prefix ``kitsu-bench``) so each run starts cold."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        keys = list(client.scan_iter(match=f"{CACHE_KEY_PREFIX}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        return len(keys)
    finally:
        client.close()


# --- Load generator ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    label: str
    status: int  # 0 when the request failed before a response
    seconds: float
    cache_hit: bool | None
    error: str | None


@dataclass
class ScenarioResult:
    name: str
    endpoint: str
    samples: list[Sample]
    wall_seconds: float
    planned: int
    cpu: CpuShares | None
    quiet_before: float | None  # machine busy share just before the scenario

    @property
    def requests(self) -> int:
        return len(self.samples)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if s.status != 200)

    @property
    def throughput(self) -> float:
        return self.requests / self.wall_seconds if self.wall_seconds > 0 else math.nan

    @property
    def cache_hits(self) -> int:
        return sum(1 for s in self.samples if s.cache_hit)

    def latencies_ms(self, label: str | None = None) -> list[float]:
        return sorted(s.seconds * 1000 for s in self.samples if label is None or s.label == label)

    def error_kinds(self) -> Counter[str]:
        return Counter(s.error or f"HTTP {s.status}" for s in self.samples if s.status != 200)


@dataclass
class Scenario:
    name: str
    endpoint: str  # shown in the tables
    make_jobs: Callable[[int], list[tuple[str, str]]]  # count -> [(label, path)]
    labels: list[str] = field(default_factory=list)  # per-label breakdown when non-empty


def drive(
    clients: Sequence[httpx.Client], jobs: Sequence[tuple[str, str]], time_limit: float
) -> tuple[list[Sample], float]:
    """Issue ``jobs`` with one thread per client until done or ``time_limit`` seconds pass."""
    lock = threading.Lock()
    pending: Iterator[int] = iter(range(len(jobs)))
    samples: list[Sample] = []
    stop_at = time.monotonic() + time_limit

    def worker(client: httpx.Client) -> None:
        while time.monotonic() < stop_at:
            with lock:
                index = next(pending, None)
            if index is None:
                return
            label, path = jobs[index]
            started = time.perf_counter()
            try:
                response = client.get(path)
            except httpx.HTTPError as exc:
                elapsed = time.perf_counter() - started
                samples.append(Sample(label, 0, elapsed, None, type(exc).__name__))
                continue
            elapsed = time.perf_counter() - started
            cache = response.headers.get("X-Cache")
            samples.append(
                Sample(
                    label,
                    response.status_code,
                    elapsed,
                    None if cache is None else cache == "hit",
                    None if response.status_code == 200 else f"HTTP {response.status_code}",
                )
            )

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + REQUEST_TIMEOUT + 5)
    return samples, time.perf_counter() - started


def run_scenario(
    scenario: Scenario,
    clients: Sequence[httpx.Client],
    probe: CpuProbe,
    *,
    requests: int,
    warmup: int,
    time_limit: float,
    quiet_wait: float,
) -> ScenarioResult:
    jobs = scenario.make_jobs(warmup + requests)
    quiet = wait_for_quiet(quiet_wait) if quiet_wait > 0 else None
    if quiet is not None and quiet >= 0.15:
        log(f"  machine still {100 * quiet:.0f}% busy after waiting {quiet_wait:.0f}s")
    if warmup:
        drive(clients, jobs[:warmup], time_limit)
    before = probe.snapshot()
    samples, wall = drive(clients, jobs[warmup:], time_limit)
    return ScenarioResult(
        scenario.name, scenario.endpoint, samples, wall, requests, probe.shares(before), quiet
    )


def collect_deep_cursors(client: httpx.Client, *, depth: int, pages: int) -> tuple[list[str], int]:
    """Follow ``rel="next"`` from the first page; return ``pages`` URLs from page ``depth`` on."""
    path: str | None = f"/anime?limit={PAGE_SIZE}&cursor="
    collected: list[str] = []
    page = 0
    reached = 0
    while path is not None and len(collected) < pages:
        response = client.get(path)
        response.raise_for_status()
        page += 1
        if page > depth:
            collected.append(path)
            reached = reached or page
        next_link = response.links.get("next", {}).get("url")
        if next_link is None:
            break
        parts = urlsplit(next_link)
        path = f"{parts.path}?{parts.query}"
    if not collected:
        raise RuntimeError(f"only {page} cursor pages exist: lower --cursor-depth")
    return collected, reached


def build_scenarios(
    *,
    seed: int,
    anime_count: int,
    max_offset: int,
    genre_slugs: Sequence[str],
    cursor_paths: Sequence[str],
    cursor_page: int,
) -> list[Scenario]:
    rng = random.Random(seed)
    top_offset = max(0, min(max_offset, anime_count - PAGE_SIZE))

    def constant(path: str) -> Callable[[int], list[tuple[str, str]]]:
        return lambda count: [("", path)] * count

    def deep_offsets(count: int) -> list[tuple[str, str]]:
        return [
            ("", f"/anime?limit={PAGE_SIZE}&offset={rng.randint(0, top_offset)}")
            for _ in range(count)
        ]

    def cursors(count: int) -> list[tuple[str, str]]:
        return [("", cursor_paths[i % len(cursor_paths)]) for i in range(count)]

    def genres(count: int) -> list[tuple[str, str]]:
        return [
            (slug, f"/anime?genre={slug}&ordering=score&limit={PAGE_SIZE}")
            for slug in (rng.choice(genre_slugs) for _ in range(count))
        ]

    def searches(count: int) -> list[tuple[str, str]]:
        return [
            (term, f"/search/anime?q={quote(term)}&limit={PAGE_SIZE}")
            for term in (SEARCH_TERMS[i % len(SEARCH_TERMS)][1] for i in range(count))
        ]

    return [
        Scenario(
            "list, first page",
            f"/anime?limit={PAGE_SIZE}&offset=0",
            constant(f"/anime?limit={PAGE_SIZE}&offset=0"),
        ),
        Scenario(
            "list, deep offset", f"/anime?limit={PAGE_SIZE}&offset=0..{top_offset}", deep_offsets
        ),
        Scenario(
            f"list, cursor page {cursor_page}+",
            f"/anime?limit={PAGE_SIZE}&cursor=<{len(cursor_paths)} deep cursors>",
            cursors,
        ),
        Scenario(
            "list, genre by score",
            f"/anime?genre=<{len(genre_slugs)} slugs>&ordering=score&limit={PAGE_SIZE}",
            genres,
        ),
        Scenario(
            "search, mixed terms",
            f"/search/anime?q=<{len(SEARCH_TERMS)} terms>&limit=20",
            searches,
            labels=[term for _, term in SEARCH_TERMS],
        ),
    ]


# --- Reporting --------------------------------------------------------------------------------
HEADERS = (
    "Scenario", "Requests", "Errors", "req/s", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms"
)  # fmt: skip
PERCENTILES = (50, 90, 95, 99, 100)


def _fmt_ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def result_rows(results: Sequence[ScenarioResult], *, cache: bool) -> list[list[str]]:
    rows = []
    for result in results:
        latencies = result.latencies_ms()
        requests = str(result.requests)
        if result.requests < result.planned:
            requests += f"/{result.planned} (time limit)"
        row = [
            result.name,
            requests,
            str(result.errors),
            f"{result.throughput:.1f}",
            *(_fmt_ms(percentile(latencies, p)) for p in PERCENTILES),
        ]
        if cache:
            row.append(f"{100 * result.cache_hits / max(1, result.requests):.0f}%")
        row.append("-" if result.cpu is None else str(result.cpu))
        rows.append(row)
    return rows


def breakdown_rows(
    results: Sequence[ScenarioResult], scenarios: Sequence[Scenario]
) -> list[list[str]]:
    rows = []
    for result, scenario in zip(results, scenarios, strict=True):
        for label in scenario.labels:
            latencies = result.latencies_ms(label)
            errors = sum(1 for s in result.samples if s.label == label and s.status != 200)
            rows.append(
                [
                    f"{result.name}: {label}",
                    str(len(latencies)),
                    str(errors),
                    "",
                    *(_fmt_ms(percentile(latencies, p)) for p in PERCENTILES),
                ]
            )
    return rows


def headers_for(*, cache: bool) -> list[str]:
    return [*HEADERS, *(["cache hits"] if cache else []), "CPU % app/db/redis/gen/other"]


# --- Main -------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Benchmark the public catalog reads (GET /anime, GET /search/anime) through a real "
            "gunicorn server on 127.0.0.1 against a dedicated PostgreSQL database."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="bench database (created and migrated if missing; 127.0.0.1 only)",
    )
    data.add_argument("--anime", type=int, default=10_000, help="number of anime to load")
    data.add_argument(
        "--reload",
        action="store_true",
        help="reload the catalog even if the database already has enough anime",
    )
    data.add_argument("--seed", type=int, default=42, help="seed for data and request mixes")
    data.add_argument(
        "--allow-any-db-name",
        action="store_true",
        help="allow a database whose name does not contain 'bench' (it is wiped)",
    )
    server = parser.add_argument_group("server")
    server.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    server.add_argument(
        "--threads",
        type=int,
        default=0,
        help="use --worker-class gthread with this many threads (0: sync workers)",
    )
    server.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    server.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="cache for the server")
    server.add_argument(
        "--cache-seconds",
        type=int,
        default=0,
        help="CATALOG_CACHE_SECONDS (0: every request takes the database path)",
    )
    server.add_argument(
        "--compare-cache",
        action="store_true",
        help="run a second time with the catalog cache on (--cache-on-seconds)",
    )
    server.add_argument(
        "--cache-on-seconds",
        type=int,
        default=60,
        help="CATALOG_CACHE_SECONDS of the --compare-cache run",
    )
    server.add_argument(
        "--db-pool-max",
        type=int,
        default=None,
        help="DB_POOL_MAX of each worker (default: the settings default)",
    )
    load = parser.add_argument_group("load")
    load.add_argument("--concurrency", type=int, default=16, help="concurrent client threads")
    load.add_argument("--requests", type=int, default=2000, help="measured requests per scenario")
    load.add_argument("--warmup", type=int, default=100, help="unmeasured requests per scenario")
    load.add_argument(
        "--time-limit",
        type=float,
        default=120.0,
        help="seconds per scenario phase (warm-up and measured) before stopping",
    )
    load.add_argument("--max-offset", type=int, default=5000, help="deep offset upper bound")
    load.add_argument(
        "--cursor-depth",
        type=int,
        default=250,
        help="pages to walk before the benchmarked cursor pages",
    )
    load.add_argument(
        "--cursor-pages",
        type=int,
        default=50,
        help="distinct deep cursor pages the cursor scenario cycles through",
    )
    load.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each scenario, wait up to this many seconds for the machine to be idle"
        " (other jobs on a shared machine skew the numbers; 0: do not wait)",
    )
    load.add_argument(
        "--scenarios", default="", help="comma-separated substrings: run only matching scenarios"
    )
    report = parser.add_argument_group("report (wrk)")
    report.add_argument(
        "--report",
        action="store_true",
        help="instead of the httpx scenarios: one wrk run of /health, list, filtered, cursor, "
        "detail, search (cache off) and the cached list, with gunicorn on its documented "
        "settings (deploy/gunicorn.conf.py + deploy/kitsu.env.example), then pgbench on the "
        "endpoints' own SQL; rates printed as ratios to /health",
    )
    report.add_argument(
        "--server-root",
        default=str(REPO_ROOT),
        help="serve the code of this checkout (e.g. an older commit extracted elsewhere)",
    )
    report.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one documented setting (e.g. GUNICORN_WORKERS=3); repeatable",
    )
    report.add_argument(
        "--report-cases",
        default="",
        help="comma-separated substrings: run only the cases whose name contains one",
    )
    report.add_argument("--report-seconds", type=float, default=10.0, help="seconds per case")
    report.add_argument("--report-connections", default="10,100", help="wrk connection counts")
    report.add_argument(
        "--report-rounds",
        type=int,
        default=1,
        help="measure every case this many times, alternating; each row is the median round",
    )
    report.add_argument(
        "--report-settle",
        type=float,
        default=60.0,
        help="before each measured case, wait up to this many seconds for the machine to be "
        "under 15%% busy (a server still answering the last case's backlog, as a single "
        "process does for a long while after 1,000 connections, would otherwise slow the "
        "next case); 0: no wait",
    )
    report.add_argument(
        "--compare-url",
        default="",
        help="base URL of another catalog backend already running on the same anime (same "
        "ids), e.g. the old backend: its /health, list, deep offset page and detail are "
        "measured right after each of Kitsu's cases, and the side-by-side ratios printed",
    )
    report.add_argument(
        "--compare-list-path",
        default=f"/anime/?limit={PAGE_SIZE}",
        help="the other backend's first list page (offset pages append &offset=N)",
    )
    report.add_argument(
        "--compare-detail-path",
        default="/anime/{id}",
        help="the other backend's detail path, {id} replaced by an anime id",
    )
    out = parser.add_argument_group("output")
    out.add_argument("--markdown", action="store_true", help="also print markdown tables")
    out.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN ANALYZE of the search, cursor, offset and genre queries",
    )
    out.add_argument(
        "--skip-load-test",
        action="store_true",
        help="prepare the data (and --explain) but start no server",
    )
    args = parser.parse_args(argv)
    for name in ("anime", "workers", "concurrency", "requests", "report_rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def prepare_data(args: argparse.Namespace) -> int:
    require_local(args.database_url, "--database-url")
    name = database_name(args.database_url)
    if "bench" not in name and not args.allow_any_db_name:
        raise SystemExit(f"refusing to load into {name!r}: its name lacks 'bench' (it is wiped)")
    if create_database(args.database_url):
        log(f"created database {name}")
    log("migrating")
    migrate(args.database_url)
    setup_django(args.database_url)
    existing = public_anime_count()
    if existing >= args.anime and not args.reload:
        log(f"{existing} anime already loaded: skipping the load (--reload to force)")
    else:
        log(f"loading {args.anime} anime ({existing} present)")
        seconds = load_catalog(args.anime, seed=args.seed)
        log(f"loaded in {seconds:.1f}s")
    analyze_tables()
    return public_anime_count()


def print_environment(args: argparse.Namespace, anime_count: int) -> None:
    pg_version, gunicorn_version = server_versions()
    worker_class = f"gthread x {args.threads} threads" if args.threads else "sync"
    print("## Environment")
    print(f"- anime (published): {anime_count}")
    print(f"- gunicorn {gunicorn_version}: {args.workers} workers ({worker_class})")
    print(
        f"- load generator: httpx, {args.concurrency} threads; {args.requests} requests per "
        f"scenario after {args.warmup} warm-up; time limit {args.time_limit:.0f}s"
    )
    print(
        f"- CPU: {os.cpu_count()} x {cpu_model()}; server, PostgreSQL and load generator share it"
    )
    print(f"- PostgreSQL {pg_version}, Python {platform.python_version()}, {platform.platform()}")
    print(f"- git commit: {git_commit()}; sources of kitsu/ and catalog/: {source_fingerprint()}")
    print(f"- date: {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC")
    executable = sys.executable
    if executable.startswith(os.getcwd() + os.sep):
        executable = os.path.relpath(executable)
    print(f"- command: `{shlex.join([executable, *sys.argv])}`")
    print()


def print_explain(args: argparse.Namespace) -> None:
    print("## EXPLAIN ANALYZE")
    depth = min(args.cursor_depth * PAGE_SIZE, max(0, public_anime_count() - PAGE_SIZE - 1))
    summaries = []
    for name, plan in explain_plans(depth):
        print(f"### {name}\n{plan}\n")
        summaries.append(f"- {name}: {plan_summary(plan)}")
    print("### Summary")
    print("\n".join(summaries))
    print()


def benchmark_run(
    args: argparse.Namespace,
    *,
    cache_seconds: int,
    anime_count: int,
    log_path: Path,
    cursor_cache: dict[str, Any],
) -> tuple[list[Scenario], list[ScenarioResult]]:
    from catalog.models import Genre

    flushed = flush_bench_cache(args.redis_url)
    if flushed:
        log(f"flushed {flushed} cached keys under {CACHE_KEY_PREFIX}:")
    config = ServerConfig(
        database_url=args.database_url,
        redis_url=args.redis_url,
        workers=args.workers,
        threads=args.threads,
        port=args.port or free_port(),
        cache_seconds=cache_seconds,
        db_pool_max=args.db_pool_max,
    )
    server = Server(config.command(), config.environment(), port=config.port, log_path=log_path)
    clients = [
        httpx.Client(
            base_url=server.base_url,
            timeout=REQUEST_TIMEOUT,
            trust_env=False,  # never a proxy: 127.0.0.1 only
            headers={"Accept": "application/json"},
        )
        for _ in range(args.concurrency)
    ]
    try:
        log(f"starting: {shlex.join(config.command())} (CATALOG_CACHE_SECONDS={cache_seconds})")
        server.start()
        if "paths" not in cursor_cache:
            log(f"walking {args.cursor_depth} cursor pages")
            paths, page = collect_deep_cursors(
                clients[0], depth=args.cursor_depth, pages=args.cursor_pages
            )
            cursor_cache.update(paths=paths, page=page)
        scenarios = build_scenarios(
            seed=args.seed,
            anime_count=anime_count,
            max_offset=args.max_offset,
            genre_slugs=list(Genre.objects.order_by("id").values_list("slug", flat=True)),
            cursor_paths=cursor_cache["paths"],
            cursor_page=cursor_cache["page"],
        )
        probe = CpuProbe(server.pid, bench_database_pids, redis_pid(args.redis_url))
        wanted = [part.strip() for part in args.scenarios.split(",") if part.strip()]
        if wanted:
            scenarios = [s for s in scenarios if any(w in s.name for w in wanted)]
        results = []
        for scenario in scenarios:
            log(f"scenario: {scenario.name}")
            result = run_scenario(
                scenario,
                clients,
                probe,
                requests=args.requests,
                warmup=args.warmup,
                time_limit=args.time_limit,
                quiet_wait=args.quiet_wait,
            )
            if result.errors:
                log(f"  errors: {dict(result.error_kinds())}")
            results.append(result)
        return scenarios, results
    finally:
        for client in clients:
            client.close()
        server.stop()
        log("server stopped")


def print_results(
    args: argparse.Namespace,
    cache_seconds: int,
    scenarios: Sequence[Scenario],
    results: Sequence[ScenarioResult],
) -> None:
    cache = cache_seconds > 0
    title = f"## Results: CATALOG_CACHE_SECONDS={cache_seconds}"
    headers = headers_for(cache=cache)
    rows = result_rows(results, cache=cache)
    extra = breakdown_rows(results, scenarios)
    print(title)
    print(text_table(headers, rows))
    quiet = [f"{100 * r.quiet_before:.0f}%" for r in results if r.quiet_before is not None]
    if quiet:
        print(f"(machine busy just before each scenario: {', '.join(quiet)})")
    for result in results:
        if result.cpu is not None and result.cpu.other >= 0.05:
            top = ", ".join(f"{name} {100 * share:.0f}%" for name, share in result.cpu.top_other)
            print(f"(other CPU during {result.name!r}: {top or 'not attributable'})")
    if extra:
        print()
        print(text_table(HEADERS, extra))
    print()
    if args.markdown:
        print(f"{title} (markdown)\n")
        print(markdown_table(headers, rows))
        if extra:
            print()
            print(markdown_table(HEADERS, extra))
        print()


# --- One-run report (wrk): rates against /health and pgbench -------------------------------
REPORT_ENV_KEYS = (
    "GUNICORN_WORKERS",
    "GUNICORN_THREADS",
    "GUNICORN_MAX_REQUESTS",
    "GUNICORN_MAX_REQUESTS_JITTER",
    "DB_POOL_MIN",
    "DB_POOL_MAX",
    "DB_POOL_TIMEOUT",
)

_CAPTURE_SQL = """
import json, os
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client()
out = {}
for name, path in json.loads(os.environ["KITSU_BENCH_PATHS"]).items():
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200, path
    out[name] = [q["sql"] for q in queries.captured_queries]
print("@@" + json.dumps(out))
"""


def documented_settings(root: Path) -> dict[str, str]:
    """The gunicorn and pool values deploy/kitsu.env.example of ``root`` documents."""
    text = (root / "deploy" / "kitsu.env.example").read_text(encoding="utf-8")
    found = dict(re.findall(r"^(" + "|".join(REPORT_ENV_KEYS) + r")=(\S+)", text, re.MULTILINE))
    return found


def _manage(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def print_tables(args: argparse.Namespace, headers: list[str], rows: list[list[str]]) -> None:
    """One table as text, and again as markdown with ``--markdown``."""
    print(text_table(headers, rows))
    print()
    if args.markdown:
        print(markdown_table(headers, rows))
        print()


# The goals against the old backend, cache off unless the case says cached.
SIDE_BY_SIDE_GOALS = (("list, cached", 10.0), ("detail", 1.5), ("list", 3.0))


def comparison_cases(
    args: argparse.Namespace,
    *,
    detail_ids: list[str],
    cursor_case: str,
    first_offset: int,
    pages: int,
) -> dict[str, tuple[str, list[str]]]:
    """Kitsu's case -> (the other backend's counterpart, its paths), checked to answer 200.

    The other backend has no filters and no cursors: the genre filter is set beside its plain
    list, the deep cursor pages beside offset pages as deep."""
    listing = args.compare_list_path
    separator = "&" if "?" in listing else "?"
    offsets = [f"{listing}{separator}offset={first_offset + k * PAGE_SIZE}" for k in range(pages)]
    details = [args.compare_detail_path.replace("{id}", anime_id) for anime_id in detail_ids]
    cases = {
        "/health": ("/health", ["/health"]),
        "list": ("list", [listing]),
        "list, genre filter by score": ("list (it has no filters)", [listing]),
        cursor_case: (f"list, offset {first_offset}+", offsets),
        "detail": ("detail", details),
        "/health (cache run)": ("/health", ["/health"]),
        "list, cached": ("list (it has no cache)", [listing]),
    }
    base = args.compare_url.rstrip("/")
    with httpx.Client(base_url=base, timeout=30, trust_env=False) as client:
        for path in ["/health", listing, offsets[0], *details[:5]]:
            status = client.get(path).status_code
            if status != 200:
                raise SystemExit(
                    f"{base}{path} answered {status}: --compare-url needs a backend serving the "
                    "same anime (same ids) at --compare-list-path and --compare-detail-path"
                )
    return cases


def median_round(results: Sequence[WrkResult]) -> WrkResult:
    """The round whose rate is the median (the upper one of an even count)."""
    return sorted(results, key=lambda r: r.rate)[len(results) // 2]


def print_side_by_side(
    args: argparse.Namespace,
    kitsu: dict[tuple[str, int], list[WrkResult]],
    beside: dict[tuple[str, int], list[WrkResult]],
    counterparts: dict[str, tuple[str, list[str]]],
) -> None:
    print(f"## Side by side with {args.compare_url} (median rounds, measured back to back)")
    rows = []
    for (name, conns), others in beside.items():
        ours, theirs = median_round(kitsu[(name, conns)]), median_round(others)
        goal = next((g for prefix, g in SIDE_BY_SIDE_GOALS if name.startswith(prefix)), None)
        ratio = ours.rate / theirs.rate if theirs.rate else math.inf
        verdict = "" if goal is None else f">= {goal:g}: {'met' if ratio >= goal else 'NOT met'}"
        rows.append(
            [
                name,
                str(conns),
                f"{ours.rate:.0f}",
                f"{ours.p99_ms:.1f}",
                counterparts[name][0],
                f"{theirs.rate:.0f}",
                f"{theirs.p99_ms:.1f}",
                str(sum(r.errors for r in others)),
                f"{ratio:.2f}",
                verdict,
            ]
        )
    headers = [
        "Kitsu case",
        "conns",
        "Kitsu req/s",
        "Kitsu p99 ms",
        "other's case",
        "other req/s",
        "other p99 ms",
        "other errors",
        "ratio",
        "goal",
    ]
    print_tables(args, headers, rows)


def report_run(args: argparse.Namespace, anime_count: int) -> int:
    from catalog.models import Anime, Genre

    if not wrk_available():
        raise SystemExit("--report needs wrk (apt-get install wrk)")
    raise_open_file_limit()  # --report-connections 1000 needs more than 1,024 descriptors
    root = Path(args.server_root).resolve()
    documented = documented_settings(root)
    documented.update(item.split("=", 1) for item in args.set)  # type: ignore[arg-type]
    base_env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CACHE_KEY_PREFIX": CACHE_KEY_PREFIX,
        "KITSU_ENV": "development",
        "DEBUG": "false",
        "DB_POOL": "true",
        "LOG_LEVEL": "WARNING",
        **documented,
    }
    rebuilt = _manage(root, {**base_env, "DB_POOL": "false"}, "rebuild_anime_documents")
    log(f"rebuild_anime_documents: {(rebuilt.stdout or rebuilt.stderr).strip()[-200:]}")
    rng = random.Random(args.seed)
    ids = list(Anime.objects.public().values_list("id", flat=True))
    detail_paths = [f"/anime/{anime_id}" for anime_id in rng.sample(ids, min(500, len(ids)))]
    genre_paths = [
        f"/anime?genre={slug}&ordering=score&limit={PAGE_SIZE}"
        for slug in Genre.objects.order_by("id").values_list("slug", flat=True)
    ]
    search_paths = [f"/search/anime?q={quote(term)}&limit={PAGE_SIZE}" for _, term in SEARCH_TERMS]
    list_path = f"/anime?limit={PAGE_SIZE}"
    connections = [int(c) for c in args.report_connections.split(",")]
    seconds = args.report_seconds
    rounds = args.report_rounds
    other = args.compare_url.rstrip("/")
    print("## Report (wrk, one run)")
    print(f"- server root: {root} (git {git_commit_of(root)})")
    print(f"- documented settings ({root.name}/deploy/kitsu.env.example): {documented}")
    print(
        f"- wrk: 2 threads, {seconds:.0f}s per case, connections {connections}, "
        f"{rounds} round(s), alternating (each row: the median round)"
    )
    if other:
        print(f"- compared with {other}: each of its cases runs right after Kitsu's counterpart")
    print()
    # (case, conns) -> Kitsu's rounds, and the other backend's rounds measured beside them
    kitsu: dict[tuple[str, int], list[WrkResult]] = {}
    beside: dict[tuple[str, int], list[WrkResult]] = {}
    counterparts: dict[str, tuple[str, list[str]]] = {}
    health_of: dict[str, str] = {}  # case -> the /health case of the same server

    def measure(base_url: str, paths: list[str], conns: int) -> WrkResult:
        if args.report_settle > 0:
            wait_for_quiet(args.report_settle)  # no backlog of the previous case in this one
        return run_wrk(base_url, paths, connections=conns, seconds=seconds)

    with tempfile.TemporaryDirectory(prefix="kitsu-report-") as tmp:
        for cache_seconds in (0, 60):
            flush_bench_cache(args.redis_url)
            port = args.port or free_port()
            command = [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                str(root / "deploy" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
            ]
            env = {**base_env, "CATALOG_CACHE_SECONDS": str(cache_seconds)}
            server = Server(
                command, env, port=port, log_path=Path(tmp) / f"g{cache_seconds}.log", cwd=root
            )
            log(f"starting {shlex.join(command)} in {root} (CATALOG_CACHE_SECONDS={cache_seconds})")
            server.start(timeout=60)
            try:
                with httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as client:
                    if cache_seconds == 0:
                        cursor_paths, page = collect_deep_cursors(
                            client, depth=args.cursor_depth, pages=args.cursor_pages
                        )
                        cursor_case = f"list, cursor page {page}+"
                        cases = [
                            ("/health", ["/health"]),
                            ("list", [list_path]),
                            ("list, genre filter by score", genre_paths),
                            (cursor_case, cursor_paths),
                            ("detail", detail_paths),
                            ("search", search_paths),
                        ]
                        if other:
                            counterparts.update(
                                comparison_cases(
                                    args,
                                    detail_ids=[path.rsplit("/", 1)[1] for path in detail_paths],
                                    cursor_case=cursor_case,
                                    first_offset=(page - 1) * PAGE_SIZE,
                                    pages=len(cursor_paths),
                                )
                            )
                    else:
                        cases = [
                            ("/health (cache run)", ["/health"]),
                            ("list, cached", [list_path]),
                        ]
                wanted = [w.strip() for w in args.report_cases.split(",") if w.strip()]
                if wanted:
                    cases = [
                        c
                        for c in cases
                        if c[0].startswith("/health") or any(w in c[0] for w in wanted)
                    ]
                health_of.update((name, cases[0][0]) for name, _ in cases)
                for name, paths in cases:  # warm-up: every worker, every path kind
                    run_wrk(server.base_url, paths, connections=10, seconds=2)
                    if name in counterparts:
                        run_wrk(other, counterparts[name][1], connections=10, seconds=2)

                for conns in connections:
                    for round_number in range(1, rounds + 1):
                        for name, paths in cases:
                            log(f"wrk {name} at {conns} connections, round {round_number}")
                            kitsu.setdefault((name, conns), []).append(
                                measure(server.base_url, paths, conns)
                            )
                            if name in counterparts:
                                beside.setdefault((name, conns), []).append(
                                    measure(other, counterparts[name][1], conns)
                                )
            finally:
                server.stop()
    rates = {key: median_round(results).rate for key, results in kitsu.items()}
    rows = []
    for (name, conns), results in kitsu.items():
        result = median_round(results)
        health = rates[(health_of[name], conns)]  # the same server's trivial endpoint
        rows.append(
            [
                name,
                str(conns),
                f"{result.rate:.0f}",
                f"{result.p50_ms:.1f}",
                f"{result.p99_ms:.1f}",
                str(sum(r.errors for r in results)),
                f"{result.rate / health:.2f}",
            ]
        )
    headers = ["case", "conns", "req/s", "p50 ms", "p99 ms", "errors", "x /health"]
    print_tables(args, headers, rows)
    if beside:
        print_side_by_side(args, kitsu, beside, counterparts)
    if args.report_cases:
        return 0
    log("capturing the SQL of the list and detail endpoints")
    paths = json.dumps({"list": list_path, "detail": detail_paths[0]})
    captured = _manage(
        root,
        {
            **base_env,
            "DB_POOL": "false",
            "CATALOG_CACHE_SECONDS": "0",
            "KITSU_BENCH_PATHS": paths,
        },
        "shell",
        "-c",
        _CAPTURE_SQL,
    )
    marker = [line for line in captured.stdout.splitlines() if line.startswith("@@")]
    if not marker:
        raise RuntimeError(f"SQL capture failed:\n{captured.stdout}\n{captured.stderr}")
    statements = json.loads(marker[-1][2:])
    print("## Database ceiling (pgbench -M prepared, 10 clients, the endpoints' own SQL)")
    pg_rows = []
    for name in ("list", "detail"):
        tps = run_pgbench(args.database_url, statements[name], clients=10, seconds=seconds)
        api = rates.get((name, 10), math.nan)
        pg_rows.append(
            [name, str(len(statements[name])), f"{tps:.0f}", f"{api:.0f}", f"{api / tps:.2f}"]
        )
    pg_headers = [
        "endpoint",
        "statements",
        "pgbench pages/s",
        "API req/s (10 conns)",
        "API/pgbench",
    ]
    print_tables(args, pg_headers, pg_rows)
    for name, sql in statements.items():
        print(f"- {name} SQL: " + " ; ".join(sql)[:600])
    return 0


def git_commit_of(root: Path) -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
    )
    return result.stdout.strip() or "not a git checkout"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    require_local(args.redis_url, "--redis-url")
    anime_count = prepare_data(args)
    print_environment(args, anime_count)
    print("## Search terms (label, query, matching public anime)")
    for label, term, matches in search_match_counts():
        print(f"- {label}: {term!r} -> {matches}")
    print()
    if args.explain:
        print_explain(args)
    if args.skip_load_test:
        return 0
    if args.report:
        return report_run(args, anime_count)
    runs = [args.cache_seconds]
    if args.compare_cache:
        runs.append(args.cache_on_seconds if args.cache_seconds == 0 else 0)
    cursor_cache: dict[str, Any] = {}
    failed = False
    with tempfile.TemporaryDirectory(prefix="kitsu-bench-") as tmp:
        for cache_seconds in runs:
            scenarios, results = benchmark_run(
                args,
                cache_seconds=cache_seconds,
                anime_count=anime_count,
                log_path=Path(tmp) / f"gunicorn-cache{cache_seconds}.log",
                cursor_cache=cursor_cache,
            )
            print_results(args, cache_seconds, scenarios, results)
            failed = failed or any(r.errors for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
