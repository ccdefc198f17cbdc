"""Writes to users' libraries. Synchronous, transactional and durable (audit finding 1.1):
a 2xx means the row is committed in PostgreSQL."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.utils import timezone
from rest_framework import status

from accounts.models import User
from catalog.models import Anime
from kitsu.api import DB_INT_MAX
from kitsu.errors import ApiError, BadRequest, NotFound
from library.models import COMPLETED_PERCENT, EpisodeView, Favorite, LibraryEntry, WatchProgress
from library.selectors import ImportEntry, ImportMatch, anilist_match


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT


def _public_anime(anime_id: uuid.UUID) -> Anime:
    anime = Anime.objects.public().filter(id=anime_id).first()
    if anime is None:
        raise NotFound("Anime not found")
    return anime


def favorite_add(*, user: User, anime_id: uuid.UUID) -> Favorite:
    """Add a favorite; a second add of the same anime is a 409, also under a race (the unique
    constraint decides, and the loser's IntegrityError becomes the 409)."""
    anime = _public_anime(anime_id)
    try:
        with transaction.atomic():
            return Favorite.objects.create(user=user, anime=anime)
    except IntegrityError as exc:
        raise Conflict("Favorite already exists") from exc


def favorite_remove(*, user: User, favorite_or_anime_id: uuid.UUID) -> None:
    """Remove by anime id or by favorite id (the frontend sends either); idempotent."""
    with transaction.atomic():
        Favorite.objects.filter(
            Q(anime_id=favorite_or_anime_id) | Q(id=favorite_or_anime_id), user=user
        ).delete()


@dataclass(frozen=True)
class ProgressInput:
    anime_id: uuid.UUID
    episode: int
    position_seconds: float | None = None
    progress_percent: float | None = None
    watched_at: datetime | None = None


def _validate(data: ProgressInput) -> tuple[int | None, float | None]:
    if not 0 < data.episode <= DB_INT_MAX:
        raise BadRequest(f"episode must be between 1 and {DB_INT_MAX}")
    position = None
    if data.position_seconds is not None:
        if not math.isfinite(data.position_seconds) or not (
            0 <= data.position_seconds <= DB_INT_MAX
        ):
            raise BadRequest(f"position_seconds must be between 0 and {DB_INT_MAX}")
        position = int(data.position_seconds)  # the player reports floats; keep whole seconds
    percent = None
    if data.progress_percent is not None:
        if not math.isfinite(data.progress_percent):
            raise BadRequest("progress_percent must be a number")
        percent = min(100.0, max(0.0, data.progress_percent))
    return position, percent


def _apply(
    row: WatchProgress | EpisodeView,
    *,
    episode: int,
    position: int | None,
    percent: float | None,
    at: datetime,
) -> bool:
    """Move ``row`` to this write unless it is older than what the row already holds.

    A write without position and percent ("episode started") on the episode the row already
    points at keeps the stored position: it must not erase a later one.
    """
    if at < row.last_watched_at:
        return False  # out of order: an older write from another tab loses
    same_episode = getattr(row, "episode", episode) == episode
    started_only = position is None and percent is None
    if not (started_only and same_episode):
        row.position_seconds = position if position is not None else 0
        row.progress_percent = percent if percent is not None else 0.0
    if isinstance(row, WatchProgress):
        row.episode = episode
    row.last_watched_at = at
    return True


M = TypeVar("M", bound=Model)


def _locked_or_created(model: type[M], defaults: dict[str, Any], **key: Any) -> tuple[M, bool]:
    """The row for ``key`` locked FOR UPDATE, created first if missing (race-safe)."""
    row = model._default_manager.select_for_update().filter(**key).first()
    if row is not None:
        return row, False
    try:
        with transaction.atomic():
            return model._default_manager.create(**key, **defaults), True
    except IntegrityError:  # created meanwhile by a concurrent request: lock that one
        return model._default_manager.select_for_update().get(**key), False


def watch_progress_record(*, user: User, data: ProgressInput) -> WatchProgress:
    """Upsert the (user, anime) progress and the episode's history; move the list status.

    Writes are ordered by their time (``watched_at`` from the client, else arrival): the row
    is locked, and a write older than the stored one changes nothing, so two tabs can never
    move progress back to an older state.
    """
    position, percent = _validate(data)
    anime = _public_anime(data.anime_id)
    at = data.watched_at or timezone.now()
    values = {
        "episode": data.episode,
        "position_seconds": position or 0,
        "progress_percent": percent or 0.0,
        "last_watched_at": at,
    }
    with transaction.atomic():
        progress, created = _locked_or_created(WatchProgress, values, user=user, anime=anime)
        changed = created or _apply(
            progress, episode=data.episode, position=position, percent=percent, at=at
        )
        if changed and not created:
            progress.save()
        view_values = {k: v for k, v in values.items() if k != "episode"}
        view, view_created = _locked_or_created(
            EpisodeView, view_values, user=user, anime=anime, episode=data.episode
        )
        if not view_created and _apply(
            view, episode=data.episode, position=position, percent=percent, at=at
        ):
            view.save()
        if changed:
            _follow_progress_in_library(user=user, anime=anime, progress=progress)
    return progress


def _follow_progress_in_library(*, user: User, anime: Anime, progress: WatchProgress) -> None:
    """Planned (or no entry) -> watching; the last episode finished -> completed."""
    entry, _ = _locked_or_created(
        LibraryEntry, {"status": LibraryEntry.Status.WATCHING}, user=user, anime=anime
    )
    finished = progress.progress_percent >= COMPLETED_PERCENT
    watched = progress.episode if finished else progress.episode - 1
    last_episode = anime.episodes_total or (
        anime.episodes_aired if anime.status == Anime.Status.RELEASED else 0
    )
    if finished and last_episode and progress.episode >= last_episode:
        entry.status = LibraryEntry.Status.COMPLETED
    elif entry.status in (LibraryEntry.Status.PLANNED, LibraryEntry.Status.ON_HOLD):
        entry.status = LibraryEntry.Status.WATCHING
    entry.episodes_watched = max(entry.episodes_watched, watched)
    entry.updated_at = timezone.now()
    entry.save()


def library_entry_set(
    *, user: User, anime_id: uuid.UUID, status: str, score: int | None, episodes_watched: int | None
) -> tuple[LibraryEntry, bool]:
    anime = _public_anime(anime_id)
    with transaction.atomic():
        entry, created = _locked_or_created(
            LibraryEntry, {"status": status}, user=user, anime=anime
        )
        entry.status = status
        entry.score = score
        if episodes_watched is not None:
            entry.episodes_watched = episodes_watched
        entry.updated_at = timezone.now()
        entry.save()
    return entry, created


def library_entry_remove(*, user: User, anime_id: uuid.UUID) -> None:
    with transaction.atomic():
        LibraryEntry.objects.filter(user=user, anime_id=anime_id).delete()


# --- AniList import -------------------------------------------------------------------------


def anilist_import(*, entries: list[ImportEntry], user: User | None) -> list[ImportMatch]:
    """Match AniList entries to Kitsu anime; for a signed-in user also write the statuses into
    the library, all in one transaction and idempotently (a re-import changes nothing new)."""
    matches = anilist_match(entries)
    if user is None:
        return matches
    with transaction.atomic():
        for match in matches:
            if match.anime is None:
                continue
            status_value = match.library_status
            entry, _ = _locked_or_created(
                LibraryEntry, {"status": status_value}, user=user, anime=match.anime
            )
            if entry.status != status_value:
                entry.status = status_value
                entry.updated_at = timezone.now()
                entry.save(update_fields=["status", "updated_at"])
    return matches
