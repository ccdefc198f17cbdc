"""Catalog data: anime, their releases (seasons/parts), episodes, playback sources, calendar.

Natural keys (for the ingestion upserts): ``Anime.shikimori_id``, ``Genre.shikimori_id`` /
``Genre.name``, ``Studio.name``, ``Release(anime, ordering)``, ``Episode(release, number)``,
``Translation(provider, external_id)``, ``PlaybackSource(episode, translation)``,
``AiringSlot(anime, episode)``.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def normalize_search_text(text: str) -> str:
    """Case-fold and strip accents (``ё`` -> ``е``, ``ō`` -> ``o``) for search on any backend."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())


class Timestamped(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Genre(models.Model):
    class Kind(models.TextChoices):
        GENRE = "genre", "Genre"
        THEME = "theme", "Theme"
        DEMOGRAPHIC = "demographic", "Demographic"

    shikimori_id = models.PositiveIntegerField(unique=True, null=True, blank=True)
    name = models.CharField(max_length=100, unique=True)
    name_ru = models.CharField(max_length=100, blank=True)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.GENRE)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Studio(models.Model):
    shikimori_id = models.PositiveIntegerField(unique=True, null=True, blank=True)
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def public_anime(prefix: str = "") -> Q:
    """What the public API may show: published and not soft-deleted. ``prefix`` applies the
    rule through a relation (``public_anime("anime__")`` on a favorite)."""
    return Q(**{f"{prefix}state": "published", f"{prefix}deleted_at__isnull": True})


class AnimeQuerySet(models.QuerySet["Anime"]):
    def public(self) -> AnimeQuerySet:
        return self.filter(public_anime())


PUBLIC_ANIME = public_anime()


class Anime(Timestamped):
    class Kind(models.TextChoices):
        TV = "tv", "TV"
        MOVIE = "movie", "Movie"
        OVA = "ova", "OVA"
        ONA = "ona", "ONA"
        SPECIAL = "special", "Special"
        TV_SPECIAL = "tv_special", "TV special"
        MUSIC = "music", "Music"
        PV = "pv", "PV"
        CM = "cm", "CM"

    class Status(models.TextChoices):
        ANONS = "anons", "Announced"
        ONGOING = "ongoing", "Ongoing"
        RELEASED = "released", "Released"

    class Season(models.TextChoices):
        WINTER = "winter", "Winter"
        SPRING = "spring", "Spring"
        SUMMER = "summer", "Summer"
        FALL = "fall", "Fall"

    class Rating(models.TextChoices):
        NONE = "none", "None"
        G = "g", "G"
        PG = "pg", "PG"
        PG_13 = "pg_13", "PG-13"
        R = "r", "R-17"
        R_PLUS = "r_plus", "R+"
        RX = "rx", "Rx"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        PENDING = "pending", "Pending review"
        PUBLISHED = "published", "Published"
        BROKEN = "broken", "Broken"
        ARCHIVED = "archived", "Archived"

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        PARSER = "parser", "Parser"
        IMPORT = "import", "Import"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shikimori_id = models.PositiveIntegerField(unique=True, null=True, blank=True)
    mal_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)

    title = models.CharField(max_length=255)
    title_original = models.CharField("original (romaji) title", max_length=255, blank=True)
    title_ru = models.CharField("Russian title", max_length=255, blank=True)
    title_en = models.CharField("English title", max_length=255, blank=True)
    title_ja = models.CharField("Japanese title", max_length=255, blank=True)
    synonyms = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)
    poster_url = models.URLField(max_length=500, blank=True)

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TV)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ANONS)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    season = models.CharField(max_length=8, choices=Season.choices, blank=True)
    aired_on = models.DateField(null=True, blank=True)
    released_on = models.DateField(null=True, blank=True)
    episodes_total = models.PositiveIntegerField(default=0)
    episodes_aired = models.PositiveIntegerField(default=0)
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    rating = models.CharField(max_length=8, choices=Rating.choices, default=Rating.NONE)
    score = models.DecimalField(max_digits=4, decimal_places=2, default=0)
    franchise = models.CharField(max_length=200, blank=True, db_index=True)
    next_episode_at = models.DateTimeField(null=True, blank=True)

    genres = models.ManyToManyField(Genre, related_name="anime", blank=True)
    studios = models.ManyToManyField(Studio, related_name="anime", blank=True)

    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delete_reason = models.CharField(max_length=500, blank=True)

    # Editorial locks: a locked record, or the fields listed here, are never written by sync.
    is_locked = models.BooleanField(default=False)
    locked_fields = models.JSONField(default=list, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    locked_reason = models.CharField(max_length=500, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    # The anime's id at the stream provider (aniwatch-api), e.g. "steinsgate-3"; blank = unmapped.
    stream_id = models.CharField(max_length=200, blank=True)

    # Every title variant, normalized (normalize_search_text); kept in step by save().
    search_document = models.TextField(blank=True, editable=False)

    objects = AnimeQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "anime"
        ordering = ["-created_at"]
        indexes = [
            # Public list orderings and filters: partial indexes over the visible rows only.
            models.Index(
                fields=["-created_at", "-id"], name="anime_pub_newest", condition=PUBLIC_ANIME
            ),
            models.Index(fields=["-score", "-id"], name="anime_pub_score", condition=PUBLIC_ANIME),
            models.Index(fields=["title", "id"], name="anime_pub_title", condition=PUBLIC_ANIME),
            models.Index(fields=["-year", "-id"], name="anime_pub_year", condition=PUBLIC_ANIME),
            models.Index(fields=["kind"], name="anime_pub_kind", condition=PUBLIC_ANIME),
            models.Index(fields=["status"], name="anime_pub_status", condition=PUBLIC_ANIME),
            models.Index(
                fields=["year", "season"], name="anime_pub_season", condition=PUBLIC_ANIME
            ),
            # Editor views filter on the workflow state.
            models.Index(fields=["state", "-updated_at"], name="anime_state_updated"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: object, **kwargs: object) -> None:
        self.search_document = self.build_search_document()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_document"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def is_field_locked(self, field: str) -> bool:
        return self.is_locked or field in (self.locked_fields or [])

    def differs_from(self, values: Mapping[str, Any]) -> bool:
        """Would writing ``values`` (field name -> value) change this row?"""
        return any(getattr(self, name) != value for name, value in values.items())

    def title_variants(self) -> Iterable[str]:
        yield from (self.title, self.title_original, self.title_ru, self.title_en, self.title_ja)
        yield from (s for s in self.synonyms or [] if isinstance(s, str))

    def build_search_document(self) -> str:
        seen: dict[str, None] = {}
        for variant in self.title_variants():
            normalized = normalize_search_text(variant or "")
            if normalized:
                seen.setdefault(normalized, None)
        return " | ".join(seen)


class Release(Timestamped):
    """A season or part of an anime (Kodik's seasons, a film, a split cour)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    anime = models.ForeignKey(Anime, on_delete=models.CASCADE, related_name="releases")
    ordering = models.PositiveSmallIntegerField(default=1, help_text="Season/part number")
    title = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Anime.Kind.choices, default=Anime.Kind.TV)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Anime.Status.choices, default=Anime.Status.RELEASED
    )

    class Meta:
        ordering = ["anime", "ordering"]
        constraints = [
            models.UniqueConstraint(fields=["anime", "ordering"], name="release_anime_ordering"),
        ]
        indexes = [models.Index(fields=["-created_at", "-id"], name="release_newest")]

    def __str__(self) -> str:
        return f"{self.anime_id} / {self.title}"


class Episode(Timestamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="episodes")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=255, blank=True)
    air_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["release", "number"]
        constraints = [
            models.UniqueConstraint(fields=["release", "number"], name="episode_release_number"),
        ]

    def __str__(self) -> str:
        return f"Episode {self.number}"


class Translation(models.Model):
    """A dub/sub team of a provider (Kodik translation id, or a stream provider's server)."""

    class Provider(models.TextChoices):
        KODIK = "kodik", "Kodik"
        STREAM = "stream", "Stream provider"
        # The demo catalog's own placeholder translations (catalog/demo.py): never Kodik's.
        DEMO = "demo", "Demo catalog"

    class Kind(models.TextChoices):
        VOICE = "voice", "Voice-over"
        SUBTITLES = "subtitles", "Subtitles"
        RAW = "raw", "Raw"

    provider = models.CharField(max_length=16, choices=Provider.choices)
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.VOICE)

    class Meta:
        ordering = ["provider", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="translation_provider_external"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()}, {self.provider})"


class PlaybackSource(Timestamped):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="sources")
    translation = models.ForeignKey(Translation, on_delete=models.PROTECT, related_name="sources")
    url = models.URLField(max_length=1000, help_text="Player (iframe) or stream URL")
    quality = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["episode", "translation"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "translation"], name="playback_episode_translation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.translation} -> {self.url}"


class AnimeRelation(models.Model):
    """One edge of Shikimori's franchise graph: ``anime``'s ``kind`` (sequel, prequel...) is
    the anime whose Shikimori id is ``related_shikimori_id``. Stored by Shikimori id (never
    matched by title), so an edge to an anime Kitsu imports later starts resolving then."""

    class Kind(models.TextChoices):
        PREQUEL = "prequel", "Prequel"
        SEQUEL = "sequel", "Sequel"
        PARENT_STORY = "parent_story", "Parent story"
        SIDE_STORY = "side_story", "Side story"
        FULL_STORY = "full_story", "Full story"
        SUMMARY = "summary", "Summary"
        SPIN_OFF = "spin_off", "Spin-off"
        ALTERNATIVE_VERSION = "alternative_version", "Alternative version"
        ALTERNATIVE_SETTING = "alternative_setting", "Alternative setting"
        ADAPTATION = "adaptation", "Adaptation"
        CHARACTER = "character", "Character"
        OTHER = "other", "Other"

    anime = models.ForeignKey(Anime, on_delete=models.CASCADE, related_name="relations")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    related_shikimori_id = models.PositiveIntegerField(db_index=True)

    class Meta:
        ordering = ["anime", "kind", "related_shikimori_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["anime", "kind", "related_shikimori_id"], name="anime_relation_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.anime_id} {self.kind} -> shikimori {self.related_shikimori_id}"


class AiringSlot(models.Model):
    """One upcoming episode in the airing calendar (times stored in UTC)."""

    anime = models.ForeignKey(Anime, on_delete=models.CASCADE, related_name="airing_slots")
    episode = models.PositiveIntegerField()
    airs_at = models.DateTimeField(db_index=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["airs_at"]
        constraints = [
            models.UniqueConstraint(fields=["anime", "episode"], name="airing_anime_episode"),
        ]

    def __str__(self) -> str:
        return f"{self.anime_id} #{self.episode} at {self.airs_at:%Y-%m-%d %H:%M}"


class AnimeDocument(models.Model):
    """The read model of one anime: its card and detail JSON, as the public API serves them.

    Kept correct by database triggers (migration ``0006_anime_documents``), not by the code
    that writes: any change to the anime row, its genres or studios (the rows or the links)
    or its releases, by whatever path (ORM, ``update()``, bulk writes, raw SQL, admin,
    imports), bumps ``version`` and clears ``card`` and ``detail`` in the same transaction.
    ``catalog.documents`` rebuilds a cleared document on commit and, for any still cleared when
    read, within the request; the rebuild stores it only if ``version`` is unchanged. Whether an
    anime is public is never taken from here: reads filter the live anime row.
    """

    anime = models.OneToOneField(
        Anime,
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the delete trigger removes the row with the anime
        db_constraint=False,
        related_name="document",
    )
    version = models.BigIntegerField(default=0)
    # NULL, not "": a cleared document (the stale marker the rebuild and its index look for).
    card = models.TextField(null=True)  # noqa: DJ001
    detail = models.TextField(null=True)  # noqa: DJ001

    class Meta:
        indexes = [
            models.Index(
                fields=["anime"], name="animedocument_stale", condition=Q(card__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"document of {self.anime_id} (v{self.version})"


class SearchWord(models.Model):
    """Every distinct word of every anime's ``search_document`` (PostgreSQL only).

    Typo tolerance looks up the query's words here (short strings under a trigram index) and
    searches the full-text index with the words found, instead of running a trigram recheck
    over every candidate's whole document: the word-table approach of the pg_trgm
    documentation. Filled by a trigger on ``catalog_anime`` (migration
    ``0007_search_words``); words are never removed (a word no anime has any more only widens
    a query to nothing)."""

    word = models.TextField(primary_key=True)

    def __str__(self) -> str:
        return self.word
