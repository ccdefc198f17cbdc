"""The catalog's writes: the editorial workflow on anime (contract B.5.1), shared by the admin
API and the Django admin, and the genre/studio upsert shared by the demo loader and the sync.

States move only along ``TRANSITIONS``; publishing needs playable video; every write records an
audit entry in its own transaction; locked fields change only for holders of ``anime.unlock``.
(The demo catalog loader is ``catalog.demo``; the upstream sync is ``ingestion.sync``.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify
from rest_framework import status

from accounts.audit import audit_record
from accounts.models import AuditEntry, User
from accounts.permissions import has_permission
from catalog.models import Anime, Genre, PlaybackSource, Studio
from catalog.selectors import anime_problems, with_video
from kitsu.errors import ApiError, BadRequest, NotFound

State = Anime.State
TRANSITIONS: dict[str, set[str]] = {
    State.DRAFT: {State.PENDING, State.BROKEN, State.ARCHIVED},
    State.PENDING: {State.PUBLISHED, State.DRAFT, State.BROKEN, State.ARCHIVED},
    State.PUBLISHED: {State.ARCHIVED, State.BROKEN},
    State.BROKEN: {State.DRAFT, State.PENDING, State.ARCHIVED},
    State.ARCHIVED: {State.DRAFT},
}
EDITABLE_FIELDS = (
    "title",
    "title_ru",
    "title_en",
    "title_original",
    "description",
    "poster_url",
    "year",
    "season",
    "status",
    "genres",
)
LOCKABLE_FIELDS = (
    *EDITABLE_FIELDS,
    "title_ja",
    "synonyms",
    "kind",
    "episodes_total",
    "episodes_aired",
    "next_episode_at",
    "studios",
    "score",
)


class Gone(ApiError):
    status_code = status.HTTP_410_GONE


class Locked(ApiError):
    status_code = status.HTTP_423_LOCKED


def snapshot(anime: Anime) -> dict[str, Any]:
    values = {name: getattr(anime, name) for name in EDITABLE_FIELDS if name != "genres"}
    values["genres"] = sorted(anime.genres.values_list("name", flat=True))
    values.update(state=anime.state, is_locked=anime.is_locked, locked_fields=anime.locked_fields)
    return {
        key: (
            str(value)
            if value is not None and not isinstance(value, (str, int, bool, list))
            else value
        )
        for key, value in values.items()
    }


@dataclass(frozen=True)
class UpdateResult:
    anime: Anime
    audit: AuditEntry
    warnings: list[str]


def _locked_anime(anime_id: str) -> Anime:
    anime = with_video(Anime.objects.select_for_update(of=("self",))).filter(pk=anime_id).first()
    if anime is None:
        raise NotFound("Anime not found")
    return anime


def _check_transition(anime: Anime, target: str, has_video: bool) -> None:
    if target == anime.state:
        return
    if target not in TRANSITIONS.get(anime.state, set()):
        raise BadRequest(f"Invalid state transition: {anime.state} -> {target}")
    if target == State.PUBLISHED and not has_video:
        raise BadRequest("Cannot publish: no playable episode (video content required)")


def anime_update(
    *, request: HttpRequest, anime_id: str, changes: dict[str, Any], reason: str = ""
) -> UpdateResult:
    """PATCH semantics of the admin API: fields and/or ``state``, audited as ``anime.update``."""
    if not changes:
        raise BadRequest("No fields to update")
    user: User = request.user  # type: ignore[assignment]
    with transaction.atomic():
        anime = _locked_anime(anime_id)
        if anime.deleted_at is not None:
            raise Gone("Anime is deleted")
        fields = [name for name in changes if name != "state"]
        locked = [name for name in fields if anime.is_field_locked(name)]
        if locked and not has_permission(user, "anime.unlock"):
            raise Locked(f"Locked fields: {', '.join(sorted(locked))}")
        before = snapshot(anime)
        warnings: list[str] = []
        if "state" in changes:
            _check_transition(anime, changes["state"], anime.has_video)  # type: ignore[attr-defined]
            anime.state = changes["state"]
        genres = changes.pop("genres", None)
        for name in fields:
            if name != "genres":
                value = changes[name]
                setattr(anime, name, "" if value is None and name != "year" else value)
        anime.updated_by = user
        anime.source = Anime.Source.MANUAL
        warnings += _break_on_problems(anime, has_video=anime.has_video)  # type: ignore[attr-defined]
        anime.save()
        if genres is not None:
            anime.genres.set(Genre.objects.filter(name__in=genres))
        entry = audit_record(
            request=request,
            action="anime.update",
            entity_type="anime",
            entity_id=str(anime.pk),
            before=before,
            after=snapshot(anime),
            reason=reason,
        )
    return UpdateResult(anime, entry, warnings)


def _break_on_problems(anime: Anime, *, has_video: bool) -> list[str]:
    """The editorial rule: an anime that is live (pending or published) with problems goes to
    broken. Returns the warning to show the editor (none when nothing changed)."""
    problems = anime_problems(anime, has_video=has_video)
    if problems and anime.state not in (State.BROKEN, State.DRAFT, State.ARCHIVED):
        anime.state = State.BROKEN
        return [f"State set to broken: {'; '.join(problems)}"]
    return []


def anime_admin_save(
    *, request: HttpRequest, anime: Anime, created: bool, save_related: Callable[[], None]
) -> UpdateResult:
    """The Django admin's add/change form, under the same rules as ``anime_update``: the
    problems rule, ``source`` manual on a change, and an audit entry, in one transaction.
    ``anime`` holds the form's unsaved values; ``save_related`` saves its relations and inlines
    (they need the saved row)."""
    user: User = request.user  # type: ignore[assignment]
    with transaction.atomic():
        before = None
        if not created:
            before = snapshot(Anime.objects.select_for_update(of=("self",)).get(pk=anime.pk))
            anime.source = Anime.Source.MANUAL
        else:
            anime.created_by = user
        anime.updated_by = user
        anime.save()
        save_related()
        has_video = PlaybackSource.objects.filter(episode__release__anime=anime).exists()
        warnings = _break_on_problems(anime, has_video=has_video)
        if warnings:
            anime.save(update_fields=["state", "updated_at"])
        entry = audit_record(
            request=request,
            action="anime.create" if created else "anime.update",
            entity_type="anime",
            entity_id=str(anime.pk),
            before=before,
            after=snapshot(anime),
            reason="Django admin",
        )
    return UpdateResult(anime, entry, warnings)


_LOCK_FIELDS = ["is_locked", "locked_fields", "locked_by", "locked_reason", "locked_at"]
_DELETE_FIELDS = ["deleted_at", "deleted_by", "delete_reason"]


def _audited_change(
    *,
    request: HttpRequest,
    anime_id: str,
    action: str,
    reason: str,
    change: Callable[[Anime], list[str]],
) -> Anime:
    """Lock the row, apply ``change`` (it returns the fields it set; none = nothing to do),
    save them and record ``action`` with before/after, all in one transaction."""
    with transaction.atomic():
        anime = _locked_anime(anime_id)
        before = snapshot(anime)
        fields = change(anime)
        if fields:
            anime.save(update_fields=[*fields, "updated_at"])
            audit_record(
                request=request,
                action=action,
                entity_type="anime",
                entity_id=str(anime.pk),
                before=before,
                after=snapshot(anime),
                reason=reason,
            )
    return anime


def anime_lock(
    *, request: HttpRequest, anime_id: str, fields: list[str] | None, reason: str
) -> Anime:
    """Lock the whole record (``fields`` None) or the named fields against sync and edits."""
    unknown = set(fields or []) - set(LOCKABLE_FIELDS)
    if unknown:
        raise BadRequest(f"Cannot lock unknown fields: {', '.join(sorted(unknown))}")

    def lock(anime: Anime) -> list[str]:
        if fields is None:
            anime.is_locked = True
        else:
            anime.locked_fields = sorted({*anime.locked_fields, *fields})
        anime.locked_by = request.user  # type: ignore[assignment]
        anime.locked_reason = reason
        anime.locked_at = timezone.now()
        return _LOCK_FIELDS

    return _audited_change(
        request=request, anime_id=anime_id, action="anime.lock", reason=reason, change=lock
    )


def anime_unlock(*, request: HttpRequest, anime_id: str, reason: str = "") -> Anime:
    def unlock(anime: Anime) -> list[str]:
        anime.is_locked, anime.locked_fields, anime.locked_by = False, [], None
        anime.locked_reason, anime.locked_at = "", None
        return _LOCK_FIELDS

    return _audited_change(
        request=request, anime_id=anime_id, action="anime.unlock", reason=reason, change=unlock
    )


def anime_soft_delete(*, request: HttpRequest, anime_id: str, reason: str) -> Anime:
    """Hide the anime everywhere; users' favorites and progress stay (and come back)."""

    def delete(anime: Anime) -> list[str]:
        if anime.deleted_at is not None:
            return []
        anime.deleted_at = timezone.now()
        anime.deleted_by = request.user  # type: ignore[assignment]
        anime.delete_reason = reason
        return _DELETE_FIELDS

    return _audited_change(
        request=request, anime_id=anime_id, action="anime.delete", reason=reason, change=delete
    )


def anime_restore(*, request: HttpRequest, anime_id: str, reason: str = "") -> Anime:
    def restore(anime: Anime) -> list[str]:
        if anime.deleted_at is None:
            return []
        anime.deleted_at, anime.deleted_by, anime.delete_reason = None, None, ""
        return _DELETE_FIELDS

    return _audited_change(
        request=request, anime_id=anime_id, action="anime.restore", reason=reason, change=restore
    )


# --- genres and studios (demo loader and sync) ----------------------------------------------


class GenreFields(Protocol):
    @property
    def shikimori_id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def name_ru(self) -> str: ...
    @property
    def kind(self) -> str: ...


class StudioFields(Protocol):
    @property
    def shikimori_id(self) -> int | None: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class GenreData:
    name: str
    shikimori_id: int | None = None
    name_ru: str = ""
    kind: str = Genre.Kind.GENRE


@dataclass(frozen=True)
class StudioData:
    name: str
    shikimori_id: int | None = None


def _free_slugs(
    model: type[Genre] | type[Studio], wanted: list[tuple[str, int | None]]
) -> list[str]:
    """A new slug per ``(name, shikimori_id)``: ``slugify(name)``; on a collision the Shikimori
    id (else a counter) is appended. Slugs are URL keys (``/anime?genre=drama``): an existing
    row's slug never changes. One query for the whole batch."""
    bases = [slugify(name) or f"{model._meta.model_name}-{sid or 'x'}" for name, sid in wanted]
    if not bases:
        return []
    clashes = Q()
    for base in set(bases):
        clashes |= Q(slug=base) | Q(slug__startswith=f"{base}-")
    taken = set(model.objects.filter(clashes).values_list("slug", flat=True))
    slugs = []
    for base, (_, shikimori_id) in zip(bases, wanted, strict=True):
        slug, counter = base, 1
        while slug in taken:
            counter += 1
            with_id = shikimori_id and counter == 2
            slug = f"{base}-{shikimori_id}" if with_id else f"{base}-{counter}"
        taken.add(slug)
        slugs.append(slug)
    return slugs


def genres_upsert(genres: Iterable[GenreFields]) -> dict[str, Genre]:
    """Create or update genres, matched by Shikimori id, then by name. Returns them by the
    given name. Caller holds the transaction."""
    wanted = {g.name: g for g in genres}
    if not wanted:
        return {}
    ids = [g.shikimori_id for g in wanted.values() if g.shikimori_id]
    by_id = {g.shikimori_id: g for g in Genre.objects.filter(shikimori_id__in=ids)}
    by_name = {g.name: g for g in Genre.objects.filter(name__in=wanted)}
    found: dict[str, Genre] = {}
    new: list[GenreFields] = []
    for name, data in wanted.items():
        genre = by_id.get(data.shikimori_id) or by_name.get(name)
        if genre is None:
            new.append(data)
        else:
            values: dict[str, Any] = {"shikimori_id": data.shikimori_id or genre.shikimori_id}
            values |= {"name_ru": data.name_ru or genre.name_ru, "kind": data.kind or genre.kind}
            if any(getattr(genre, field) != value for field, value in values.items()):
                for field, value in values.items():
                    setattr(genre, field, value)
                genre.save(update_fields=list(values))
            found[name] = genre
    slugs = _free_slugs(Genre, [(data.name, data.shikimori_id) for data in new])
    created = Genre.objects.bulk_create(
        Genre(
            shikimori_id=data.shikimori_id,
            name=data.name,
            name_ru=data.name_ru,
            slug=slug,
            kind=data.kind or Genre.Kind.GENRE,
        )
        for data, slug in zip(new, slugs, strict=True)
    )
    return found | {genre.name: genre for genre in created}


def studios_upsert(studios: Iterable[StudioFields]) -> dict[str, Studio]:
    """Create the studios not known by name yet. Returns them by name. Caller holds the
    transaction."""
    wanted = {s.name: s for s in studios}
    found = {s.name: s for s in Studio.objects.filter(name__in=wanted)}
    new = [data for name, data in wanted.items() if name not in found]
    slugs = _free_slugs(Studio, [(data.name, data.shikimori_id) for data in new])
    created = Studio.objects.bulk_create(
        Studio(shikimori_id=data.shikimori_id, name=data.name, slug=slug)
        for data, slug in zip(new, slugs, strict=True)
    )
    return found | {studio.name: studio for studio in created}
