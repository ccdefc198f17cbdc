"""Writes the old backend's rows into Kitsu's tables.

Every step streams one old table in batches and commits each batch on its own (a killed run
keeps what it committed). Rows are keyed by their old UUIDs, so re-running finds them again:
each row is created, updated (a field differs), unchanged, or skipped with a reason. A dry
run does the same inside one transaction that is rolled back, so its counts are exact.

Anime, releases and episodes that Kitsu already has (same Shikimori id; same season number;
same episode number) take the old UUID ("re-keyed": the row and every reference to it move to
the old id inside the batch's transaction; PostgreSQL checks the deferred foreign keys at
commit), because the frontend's bookmarks, local storage and shared links hold old UUIDs.
"""

from __future__ import annotations

import functools
import ipaddress
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.db.models import Q

from accounts.audit import audit_record
from accounts.hashers import PREFIX as LEGACY_HASH_PREFIX
from accounts.hashers import legacy_encoded
from accounts.models import AuditEntry, LegacyRefreshToken, User
from accounts.rbac import DEFAULT_ROLE, ROLES, STAFF_ROLES
from catalog.cache import catalog_changed
from catalog.models import Anime, Episode, Genre, Release
from ingestion.legacy.report import ImportReport, TableReport
from ingestion.legacy.source import LegacySource
from ingestion.models import ParserSettings
from ingestion.schedules import schedules_ensure
from ingestion.services import INTERVAL_MAX, INTERVAL_MIN, LIST_SETTINGS, parser_settings_snapshot
from library.models import Favorite, WatchProgress

PARTS = ("users", "anime", "library", "sessions", "settings", "audit")
UNUSABLE_PASSWORD = "!legacy: no bcrypt hash in the old database"  # noqa: S105 (marker)
SYSTEM_ROLES = {"parser_bot", "worker_bot"}  # Kitsu gives these to jobs, never to people
CONTENT_FIELDS = (
    "title",
    "title_original",
    "title_ru",
    "title_en",
    "description",
    "poster_url",
    "year",
    "season",
    "status",
    "kind",
)
EDITORIAL_FIELDS = (
    "state",
    "is_locked",
    "locked_fields",
    "locked_by_id",
    "locked_reason",
    "locked_at",
    "deleted_at",
    "deleted_by_id",
    "delete_reason",
    "created_by_id",
    "updated_by_id",
)
# Old lock names -> Kitsu fields (a locked field's old value is the editor's work: kept).
LOCK_FIELD_NAMES = {name: name for name in CONTENT_FIELDS} | {"poster": "poster_url"}

Progress = Callable[[str, int, int], None]
AUDITED_ENTITIES: dict[type[models.Model], str] = {Anime: "anime"}


def _text(value: Any, limit: int) -> str:
    return ("" if value is None else str(value))[:limit]


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        return None


@functools.cache
def _references(model: type[models.Model]) -> list[tuple[type[models.Model], str]]:
    """(model, column) of every foreign key to ``model``, many-to-many tables included."""
    found = []
    for other in apps.get_models(include_auto_created=True):
        for f in other._meta.concrete_fields:
            if f.is_relation and f.related_model is model:
                found.append((other, f.attname))
    return found


def rekey(model: type[models.Model], old_pk: Any, new_pk: Any) -> None:
    """Give the row ``old_pk`` the primary key ``new_pk``, moving every reference with it
    (inside the caller's transaction; Django's foreign keys are DEFERRABLE INITIALLY DEFERRED
    on PostgreSQL, so the order of the updates does not matter)."""
    for other, column in _references(model):
        other._base_manager.filter(**{column: old_pk}).update(**{column: new_pk})
    pk = model._meta.pk
    assert pk is not None
    model._base_manager.filter(pk=old_pk).update(**{pk.attname: new_pk})
    # Kitsu's own audit history of the row follows it (entity ids are strings, not keys).
    entity_type = AUDITED_ENTITIES.get(model)
    if entity_type is not None:
        AuditEntry.objects.filter(entity_type=entity_type, entity_id=str(old_pk)).update(
            entity_id=str(new_pk)
        )


def _apply(obj: models.Model, values: dict[str, Any]) -> list[str]:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


@dataclass
class Importer:
    source: LegacySource
    report: ImportReport
    batch_size: int = 2000
    progress: Progress | None = None
    _users: set[uuid.UUID] | None = field(default=None, init=False)
    _genres: dict[str, int] = field(default_factory=dict, init=False)

    # --- plumbing ---------------------------------------------------------------------------

    def _batches(
        self, table: TableReport, sql: str, total_of: str, size: int | None = None
    ) -> Iterable[list[dict[str, Any]]]:
        total = self.source.count(total_of)
        done = 0
        for rows in self.source.batches(sql, size or self.batch_size):
            table.read += len(rows)
            yield rows
            done += len(rows)
            if self.progress is not None:
                self.progress(table.name, done, total)

    def _known_users(self) -> set[uuid.UUID]:
        if self._users is None:
            self._users = set(User.objects.values_list("id", flat=True))
        return self._users

    def _user_or_none(self, value: Any) -> uuid.UUID | None:
        user_id = _uuid(value)
        return user_id if user_id in self._known_users() else None

    def run(self, parts: Iterable[str]) -> None:
        steps: dict[str, list[Callable[[], None]]] = {
            "users": [self.users, self.user_roles],
            "anime": [self.anime, self.releases, self.episodes],
            "library": [self.favorites, self.watch_progress],
            "sessions": [self.sessions],
            "settings": [self.parser_settings],
            "audit": [self.audit_logs],
        }
        wanted = set(parts)
        for part in PARTS:
            if part in wanted:
                for step in steps[part]:
                    step()

    # --- users ------------------------------------------------------------------------------

    def users(self) -> None:
        table = self.report.table("users")
        # Case-folded duplicates: the oldest account keeps the address, the others are
        # reported (an operator decides; nothing is merged).
        winners: dict[str, uuid.UUID] = {}
        duplicate_of: dict[uuid.UUID, uuid.UUID] = {}
        for row in self.source.all("SELECT id, email FROM users ORDER BY created_at, id"):
            key = (row["email"] or "").strip().lower()
            if key in winners:
                duplicate_of[row["id"]] = winners[key]
            else:
                winners[key] = row["id"]
        default_group = Group.objects.get(name=DEFAULT_ROLE)
        memberships = User.groups.through
        sql = (
            "SELECT id, email, password_hash, is_active, created_at, avatar FROM users ORDER BY id"
        )
        for rows in self._batches(table, sql, "users"):
            with transaction.atomic():
                self._users_batch(table, rows, duplicate_of, default_group, memberships)
        self._users = None  # reload with this step's users

    def _users_batch(
        self,
        table: TableReport,
        rows: list[dict[str, Any]],
        duplicate_of: dict[uuid.UUID, uuid.UUID],
        default_group: Group,
        memberships: Any,
    ) -> None:
        ids = [row["id"] for row in rows]
        existing = {u.pk: u for u in User.objects.filter(pk__in=ids)}
        emails = [(row["email"] or "").strip().lower() for row in rows]
        taken = dict(
            User.objects.filter(email__in=emails).exclude(pk__in=ids).values_list("email", "id")
        )
        with_role = set(
            memberships.objects.filter(user_id__in=ids, group=default_group).values_list(
                "user_id", flat=True
            )
        )
        create: list[User] = []
        update: list[User] = []
        fields: set[str] = set()
        grants: list[Any] = []
        for row, email in zip(rows, emails, strict=True):
            if row["id"] in duplicate_of:
                table.skip(
                    f"duplicate e-mail (case-folded) of old user {duplicate_of[row['id']]}",
                    row["id"],
                )
                continue
            if not email or "@" not in email:
                table.skip("no usable e-mail address", row["id"])
                continue
            if email in taken:
                table.skip(
                    "conflict: the e-mail is already registered on Kitsu (left as is)", row["id"]
                )
                continue
            password = legacy_encoded(row["password_hash"] or "")
            if password is None:
                table.note("users imported without a usable password (hash not bcrypt)")
                password = UNUSABLE_PASSWORD
            values = {
                "email": email[:254],
                "is_active": bool(row["is_active"]),
                "avatar": _text(row["avatar"], 500),
                "created_at": row["created_at"],
            }
            user = existing.get(row["id"])
            if user is None:
                create.append(User(id=row["id"], password=password, **values))
                grants.append(memberships(user_id=row["id"], group_id=default_group.pk))
                table.created += 1
                continue
            changed = _apply(user, values)
            # A hash Kitsu has upgraded (first login) or a password changed on Kitsu is kept.
            still_legacy = user.password.startswith((LEGACY_HASH_PREFIX, UNUSABLE_PASSWORD))
            if still_legacy and user.password != password:
                user.password = password
                changed.append("password")
            if user.pk not in with_role:
                grants.append(memberships(user_id=user.pk, group_id=default_group.pk))
                changed.append("role")
            if changed:
                fields.update(name for name in changed if name != "role")
                update.append(user)
                table.updated += 1
            else:
                table.unchanged += 1
        User.objects.bulk_create(create)
        if update and fields:
            User.objects.bulk_update(update, sorted(fields))
        memberships.objects.bulk_create(grants, ignore_conflicts=True)

    def user_roles(self) -> None:
        table = self.report.table("user_roles")
        groups = {g.name: g.pk for g in Group.objects.filter(name__in=ROLES)}
        memberships = User.groups.through
        known = self._known_users()
        sql = (
            "SELECT ur.id, ur.user_id, r.name, r.is_active FROM user_roles ur "
            "JOIN roles r ON r.id = ur.role_id ORDER BY ur.user_id, ur.id"
        )
        for rows in self._batches(table, sql, "user_roles", size=5000):
            with transaction.atomic():
                user_ids = {row["user_id"] for row in rows}
                held = set(
                    memberships.objects.filter(user_id__in=user_ids).values_list(
                        "user_id", "group_id"
                    )
                )
                grants = []
                for row in rows:
                    if row["user_id"] not in known:
                        table.skip("user not imported", row["id"])
                    elif not row["is_active"]:
                        table.skip(
                            f"role {row['name']!r} is inactive in the old backend", row["id"]
                        )
                    elif row["name"] in SYSTEM_ROLES:
                        table.skip(f"system role {row['name']!r} (jobs only in Kitsu)", row["id"])
                    elif row["name"] not in groups:
                        table.skip(f"role {row['name']!r} has no Kitsu group", row["id"])
                    elif (row["user_id"], groups[row["name"]]) in held:
                        table.unchanged += 1
                    else:
                        pair = (row["user_id"], groups[row["name"]])
                        held.add(pair)
                        grants.append(memberships(user_id=pair[0], group_id=pair[1]))
                        table.created += 1
                memberships.objects.bulk_create(grants, ignore_conflicts=True)
                # Editorial roles open the Django admin (accounts.services.staff_flag_sync).
                staff_group_ids = {pk for name, pk in groups.items() if name in STAFF_ROLES}
                staff = {user for user, group in held if group in staff_group_ids}
                User.objects.filter(pk__in=staff, is_staff=False).update(is_staff=True)

    # --- catalog ----------------------------------------------------------------------------

    def _shikimori_ids(self, table: TableReport) -> dict[uuid.UUID, int]:
        """Old anime id -> Shikimori id, from anime_external (source 'shikimori') and the
        manual anime_external_binding rows (which win)."""
        rows = self.source.all(
            "SELECT ae.id, ae.anime_id, ae.external_id, b.anime_id AS bound_to "
            "FROM anime_external ae JOIN parser_sources ps ON ps.id = ae.source_id "
            "LEFT JOIN anime_external_binding b ON b.anime_external_id = ae.id "
            "WHERE ps.code = 'shikimori' ORDER BY (b.anime_id IS NULL), ae.id"
        )
        by_anime: dict[uuid.UUID, int] = {}
        claimed: set[int] = set()
        for row in rows:
            anime_id = _uuid(row["bound_to"]) or _uuid(row["anime_id"])
            external = str(row["external_id"]).strip()
            if anime_id is None:
                continue
            if not external.isdigit():
                table.note("shikimori external rows with a non-numeric id (ignored)")
                continue
            shikimori_id = int(external)
            if anime_id in by_anime or shikimori_id in claimed:
                if by_anime.get(anime_id) != shikimori_id:
                    table.note("conflicting shikimori external rows (the first one kept)")
                continue
            by_anime[anime_id] = shikimori_id
            claimed.add(shikimori_id)
        return by_anime

    def _anime_values(self, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(content, editorial) values of an old anime row, in Kitsu's terms."""
        status = (row["status"] or "").strip().lower()
        season = (row["season"] or "").strip().lower().split("_")[0].split(" ")[0]
        year = row["year"] if row["year"] is not None and 0 < row["year"] < 32768 else None
        poster = row["poster_url"] or ""
        content: dict[str, Any] = {
            "title": _text(row["title"], 255),
            "title_original": _text(row["title_original"], 255),
            "title_ru": _text(row["title_ru"], 255),
            "title_en": _text(row["title_en"], 255),
            "description": row["description"] or "",
            "poster_url": poster if len(poster) <= 500 else "",
            "year": year,
            "season": season if season in Anime.Season.values else "",
            "status": status if status in Anime.Status.values else Anime.Status.ANONS,
            # The old `status` sometimes held the format (TV/MOVIE/ONA: contract B.8 #11).
            "kind": status if status in Anime.Kind.values else Anime.Kind.TV,
        }
        state = (row["state"] or "").strip().lower()
        deleted = bool(row["is_deleted"])
        editorial: dict[str, Any] = {
            "state": state if state in Anime.State.values else Anime.State.DRAFT,
            "is_locked": bool(row["is_locked"]),
            "locked_fields": list(row["locked_fields"] or []),
            "locked_by_id": self._user_or_none(row["locked_by"]),
            "locked_reason": _text(row["locked_reason"], 500),
            "locked_at": row["locked_at"],
            "deleted_at": (row["deleted_at"] or row["updated_at"]) if deleted else None,
            "deleted_by_id": self._user_or_none(row["deleted_by"]) if deleted else None,
            "delete_reason": _text(row["delete_reason"], 500) if deleted else "",
            "created_by_id": self._user_or_none(row["created_by"]),
            "updated_by_id": self._user_or_none(row["updated_by"]),
        }
        return content, editorial

    def _legacy_ids(self, table: str, ids: Iterable[Any]) -> set[uuid.UUID]:
        """Which of ``ids`` are ids of the old ``table`` (a Kitsu row that already carries an
        old id belongs to that old row and is never re-keyed to another one)."""
        ids = [str(i) for i in ids]
        if not ids:
            return set()
        rows = self.source.all(
            f"SELECT id FROM {table} WHERE id = ANY(%s::uuid[])",  # noqa: S608 (fixed names)
            (ids,),
        )
        return {row["id"] for row in rows}

    def anime(self) -> None:
        table = self.report.table("anime")
        shikimori = self._shikimori_ids(table)
        self._genres = {}
        for genre in Genre.objects.only("id", "name", "name_ru"):
            for name in (genre.name, genre.name_ru):
                if name:
                    self._genres.setdefault(name.strip().lower(), genre.pk)
        sql = "SELECT * FROM anime ORDER BY id"
        for rows in self._batches(table, sql, "anime", size=min(self.batch_size, 1000)):
            with transaction.atomic():
                self._anime_batch(table, rows, shikimori)
                catalog_changed()

    def _anime_batch(
        self, table: TableReport, rows: list[dict[str, Any]], shikimori: dict[uuid.UUID, int]
    ) -> None:
        ids = [row["id"] for row in rows]
        existing = {a.pk: a for a in Anime.objects.filter(pk__in=ids)}
        wanted = {shikimori[i]: i for i in ids if i in shikimori and i not in existing}
        matches = {
            a.shikimori_id: a
            for a in Anime.objects.filter(shikimori_id__in=wanted).exclude(pk__in=ids)
        }
        owned = self._legacy_ids("anime", (a.pk for a in matches.values()))
        create: list[Anime] = []
        update: list[Anime] = []
        fields: set[str] = set()
        genre_links: list[Any] = []
        for row in rows:
            content, editorial = self._anime_values(row)
            shikimori_id = shikimori.get(row["id"])
            anime = existing.get(row["id"])
            rekeyed = False
            if anime is None and shikimori_id in matches and matches[shikimori_id].pk not in owned:
                anime = matches[shikimori_id]
                rekey(Anime, anime.pk, row["id"])
                anime.pk = row["id"]
                rekeyed = True
                table.note("matched to Kitsu anime by Shikimori id (took the old UUID)")
            if anime is None:
                if shikimori_id in matches:  # held by another old anime already
                    table.note("shikimori id already used by another old anime (not linked)")
                    shikimori_id = None
                anime = Anime(
                    id=row["id"],
                    shikimori_id=shikimori_id,
                    source=Anime.Source.IMPORT,
                    created_at=row["created_at"],
                    **content,
                    **editorial,
                )
                anime.search_document = anime.build_search_document()
                create.append(anime)
                genre_links.extend(self._genre_links(table, anime.pk, row["genres"]))
                table.created += 1
                continue
            if anime.source == Anime.Source.IMPORT:
                values = {**content, **editorial}
            else:  # Kitsu's own (Shikimori) data stays; the editors' work comes over
                lock_all = editorial["is_locked"]
                locked = {
                    LOCK_FIELD_NAMES[name]
                    for name in editorial["locked_fields"]
                    if name in LOCK_FIELD_NAMES
                }
                values = {
                    **{k: v for k, v in content.items() if lock_all or k in locked},
                    **editorial,
                }
            changed = _apply(anime, values)
            if changed or rekeyed:
                if set(changed) & set(CONTENT_FIELDS):
                    anime.search_document = anime.build_search_document()
                    changed.append("search_document")
                fields.update(changed)
                if changed:
                    update.append(anime)
                table.updated += 1
            else:
                table.unchanged += 1
        Anime.objects.bulk_create(create)
        Anime.genres.through.objects.bulk_create(genre_links, ignore_conflicts=True)
        if update:
            Anime.objects.bulk_update(update, sorted(fields))

    def _genre_links(self, table: TableReport, anime_id: uuid.UUID, genres: Any) -> list[Any]:
        """Genre rows of a created anime: the old JSON list of names, matched to Kitsu's
        genres by name (English or Russian, any case)."""
        through = Anime.genres.through
        links = {}
        for name in genres if isinstance(genres, list) else []:
            genre_id = self._genres.get(str(name).strip().lower())
            if genre_id is None:
                table.note("genre names unknown to Kitsu (not linked)")
            else:
                links[genre_id] = through(anime_id=anime_id, genre_id=genre_id)
        return list(links.values())

    def releases(self) -> None:
        table = self.report.table("releases")
        sql = (
            "SELECT id, anime_id, title, year, status, created_at, row_number() OVER "
            "(PARTITION BY anime_id ORDER BY created_at, id) AS ordering FROM releases ORDER BY id"
        )
        for rows in self._batches(table, sql, "releases"):
            with transaction.atomic():
                self._releases_batch(table, rows)
                catalog_changed()

    def _releases_batch(self, table: TableReport, rows: list[dict[str, Any]]) -> None:
        ids = [row["id"] for row in rows]
        anime = {
            a["id"]: a
            for a in Anime.objects.filter(pk__in={row["anime_id"] for row in rows}).values(
                "id", "source", "kind"
            )
        }
        existing = {r.pk: r for r in Release.objects.filter(pk__in=ids)}
        slots = Q()
        for row in rows:
            if row["id"] not in existing and row["anime_id"] in anime:
                slots |= Q(anime_id=row["anime_id"], ordering=row["ordering"])
        matches = (
            {(r.anime_id, r.ordering): r for r in Release.objects.filter(slots)} if slots else {}
        )
        owned = self._legacy_ids("releases", (r.pk for r in matches.values()))
        create: list[Release] = []
        update: list[Release] = []
        fields: set[str] = set()
        for row in rows:
            parent = anime.get(row["anime_id"])
            if parent is None:
                table.skip("anime not imported", row["id"])
                continue
            status = (row["status"] or "").strip().lower()
            values = {
                "title": _text(row["title"], 255),
                "year": row["year"] if row["year"] and 0 < row["year"] < 32768 else None,
                "status": status if status in Anime.Status.values else Anime.Status.RELEASED,
            }
            release = existing.get(row["id"])
            match = matches.get((row["anime_id"], row["ordering"]))
            if release is None and match is not None:
                if match.pk in owned:
                    table.skip("season number taken by another old release", row["id"])
                    continue
                rekey(Release, match.pk, row["id"])
                match.pk = row["id"]
                table.note("matched to a Kitsu release by season number (took the old UUID)")
                table.updated += 1
                continue  # Kitsu's synced release keeps its data
            if release is None:
                create.append(
                    Release(
                        id=row["id"],
                        anime_id=row["anime_id"],
                        ordering=row["ordering"],
                        kind=parent["kind"],
                        created_at=row["created_at"],
                        **values,
                    )
                )
                table.created += 1
                continue
            if parent["source"] != Anime.Source.IMPORT:
                table.unchanged += 1
                continue
            changed = _apply(release, values)
            if changed:
                fields.update(changed)
                update.append(release)
                table.updated += 1
            else:
                table.unchanged += 1
        Release.objects.bulk_create(create)
        if update:
            Release.objects.bulk_update(update, sorted(fields))

    def episodes(self) -> None:
        table = self.report.table("episodes")
        sql = (
            "SELECT id, release_id, number, title, created_at, iframe_url, is_locked, "
            "is_deleted FROM episodes ORDER BY id"
        )
        for rows in self._batches(table, sql, "episodes"):
            with transaction.atomic():
                self._episodes_batch(table, rows)
                catalog_changed()

    def _episodes_batch(self, table: TableReport, rows: list[dict[str, Any]]) -> None:
        ids = [row["id"] for row in rows]
        releases = dict(
            Release.objects.filter(pk__in={row["release_id"] for row in rows}).values_list(
                "id", "anime__source"
            )
        )
        existing = {e.pk: e for e in Episode.objects.filter(pk__in=ids)}
        taken = {
            (e.release_id, e.number): e
            for e in Episode.objects.filter(release_id__in=releases).only(
                "id", "release_id", "number"
            )
        }
        owned = self._legacy_ids("episodes", (e.pk for e in taken.values() if e.pk not in existing))
        create: list[Episode] = []
        update: list[Episode] = []
        fields: set[str] = set()
        for row in rows:
            source = releases.get(row["release_id"])
            if source is None:
                table.skip("release not imported", row["id"])
                continue
            if row["is_deleted"]:
                table.skip(
                    "deleted in the old backend (Kitsu episodes have no soft delete)", row["id"]
                )
                continue
            if row["number"] is None or row["number"] < 0:
                table.skip("invalid episode number", row["id"])
                continue
            if row["is_locked"]:
                table.note("episode locks not carried (Kitsu locks whole anime or anime fields)")
            if row["iframe_url"]:
                table.note("player links not imported (Kitsu's Kodik sync provides the sources)")
            values = {"number": row["number"], "title": _text(row["title"], 255)}
            episode = existing.get(row["id"])
            slot = (row["release_id"], row["number"])
            if episode is None and slot in taken:
                match = taken[slot]
                if match.pk in owned or match.pk in ids:
                    table.skip("episode number taken by another old episode", row["id"])
                    continue
                rekey(Episode, match.pk, row["id"])
                taken[slot] = Episode(
                    id=row["id"], release_id=row["release_id"], number=row["number"]
                )
                owned.add(row["id"])
                table.note("matched to a Kitsu episode by number (took the old UUID)")
                table.updated += 1
                continue
            if episode is None:
                episode = Episode(
                    id=row["id"],
                    release_id=row["release_id"],
                    created_at=row["created_at"],
                    **values,
                )
                create.append(episode)
                taken[slot] = episode
                owned.add(row["id"])
                table.created += 1
                continue
            if source != Anime.Source.IMPORT:
                table.unchanged += 1
                continue
            changed = _apply(episode, values)
            if changed:
                fields.update(changed)
                update.append(episode)
                table.updated += 1
            else:
                table.unchanged += 1
        Episode.objects.bulk_create(create)
        if update:
            Episode.objects.bulk_update(update, sorted(fields))

    # --- library ----------------------------------------------------------------------------

    def _library(
        self,
        name: str,
        model: type[models.Model],
        sql: str,
        values_of: Callable[[dict[str, Any]], dict[str, Any] | str],
    ) -> None:
        """Favorites and progress: the largest tables. Lookups pass the batch's ids as one
        array parameter and new rows go in with COPY (Django's bulk_create and long IN lists
        spend most of their time building the statement)."""
        table = self.report.table(name)
        users = self._known_users()
        anime = set(Anime.objects.values_list("id", flat=True))
        db_table = model._meta.db_table
        columns = [str(f.column) for f in model._meta.concrete_fields]
        compared = [c for c in columns if c not in ("id", "user_id", "anime_id")]
        select = ", ".join(["id", *compared])
        for rows in self._batches(table, sql, name, size=max(self.batch_size, 5000)):
            with transaction.atomic(), connection.cursor() as cursor:
                ids = [row["id"] for row in rows]
                cursor.execute(
                    f"SELECT {select}, user_id, anime_id FROM {db_table} "  # noqa: S608
                    "WHERE id = ANY(%s::uuid[])",
                    [ids],
                )
                existing = {r[0]: r[1:] for r in cursor.fetchall()}
                new = [r for r in rows if r["id"] not in existing]
                cursor.execute(
                    f"SELECT t.user_id, t.anime_id FROM {db_table} t "  # noqa: S608
                    "JOIN unnest(%s::uuid[], %s::uuid[]) AS n(u, a) "
                    "ON t.user_id = n.u AND t.anime_id = n.a",
                    [[r["user_id"] for r in new], [r["anime_id"] for r in new]],
                )
                present = set(cursor.fetchall())
                create: list[tuple[Any, ...]] = []
                update: list[models.Model] = []
                fields: set[str] = set()
                for row in rows:
                    if row["user_id"] not in users:
                        table.skip("user not imported", row["id"])
                        continue
                    if row["anime_id"] not in anime:
                        table.skip("anime not imported", row["id"])
                        continue
                    values = values_of(row)
                    if isinstance(values, str):
                        table.skip(values, row["id"])
                        continue
                    values = {"user_id": row["user_id"], "anime_id": row["anime_id"], **values}
                    stored = existing.get(row["id"])
                    if stored is None:
                        if (row["user_id"], row["anime_id"]) in present:
                            table.skip("the user already has this anime on Kitsu", row["id"])
                            continue
                        values["id"] = row["id"]
                        create.append(tuple(values[c] for c in columns))
                        table.created += 1
                        continue
                    current = dict(zip([*compared, "user_id", "anime_id"], stored, strict=True))
                    changed = [c for c in current if current[c] != values[c]]
                    if changed:
                        fields.update(changed)
                        update.append(model(id=row["id"], **values))
                        table.updated += 1
                    else:
                        table.unchanged += 1
                if create:
                    statement = f"COPY {db_table} ({', '.join(columns)}) FROM STDIN"
                    with cursor.cursor.copy(statement) as copy:
                        for record in create:
                            copy.write_row(record)
                if update:
                    model._default_manager.bulk_update(update, sorted(fields))

    def favorites(self) -> None:
        self._library(
            "favorites",
            Favorite,
            "SELECT id, user_id, anime_id, created_at FROM favorites ORDER BY id",
            lambda row: {"created_at": row["created_at"]},
        )

    def watch_progress(self) -> None:
        def values(row: dict[str, Any]) -> dict[str, Any] | str:
            position = row["position_seconds"] or 0
            percent = row["progress_percent"] if row["progress_percent"] is not None else 0.0
            if row["episode"] is None or row["episode"] < 0 or position < 0:
                return "negative episode or position"
            return {
                "episode": row["episode"],
                "position_seconds": position,
                "progress_percent": float(percent),
                "created_at": row["created_at"],
                "last_watched_at": row["last_watched_at"],
            }

        self._library(
            "watch_progress",
            WatchProgress,
            "SELECT id, user_id, anime_id, episode, position_seconds, progress_percent, "
            "created_at, last_watched_at FROM watch_progress ORDER BY id",
            values,
        )

    # --- sessions, settings, audit ----------------------------------------------------------

    def sessions(self) -> None:
        table = self.report.table("refresh_tokens")
        users = self._known_users()
        now = datetime.now().astimezone()
        sql = (
            "SELECT id, user_id, token_hash, expires_at, revoked, created_at "
            "FROM refresh_tokens ORDER BY id"
        )
        hexdigits = set("0123456789abcdef")
        for rows in self._batches(table, sql, "refresh_tokens"):
            with transaction.atomic():
                existing = {
                    t.pk: t
                    for t in LegacyRefreshToken.objects.filter(pk__in=[r["id"] for r in rows])
                }
                create = []
                update = []
                for row in rows:
                    token_hash = (row["token_hash"] or "").strip().lower()
                    if row["revoked"]:
                        table.skip("revoked", row["id"])
                    elif row["expires_at"] <= now:
                        table.skip("expired", row["id"])
                    elif row["user_id"] not in users:
                        table.skip("user not imported", row["id"])
                    elif len(token_hash) != 64 or not set(token_hash) <= hexdigits:
                        table.skip("malformed token hash", row["id"])
                    else:
                        values = {
                            "user_id": row["user_id"],
                            "token_hash": token_hash,
                            "expires_at": row["expires_at"],
                            "created_at": row["created_at"],
                        }
                        token = existing.get(row["id"])
                        if token is None:
                            create.append(LegacyRefreshToken(id=row["id"], **values))
                            table.created += 1
                        elif _apply(token, values):
                            update.append(token)
                            table.updated += 1
                        else:
                            table.unchanged += 1
                LegacyRefreshToken.objects.bulk_create(create)
                if update:
                    LegacyRefreshToken.objects.bulk_update(
                        update, ["user_id", "token_hash", "expires_at", "created_at"]
                    )

    def parser_settings(self) -> None:
        table = self.report.table("parser_settings")
        rows = self.source.all("SELECT * FROM parser_settings ORDER BY id")
        table.read = len(rows)
        if not rows:
            return
        for extra in rows[1:]:
            table.skip("more than one settings row (the first one is used)", extra["id"])
        row = rows[0]

        def strings(value: Any) -> list[str]:
            items = value if isinstance(value, list) else []
            return [str(item).strip() for item in items if str(item).strip()]

        mode = (row["mode"] or "").strip().lower()
        types = row["allowed_translation_types"]
        values: dict[str, Any] = {
            "mode": mode if mode in ParserSettings.Mode.values else ParserSettings.Mode.MANUAL,
            # Contract B.7: new anime always go through an editor, whatever the old row said.
            "stage_only": True,
            "autopublish_enabled": False,
            "enable_autoupdate": bool(row["enable_autoupdate"]),
            "update_interval_minutes": min(
                INTERVAL_MAX, max(INTERVAL_MIN, int(row["update_interval_minutes"] or 60))
            ),
            "dry_run_default": bool(row["dry_run"]),
            "allowed_translation_types": sorted(
                {"subtitles" if v == "sub" else v for v in strings(types)}
            )
            if isinstance(types, list)
            else ["subtitles", "voice"],
        }
        for name in LIST_SETTINGS:
            if name != "allowed_translation_types":
                values[name] = strings(row[name])
        if row["publish_enabled"] or not row["stage_only"]:
            table.note("old autopublish/stage_only ignored (Kitsu always stages new anime)")
        with transaction.atomic():
            created = not ParserSettings.objects.filter(pk=1).exists()
            settings_row = ParserSettings.objects.select_for_update().get(
                pk=ParserSettings.load().pk
            )
            before = parser_settings_snapshot(settings_row)
            changed = _apply(settings_row, values)
            if not changed:
                table.unchanged += 1
                return
            settings_row.save()
            audit_record(
                request=None,
                action="parser_settings.import",
                entity_type="parser_settings",
                entity_id=str(settings_row.pk),
                before=before,
                after=parser_settings_snapshot(settings_row),
                reason="imported from the old backend",
            )
            if created:
                table.created += 1
            else:
                table.updated += 1
            transaction.on_commit(schedules_ensure)

    def audit_logs(self) -> None:
        table = self.report.table("audit_logs")
        users = self._known_users()
        actor_types = set(AuditEntry.ActorType.values)
        sql = (
            "SELECT id, actor_id, actor_type, action, entity_type, entity_id, before, after, "
            "reason, ip_address, user_agent, created_at FROM audit_logs ORDER BY id"
        )
        for rows in self._batches(table, sql, "audit_logs", size=max(self.batch_size, 5000)):
            with transaction.atomic():
                existing = set(
                    AuditEntry.objects.filter(pk__in=[r["id"] for r in rows]).values_list(
                        "id", flat=True
                    )
                )
                create = []
                for row in rows:
                    if row["id"] in existing:  # append-only: never rewritten
                        table.unchanged += 1
                        continue
                    try:
                        ip = str(ipaddress.ip_address((row["ip_address"] or "").strip()))
                    except ValueError:
                        ip = None
                    actor = row["actor_id"] if row["actor_id"] in users else None
                    if row["actor_id"] is not None and actor is None:
                        table.note("entries whose actor was not imported (actor left empty)")
                    create.append(
                        AuditEntry(
                            id=row["id"],
                            actor_id=actor,
                            actor_type=row["actor_type"]
                            if row["actor_type"] in actor_types
                            else AuditEntry.ActorType.SYSTEM,
                            action=_text(row["action"], 100),
                            entity_type=_text(row["entity_type"], 50),
                            entity_id=_text(row["entity_id"], 255),
                            before=row["before"],
                            after=row["after"],
                            reason=row["reason"] or "",
                            ip_address=ip,
                            user_agent=_text(row["user_agent"], 300),
                            created_at=row["created_at"],
                            imported=True,
                        )
                    )
                    table.created += 1
                AuditEntry.objects.bulk_create(create)


class DryRunRollback(Exception):
    """Raised at the end of a dry run to roll its single transaction back."""


def import_legacy(
    *,
    url: str,
    parts: Iterable[str] = PARTS,
    dry_run: bool = False,
    batch_size: int = 2000,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``parts`` of the old database at ``url``. A dry run does everything inside one
    transaction and rolls it back: the report is what a real run would do, nothing is kept."""
    report = ImportReport(dry_run=dry_run)
    started = time.monotonic()
    with LegacySource(url) as source:
        importer = Importer(source=source, report=report, batch_size=batch_size, progress=progress)
        if dry_run:
            try:
                with transaction.atomic():
                    importer.run(parts)
                    raise DryRunRollback
            except DryRunRollback:
                pass
        else:
            importer.run(parts)
    report.seconds = time.monotonic() - started
    return report
