"""Reads of users' libraries. Only anime that are public now are listed: unpublished or
soft-deleted anime drop out of the lists and come back when republished (rows are kept)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from accounts.models import User
from catalog.models import Anime, Episode, normalize_search_text, public_anime
from library.models import (
    COMPLETED_PERCENT,
    EpisodeView,
    Favorite,
    LibraryEntry,
    WatchProgress,
)

_VISIBLE = public_anime("anime__")  # the public-catalog rule, seen from a user's row


def favorite_list(*, user: User, anime_id: uuid.UUID | None = None) -> QuerySet[Favorite]:
    favorites = Favorite.objects.filter(_VISIBLE, user=user).select_related("anime")
    if anime_id is not None:
        favorites = favorites.filter(anime_id=anime_id)
    return favorites.order_by("-created_at", "-id")


@dataclass(frozen=True)
class ContinueItem:
    progress: WatchProgress
    next_episode: int | None


def continue_watching(*, user: User, limit: int) -> list[ContinueItem]:
    """Last watched first. When the current episode is finished (>= 90 %) and the anime has a
    next one (an Episode row, or episodes_aired beyond it), point at it."""
    has_next_row = Episode.objects.filter(
        release__anime_id=OuterRef("anime_id"), number=OuterRef("episode") + 1
    )
    rows = (
        WatchProgress.objects.filter(_VISIBLE, user=user)
        .select_related("anime")
        .annotate(has_next_row=Exists(has_next_row))
        .order_by("-last_watched_at", "-id")[:limit]
    )
    items = []
    for progress in rows:
        next_episode = None
        if progress.progress_percent >= COMPLETED_PERCENT:
            aired = progress.anime.episodes_aired
            if progress.has_next_row or progress.episode < aired:
                next_episode = progress.episode + 1
        items.append(ContinueItem(progress, next_episode))
    return items


def watch_history(*, user: User, anime_id: uuid.UUID | None) -> QuerySet[EpisodeView]:
    views = EpisodeView.objects.filter(_VISIBLE, user=user)
    if anime_id is not None:
        return views.filter(anime_id=anime_id).order_by("episode")
    return views.order_by("-last_watched_at", "-id")


def library_list(*, user: User, status: str | None) -> QuerySet[LibraryEntry]:
    entries = LibraryEntry.objects.filter(_VISIBLE, user=user).select_related("anime")
    if status:
        entries = entries.filter(status=status)
    return entries.order_by("-updated_at", "-id")


# --- AniList import matching ---------------------------------------------------------------

# AniList list status -> (Kitsu library status, the legacy label the frontend shows).
ANILIST_STATUSES: dict[str, tuple[str, str]] = {
    "CURRENT": (LibraryEntry.Status.WATCHING, "watching"),
    "REPEATING": (LibraryEntry.Status.REWATCHING, "watching"),
    "COMPLETED": (LibraryEntry.Status.COMPLETED, "completed"),
    "PLANNING": (LibraryEntry.Status.PLANNED, "plan to watch"),
    "DROPPED": (LibraryEntry.Status.DROPPED, "dropped"),
    "PAUSED": (LibraryEntry.Status.ON_HOLD, "on hold"),
}
ANILIST_STATUS_CHOICES = sorted(ANILIST_STATUSES)


@dataclass(frozen=True)
class ImportEntry:
    anilist_id: int | None
    mal_id: int | None
    titles: tuple[str, ...]  # english, romaji, native: as AniList sends them
    list_status: str  # AniList status (CURRENT, ...)


@dataclass(frozen=True)
class ImportMatch:
    entry: ImportEntry
    anime: Anime | None
    matched_by: str  # "mal_id", "title" or "" when unmatched

    @property
    def library_status(self) -> str:
        return ANILIST_STATUSES[self.entry.list_status][0]

    @property
    def label(self) -> str:
        """The legacy status label the frontend shows."""
        return ANILIST_STATUSES[self.entry.list_status][1]

    @property
    def entry_title(self) -> str | None:
        return next((title for title in self.entry.titles if title), None)


def anilist_match(entries: list[ImportEntry]) -> list[ImportMatch]:
    """MAL id first (Kitsu anime carry ``mal_id``), then an exact normalized title match
    over every title variant. Two queries whatever the list size."""
    public = Anime.objects.public()
    by_mal = {
        anime.mal_id: anime
        for anime in public.filter(mal_id__in=[e.mal_id for e in entries if e.mal_id])
    }
    wanted = {
        title.strip().lower()
        for entry in entries
        if not (entry.mal_id and entry.mal_id in by_mal)
        for title in entry.titles
        if title and title.strip()
    }
    by_title: dict[str, Anime] = {}
    if wanted:
        fields = ("title", "title_en", "title_original", "title_ja")
        lowered = public.annotate(**{f"{f}_lower": Lower(f) for f in fields})
        lookup = Q()
        for field in fields:
            lookup |= Q(**{f"{field}_lower__in": wanted})
        # Best-scored first, so a title shared by two anime maps to the better known one.
        for anime in lowered.filter(lookup).order_by("score", "id"):
            for variant in anime.title_variants():
                by_title[normalize_search_text(variant or "")] = anime
    matches = []
    for entry in entries:
        if entry.mal_id and entry.mal_id in by_mal:
            matches.append(ImportMatch(entry, by_mal[entry.mal_id], "mal_id"))
            continue
        hit = next(
            (
                by_title[n]
                for n in (normalize_search_text(t) for t in entry.titles if t)
                if n in by_title
            ),
            None,
        )
        matches.append(ImportMatch(entry, hit, "title" if hit else ""))
    return matches
