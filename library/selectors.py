"""Reads of users' libraries. Only anime that are public now are listed: unpublished or
soft-deleted anime drop out of the lists and come back when republished (rows are kept)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import User
from catalog.models import Episode, public_anime
from library.models import EpisodeView, Favorite, LibraryEntry, WatchProgress
from library.services import COMPLETED_PERCENT

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
