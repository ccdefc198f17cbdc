"""The demo catalog shipped in the repository (catalog/demo/catalog.json) and its loader."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.cache import catalog_changed
from catalog.models import (
    AiringSlot,
    Anime,
    Episode,
    Genre,
    PlaybackSource,
    Release,
    Translation,
)
from catalog.services import GenreData, StudioData, genres_upsert, studios_upsert
from catalog.titles import display_title

DEMO_CATALOG_PATH = Path(__file__).resolve().parent / "demo" / "catalog.json"

# Demo player links point at a reserved, non-resolving domain: the embedded mode has no
# upstream. Real links come from the Kodik sync (ingestion). The demo translations are the
# demo provider's own (provider "demo", ids that are no provider's ids), so a Kodik sync never
# mistakes them for its own and never retires them, and the player tells them apart.
DEMO_PLAYER_HOST = "https://player.kitsu-demo.invalid"
DEMO_TRANSLATIONS = [
    ("anilibria", "AniLibria.TV", Translation.Kind.VOICE),
    ("anidub", "AniDUB", Translation.Kind.VOICE),
    ("shiza", "SHIZA Project", Translation.Kind.VOICE),
    ("subtitles", "Субтитры", Translation.Kind.SUBTITLES),
]
_ANIME_FIELDS = [
    "mal_id",
    "title_original",
    "title_ru",
    "title_en",
    "title_ja",
    "synonyms",
    "description",
    "kind",
    "status",
    "year",
    "season",
    "aired_on",
    "released_on",
    "episodes_total",
    "episodes_aired",
    "rating",
    "score",
    "franchise",
]


@dataclass
class DemoLoadReport:
    anime_created: int = 0
    anime_updated: int = 0
    anime_unchanged: int = 0
    episodes: int = 0
    sources: int = 0
    airing_slots: int = 0


def _anime_values(item: dict[str, Any]) -> dict[str, Any]:
    values = {name: item.get(name) for name in _ANIME_FIELDS}
    for text in ("title_original", "title_ru", "title_en", "title_ja", "description", "season"):
        values[text] = values[text] or ""
    values["franchise"] = values["franchise"] or ""
    # The title rule of the sync too (catalog/titles.py), so a sync never renames demo anime.
    values["title"] = display_title(
        original=item["title_original"], english=item.get("title_en"), russian=item.get("title_ru")
    )
    values["synonyms"] = [s for s in values["synonyms"] or [] if s]
    values["score"] = Decimal(str(item.get("score") or 0)).quantize(Decimal("0.01"))
    values["rating"] = values["rating"] or Anime.Rating.NONE
    values["duration_minutes"] = item.get("duration")
    values["poster_url"] = item.get("poster_url") or (
        f"https://shikimori.one/system/animes/original/{item['shikimori_id']}.jpg"
    )
    for day in ("aired_on", "released_on"):
        raw = item.get(day)
        values[day] = date.fromisoformat(raw) if raw else None
    values["episodes_total"] = values["episodes_total"] or 0
    values["episodes_aired"] = values["episodes_aired"] or 0
    return values


def _episode_count(anime: Anime) -> int:
    if anime.kind == Anime.Kind.MOVIE:
        return 1 if anime.status != Anime.Status.ANONS else 0
    if anime.status == Anime.Status.RELEASED:
        return anime.episodes_aired or anime.episodes_total
    return anime.episodes_aired


def _airing_slots(anime: Anime, now: datetime) -> list[AiringSlot]:
    """The next two episodes of an ongoing show on its weekly slot; the premiere of an anons."""
    hour = zlib.crc32(str(anime.shikimori_id).encode()) % 24
    if anime.status == Anime.Status.ANONS and anime.aired_on and anime.aired_on >= now.date():
        airs_at = datetime.combine(anime.aired_on, time(hour), tzinfo=UTC)
        return [AiringSlot(anime=anime, episode=1, airs_at=airs_at)]
    if anime.status != Anime.Status.ONGOING:
        return []
    weekday = (anime.aired_on or now.date()).weekday()
    days_ahead = (weekday - now.weekday()) % 7
    first = datetime.combine(now.date() + timedelta(days=days_ahead), time(hour), tzinfo=UTC)
    if first <= now:
        first += timedelta(days=7)
    slots = []
    for offset in range(2):
        number = anime.episodes_aired + 1 + offset
        if anime.episodes_total and number > anime.episodes_total:
            break
        duration = anime.duration_minutes * 60 if anime.duration_minutes else None
        slots.append(
            AiringSlot(
                anime=anime,
                episode=number,
                airs_at=first + timedelta(days=7 * offset),
                duration_seconds=duration,
            )
        )
    return slots


def demo_catalog_load(
    *, path: Path = DEMO_CATALOG_PATH, now: datetime | None = None
) -> DemoLoadReport:
    """Load (or refresh) the demo catalog shipped in the repository; safe to run again.

    Everything is upserted by natural key (shikimori_id, (release, number), ...), so a second
    run changes nothing and creates no duplicates. Demo anime are published.
    """
    now = now or timezone.now()
    data = json.loads(path.read_text(encoding="utf-8"))
    report = DemoLoadReport()
    with transaction.atomic():
        genres = genres_upsert(
            GenreData(
                name=item["name"],
                shikimori_id=item.get("shikimori_id"),
                name_ru=item.get("name_ru") or "",
                kind=item.get("kind") or Genre.Kind.GENRE,
            )
            for item in data["genres"]
        )
        studios = studios_upsert(
            StudioData(name=item["name"], shikimori_id=item.get("shikimori_id"))
            for item in data["studios"]
        )
        translations = [
            Translation.objects.update_or_create(
                provider=Translation.Provider.DEMO,
                external_id=external_id,
                defaults={"name": name, "kind": kind},
            )[0]
            for external_id, name, kind in DEMO_TRANSLATIONS
        ]
        existing = {a.shikimori_id: a for a in Anime.objects.filter(shikimori_id__isnull=False)}
        loaded: list[Anime] = []
        for item in data["anime"]:
            values = _anime_values(item)
            anime = existing.get(item["shikimori_id"])
            if anime is None:
                anime = Anime(
                    shikimori_id=item["shikimori_id"],
                    state=Anime.State.PUBLISHED,
                    source=Anime.Source.IMPORT,
                    **values,
                )
                anime.save()
                report.anime_created += 1
            elif anime.differs_from(values):
                for name, value in values.items():
                    setattr(anime, name, value)
                anime.save()
                report.anime_updated += 1
            else:
                report.anime_unchanged += 1
            anime.genres.set([genres[name] for name in item["genres"]])
            anime.studios.set([studios[name] for name in item["studios"]])
            loaded.append(anime)

        releases = []
        for anime in loaded:
            release, _ = Release.objects.update_or_create(
                anime=anime,
                ordering=1,
                defaults={
                    "title": anime.title,
                    "kind": anime.kind,
                    "year": anime.year,
                    "status": anime.status,
                },
            )
            releases.append((anime, release))

        episodes = [
            Episode(
                release=release,
                number=number,
                air_date=(
                    anime.aired_on + timedelta(days=7 * (number - 1)) if anime.aired_on else None
                ),
            )
            for anime, release in releases
            for number in range(1, _episode_count(anime) + 1)
        ]
        Episode.objects.bulk_create(
            episodes,
            update_conflicts=True,
            unique_fields=["release", "number"],
            update_fields=["air_date"],
            batch_size=1000,
        )
        report.episodes = len(episodes)

        saved = Episode.objects.filter(release__in=[r for _, r in releases]).select_related(
            "release__anime"
        )
        sources = []
        for episode in saved.iterator(chunk_size=2000):
            anime = episode.release.anime
            # Two to four translations per anime, chosen deterministically.
            count = 2 + zlib.crc32(str(anime.shikimori_id).encode()) % 3
            for translation in translations[:count]:
                sources.append(
                    PlaybackSource(
                        episode=episode,
                        translation=translation,
                        url=(
                            f"{DEMO_PLAYER_HOST}/seria/{anime.shikimori_id}/{episode.number}/"
                            f"{translation.external_id}/720p"
                        ),
                        quality="720p",
                    )
                )
        PlaybackSource.objects.bulk_create(
            sources,
            update_conflicts=True,
            unique_fields=["episode", "translation"],
            update_fields=["url", "quality"],
            batch_size=1000,
        )
        report.sources = len(sources)

        slots = [slot for anime in loaded for slot in _airing_slots(anime, now)]
        AiringSlot.objects.bulk_create(
            slots,
            update_conflicts=True,
            unique_fields=["anime", "episode"],
            update_fields=["airs_at", "duration_seconds"],
        )
        report.airing_slots = len(slots)
        next_airing = {slot.anime.pk: slot.airs_at for slot in reversed(slots)}
        for anime in loaded:
            wanted = next_airing.get(anime.pk)
            if anime.next_episode_at != wanted:
                anime.next_episode_at = wanted
                anime.save(update_fields=["next_episode_at"])
        catalog_changed()  # bulk writes send no signals
    return report
