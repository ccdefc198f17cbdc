"""The sync pipelines: Shikimori catalog and calendar, Kodik episodes.

Shape of every pipeline: fetch a page over the network (never inside a transaction), then
apply it in ONE transaction with bulk upserts keyed on natural keys (``shikimori_id``,
``(release, ordering)``, ``(release, number)``, ``(episode, translation)``). So:
* a second run over unchanged data writes nothing and counts everything "unchanged";
* a run killed mid-page leaves that page unwritten, and a re-run reaches the same end state
  with no duplicates (the unique constraints make duplicates impossible anyway);
* fields an editor locked (``Anime.is_locked`` / ``locked_fields``) are never written, and the
  editorial state of existing anime is never touched; new anime arrive as drafts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any, TypeVar

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
    Studio,
    Translation,
    normalize_search_text,
)
from catalog.relations import relations_differ, relations_set
from catalog.services import genres_upsert, studios_upsert
from catalog.titles import display_title
from ingestion.http import UpstreamError
from ingestion.models import ParserSettings, SyncLogLine, SyncRun
from ingestion.records import AnimeRecord, KodikResult
from ingestion.runs import (
    ProgressCallback,
    StopRequested,
    SyncFailure,
    run_log,
    stop_requested,
    sync_lock,
)
from ingestion.sources import (
    CatalogSource,
    EpisodeSource,
    catalog_source,
    episode_source,
    schedule_source,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

# AnimeRecord field -> Anime field, for the fields both shapes carry and those only details do.
LIST_FIELDS = (
    "title_ru",
    "kind",
    "status",
    "score",
    "episodes_total",
    "episodes_aired",
    "aired_on",
    "released_on",
    "year",
    "season",
    "poster_url",
)
DETAIL_FIELDS = (
    "mal_id",
    "title_en",
    "title_ja",
    "synonyms",
    "description",
    "duration_minutes",
    "rating",
    "franchise",
    "next_episode_at",
)


def upstream_failure(exc: UpstreamError, where: str) -> SyncFailure:
    """The run-ending form of an upstream error at ``where`` (one line; detail for the log)."""
    detail = (
        f"{where}: {exc} after {exc.attempts} attempt{'s' if exc.attempts != 1 else ''}"
        + (f" (HTTP {exc.status})" if exc.status else "")
        + (f"; cause: {exc.__cause__!r}" if exc.__cause__ else "")
    )
    return SyncFailure(exc.upstream, where, exc.reason, detail=detail)


def _failing_loudly(
    pages: Iterable[tuple[int, T]], first: int, what: str
) -> Iterator[tuple[int, T]]:
    """``pages``, with an upstream error while fetching page N turned into a SyncFailure
    naming "<what> N"."""
    expected = first
    iterator = iter(pages)
    while True:
        try:
            number, page = next(iterator)
        except StopIteration:
            return
        except UpstreamError as exc:
            raise upstream_failure(exc, f"{what} {expected}") from exc
        yield number, page
        expected = number + 1


def _save_progress(run: SyncRun, progress: ProgressCallback | None) -> None:
    run.pages += 1
    run.save(update_fields=["created", "updated", "unchanged", "failed", "pages"])
    if progress is not None:
        progress(run)
    if stop_requested(run):
        raise StopRequested


# --- catalog ---------------------------------------------------------------------------------


def _record_values(record: AnimeRecord) -> dict[str, Any]:
    # The title rule (catalog/titles.py): Shikimori's name is the original title; the display
    # title needs the English/Russian ones, which only full records carry.
    values: dict[str, Any] = {"title_original": record.title}
    if record.title_en is not None:
        values["title"] = display_title(
            original=record.title, english=record.title_en, russian=record.title_ru
        )
    values |= {name: getattr(record, name) for name in LIST_FIELDS}
    if not values["kind"]:
        values.pop("kind")
    if not values["status"]:
        values.pop("status")
    for name in DETAIL_FIELDS:
        value = getattr(record, name)
        if value is not None:
            values[name] = list(value) if name == "synonyms" else value
    return values


def fetch_records(
    run: SyncRun, source: CatalogSource, shikimori_ids: list[int]
) -> list[AnimeRecord]:
    """Full records of these anime (batched by the source); a failed batch or an id the
    upstream does not know counts as failed, with a log line."""
    try:
        records = source.anime_batch(shikimori_ids)
    except UpstreamError as exc:
        run.failed += len(shikimori_ids)
        run_log(run, f"anime {_ids_text(shikimori_ids)}: {exc}", SyncLogLine.Level.WARNING)
        return []
    missing = sorted(set(shikimori_ids) - {r.shikimori_id for r in records})
    if missing:
        run.failed += len(missing)
        run_log(run, f"anime {_ids_text(missing)}: not found upstream", SyncLogLine.Level.WARNING)
    return records


def _ids_text(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:10]))
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


def _values_for(anime: Anime | None, record: AnimeRecord) -> dict[str, Any]:
    """What a sync of ``record`` writes to ``anime`` (None: a new one): its unlocked fields,
    with every title variant the anime had kept searchable: an old title, original or
    synonym that the new record no longer carries (a rename upstream, the demo catalog's
    extra synonyms) stays among the synonyms."""
    values = _writable(anime, _record_values(record))
    if anime is None or "synonyms" not in values:
        return values
    new = {
        normalize_search_text(str(values.get(name) or ""))
        for name in ("title", "title_original", "title_ru", "title_en", "title_ja")
    }
    for name in ("title", "title_original", "title_ru", "title_en", "title_ja"):
        if name not in values:  # locked or not carried: the anime's own value stays
            new.add(normalize_search_text(getattr(anime, name) or ""))
    synonyms = list(values["synonyms"])
    new |= {normalize_search_text(s) for s in synonyms}
    for old in anime.title_variants():
        key = normalize_search_text(old or "")
        if key and key not in new:
            synonyms.append(old)
            new.add(key)
    values["synonyms"] = synonyms
    return values


def _writable(anime: Anime | None, values: dict[str, Any]) -> dict[str, Any]:
    if anime is None:
        return values
    return {k: v for k, v in values.items() if not anime.is_field_locked(k)}


def _blacklisted(record: AnimeRecord, settings_row: ParserSettings) -> bool:
    if str(record.shikimori_id) in {str(i) for i in settings_row.blacklist_external_ids}:
        return True
    titles = {normalize_search_text(t) for t in settings_row.blacklist_titles}
    names = {normalize_search_text(record.title), normalize_search_text(record.title_ru)}
    return bool(titles & names)


def apply_anime_records(
    run: SyncRun,
    records: list[AnimeRecord],
    *,
    source: CatalogSource,
    fetch_details: bool,
    settings_row: ParserSettings,
) -> None:
    """Upsert one page of anime (counts go to ``run``). Details are fetched for new anime and
    for those whose list data changed (or for all, with ``fetch_details``)."""
    records = [r for r in records if not _blacklisted(r, settings_row)]
    existing = {
        a.shikimori_id: a
        for a in Anime.objects.filter(shikimori_id__in=[r.shikimori_id for r in records])
    }
    # Network first, outside any transaction. Catalog pages (GraphQL) carry full records;
    # short ones (the calendar's) get theirs in batches of 50.
    detailed: list[AnimeRecord] = []
    wanted: list[int] = []
    for record in records:
        anime = existing.get(record.shikimori_id)
        values = _values_for(anime, record)
        if not (fetch_details or anime is None or anime.differs_from(values)):
            run.unchanged += 1
        elif record.is_detail:
            detailed.append(record)
        else:
            wanted.append(record.shikimori_id)
    if wanted:
        detailed += fetch_records(run, source, wanted)
    if not detailed:
        return

    with transaction.atomic():
        genres = genres_upsert(g for r in detailed for g in r.genres or ())
        studios = studios_upsert(s for r in detailed for s in r.studios or ())
        locked = {
            a.shikimori_id: a
            for a in Anime.objects.select_for_update(of=("self",))
            .filter(shikimori_id__in=[r.shikimori_id for r in detailed])
            .prefetch_related("genres", "studios", "relations")
        }
        to_create: list[Anime] = []
        to_update: list[Anime] = []
        changed_fields: set[str] = set()
        relations: list[tuple[Anime, AnimeRecord]] = []
        for record in detailed:
            anime = locked.get(record.shikimori_id)
            values = _values_for(anime, record)
            if anime is None:
                anime = Anime(
                    shikimori_id=record.shikimori_id,
                    source=Anime.Source.PARSER,
                    state=(
                        Anime.State.PUBLISHED
                        if settings_row.autopublish_enabled
                        else Anime.State.DRAFT
                    ),
                    **values,
                )
                anime.search_document = anime.build_search_document()
                to_create.append(anime)
                run.created += 1
            elif (
                anime.differs_from(values)
                or _relations_differ(anime, record, genres, studios)
                or (record.related is not None and relations_differ(anime, _edges(record)))
            ):
                for name, value in values.items():
                    setattr(anime, name, value)
                anime.search_document = anime.build_search_document()
                changed_fields |= {*values, "search_document"}
                to_update.append(anime)
                run.updated += 1
            else:
                run.unchanged += 1
                continue
            relations.append((anime, record))
        Anime.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            Anime.objects.bulk_update(
                to_update, sorted({*changed_fields, "updated_at"}), batch_size=500
            )
        _set_relations(relations, genres, studios)
        relations_set({a.pk: _edges(r) for a, r in relations if r.related is not None})
        if run.dry_run:
            transaction.set_rollback(True)
        elif to_create or to_update:
            catalog_changed()


def _edges(record: AnimeRecord) -> list[tuple[str, int]]:
    return [(r.kind, r.shikimori_id) for r in record.related or ()]


def _relations_differ(
    anime: Anime, record: AnimeRecord, genres: dict[str, Genre], studios: dict[str, Studio]
) -> bool:
    if record.genres is not None and not anime.is_field_locked("genres"):
        current = {genre.pk for genre in anime.genres.all()}  # prefetched
        if current != {genres[g.name].pk for g in record.genres}:
            return True
    if record.studios is not None and not anime.is_field_locked("studios"):
        current_studios = {studio.pk for studio in anime.studios.all()}
        if current_studios != {studios[s.name].pk for s in record.studios}:
            return True
    return False


def _set_relations(
    pairs: list[tuple[Anime, AnimeRecord]], genres: dict[str, Genre], studios: dict[str, Studio]
) -> None:
    genre_rows, studio_rows = [], []
    genre_owners, studio_owners = [], []
    for anime, record in pairs:
        anime.updated_at = timezone.now()
        if record.genres is not None and not anime.is_field_locked("genres"):
            genre_owners.append(anime.pk)
            genre_rows += [
                Anime.genres.through(anime_id=anime.pk, genre_id=genres[g.name].pk)
                for g in record.genres
            ]
        if record.studios is not None and not anime.is_field_locked("studios"):
            studio_owners.append(anime.pk)
            studio_rows += [
                Anime.studios.through(anime_id=anime.pk, studio_id=studios[s.name].pk)
                for s in record.studios
            ]
    Anime.genres.through.objects.filter(anime_id__in=genre_owners).delete()
    Anime.genres.through.objects.bulk_create(genre_rows, ignore_conflicts=True)
    Anime.studios.through.objects.filter(anime_id__in=studio_owners).delete()
    Anime.studios.through.objects.bulk_create(studio_rows, ignore_conflicts=True)


def catalog_sync(run: SyncRun, *, progress: ProgressCallback | None = None) -> None:
    """Options: ``ids`` (list of Shikimori ids: their details are always refetched),
    ``pages`` (how many list pages), ``start_page``, ``since`` (YYYY-MM-DD: anime that started
    airing on or after it), ``status`` (anons/ongoing/released)."""
    options = run.options
    source = catalog_source()
    settings_row = ParserSettings.load()
    if options.get("ids"):
        details = fetch_records(run, source, [int(i) for i in options["ids"]])
        apply_anime_records(
            run, details, source=source, fetch_details=True, settings_row=settings_row
        )
        _save_progress(run, progress)
        return
    since = date.fromisoformat(options["since"]) if options.get("since") else None
    start_page = int(options.get("start_page", 1))
    pages = source.anime_pages(
        start_page=start_page,
        max_pages=int(options["pages"]) if options.get("pages") else None,
        status=options.get("status"),
    )
    for page_number, records in _failing_loudly(pages, start_page, "catalog page"):
        if since is not None:
            records = [r for r in records if r.aired_on and r.aired_on >= since]
        apply_anime_records(
            run, records, source=source, fetch_details=False, settings_row=settings_row
        )
        run_log(run, f"page {page_number}: {len(records)} anime", SyncLogLine.Level.DEBUG)
        _save_progress(run, progress)


# --- calendar --------------------------------------------------------------------------------


def calendar_sync(run: SyncRun, *, progress: ProgressCallback | None = None) -> None:
    """Shikimori's calendar -> AiringSlot (UTC) and Anime.next_episode_at. Anime the catalog
    does not know yet are imported first (as drafts)."""
    try:
        entries = schedule_source().calendar()
    except UpstreamError as exc:
        raise upstream_failure(exc, "calendar") from exc
    source = catalog_source()
    settings_row = ParserSettings.load()
    known = set(
        Anime.objects.filter(shikimori_id__in=[e.shikimori_id for e in entries]).values_list(
            "shikimori_id", flat=True
        )
    )
    unknown = [e.anime for e in entries if e.shikimori_id not in known]
    if unknown:
        apply_anime_records(
            run, unknown, source=source, fetch_details=False, settings_row=settings_row
        )
    with transaction.atomic():
        anime_by_id = {
            a.shikimori_id: a
            for a in Anime.objects.select_for_update().filter(
                shikimori_id__in=[e.shikimori_id for e in entries]
            )
        }
        current = {
            (slot.anime_id, slot.episode): slot
            for slot in AiringSlot.objects.filter(anime__in=anime_by_id.values())
        }
        slots, next_changed = [], []
        for entry in entries:
            anime = anime_by_id.get(entry.shikimori_id)
            if anime is None:
                run.failed += 1
                continue
            slot = current.get((anime.pk, entry.next_episode))
            if slot and (slot.airs_at, slot.duration_seconds) == (
                entry.next_episode_at,
                entry.duration_seconds,
            ):
                run.unchanged += 1
            else:
                run.updated += 1 if slot else 0
                run.created += 0 if slot else 1
                slots.append(
                    AiringSlot(
                        anime=anime,
                        episode=entry.next_episode,
                        airs_at=entry.next_episode_at,
                        duration_seconds=entry.duration_seconds,
                    )
                )
            if anime.next_episode_at != entry.next_episode_at and not anime.is_field_locked(
                "next_episode_at"
            ):
                anime.next_episode_at = entry.next_episode_at
                next_changed.append(anime)
        AiringSlot.objects.bulk_create(
            slots,
            update_conflicts=True,
            unique_fields=["anime", "episode"],
            update_fields=["airs_at", "duration_seconds"],
        )
        Anime.objects.bulk_update(next_changed, ["next_episode_at"])
        if run.dry_run:
            transaction.set_rollback(True)
        elif slots or next_changed:
            catalog_changed()
    _save_progress(run, progress)


# --- episodes (Kodik) ------------------------------------------------------------------------


def _allowed(result: KodikResult, settings_row: ParserSettings) -> bool:
    translation = result.translation
    types = set(settings_row.allowed_translation_types or ["voice", "subtitles"])
    if translation.kind not in types:
        return False
    names = {n.casefold() for n in settings_row.allowed_translations}
    if names and not ({translation.name.casefold(), translation.external_id} & names):
        return False
    qualities = {q.casefold() for q in settings_row.allowed_qualities}
    return not (qualities and not any(q in result.quality.casefold() for q in qualities))


def _episode_targets(run: SyncRun) -> list[Anime]:
    anime = Anime.objects.filter(shikimori_id__isnull=False, deleted_at__isnull=True)
    if run.target == "ongoing":
        anime = anime.filter(status=Anime.Status.ONGOING)
    elif run.target != "all":
        anime = anime.filter(pk__in=[t for t in run.target.split(",") if t])
    return list(anime.order_by("shikimori_id"))


def _recent_materials(
    run: SyncRun, source: EpisodeSource
) -> Iterator[tuple[Anime, list[KodikResult] | None]]:
    """Kodik's /list, newest updates first, until materials older than the last successful
    episode sync (a day back at most when there is none): incremental updates."""
    last = (
        SyncRun.objects.filter(kind=SyncRun.Kind.EPISODES, status=SyncRun.Status.SUCCEEDED)
        .exclude(pk=run.pk)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    since = last or timezone.now() - timedelta(days=1)
    for _, page in _failing_loudly(enumerate(source.list_pages(), start=1), 1, "list page"):
        by_anime: dict[int, list[KodikResult]] = {}
        for result in page.results:
            if result.shikimori_id is not None:
                by_anime.setdefault(result.shikimori_id, []).append(result)
        known = Anime.objects.filter(shikimori_id__in=by_anime, deleted_at__isnull=True)
        for anime in known.order_by("shikimori_id"):
            yield anime, by_anime[anime.shikimori_id]  # type: ignore[index]
        if any(r.updated_at and r.updated_at < since for r in page.results):
            return


def episodes_sync(run: SyncRun, *, progress: ProgressCallback | None = None) -> None:
    """Kodik -> one Release per season, Episodes, and a PlaybackSource per translation.
    Target: "all", "ongoing", "recent" (Kodik's /list since the last run) or comma-separated
    Kitsu anime ids."""
    source = episode_source()
    settings_row = ParserSettings.load()
    work: Iterable[tuple[Anime, list[KodikResult] | None]] = (
        _recent_materials(run, source)
        if run.target == "recent"
        else ((anime, None) for anime in _episode_targets(run))
    )
    blacklist = {str(i) for i in settings_row.blacklist_external_ids}
    for anime, listed in work:
        if str(anime.shikimori_id) in blacklist:
            continue
        with sync_lock(f"episodes:anime:{anime.pk}") as taken:
            if not taken:
                run_log(run, f"{anime.title}: another run is syncing it, skipped")
                continue
            try:
                results = listed if listed is not None else source.materials(anime.shikimori_id)  # type: ignore[arg-type]
            except UpstreamError as exc:
                run.failed += 1
                run_log(run, f"{anime.title}: {exc}", SyncLogLine.Level.WARNING)
                _save_progress(run, progress)
                continue
            results = [
                r
                for r in results
                if r.shikimori_id == anime.shikimori_id and _allowed(r, settings_row)
            ]
            # /search lists everything Kodik has for the anime; a /list page only what changed
            # lately, so only a full listing can retire what Kodik no longer lists.
            outcome = _apply_materials(anime, results, dry_run=run.dry_run, complete=listed is None)
            setattr(run, outcome, getattr(run, outcome) + 1)
        _save_progress(run, progress)


def _apply_materials(
    anime: Anime, results: list[KodikResult], *, dry_run: bool, complete: bool = True
) -> str:
    """Make the anime's Kodik sources what Kodik lists now: upsert releases, episodes and
    sources, and (with ``complete``: ``results`` is everything Kodik has for the anime) retire
    the Kodik sources it no longer lists (a translation taken down, a link removed). Episodes
    and releases stay (watch progress and the library hang off the anime and its episodes),
    and other providers' sources (the demo's, a stream provider's) are not Kodik's to retire.
    Returns created/updated/unchanged."""
    with transaction.atomic():
        Anime.objects.select_for_update().filter(pk=anime.pk).first()
        had_episodes = Episode.objects.filter(release__anime=anime).exists()
        translations = {}
        renamed = False
        for result in results:
            t = result.translation
            translation, _ = Translation.objects.get_or_create(
                provider=Translation.Provider.KODIK,
                external_id=t.external_id,
                defaults={"name": t.name, "kind": t.kind},
            )
            if (translation.name, translation.kind) != (t.name, t.kind):
                translation.name, translation.kind = t.name, t.kind
                translation.save(update_fields=["name", "kind"])
                renamed = True
            translations[t.external_id] = translation
        seasons = sorted({s.number for r in results for s in r.seasons})
        releases = {r.ordering: r for r in Release.objects.filter(anime=anime)}
        changed = renamed
        for number in seasons:
            title = anime.title if len(seasons) == 1 else f"{anime.title} — season {number}"
            wanted = {
                "title": title,
                "kind": anime.kind,
                "year": anime.year,
                "status": anime.status,
            }
            release = releases.get(number)
            if release is None:
                releases[number] = Release.objects.create(anime=anime, ordering=number, **wanted)
                changed = True
        episodes = {
            (e.release_id, e.number): e for e in Episode.objects.filter(release__anime=anime)
        }
        # Every (season, episode) any translation has; the first title seen wins.
        wanted_episodes: dict[tuple[int, int], str] = {}
        for result in results:
            for season in result.seasons:
                for ep in season.episodes:
                    wanted_episodes.setdefault((season.number, ep.number), ep.title)
        new_episodes = [
            Episode(release=releases[season], number=number, title=title)
            for (season, number), title in wanted_episodes.items()
            if (releases[season].pk, number) not in episodes
        ]
        if new_episodes:
            Episode.objects.bulk_create(new_episodes, ignore_conflicts=True)
            changed = True
            episodes = {
                (e.release_id, e.number): e for e in Episode.objects.filter(release__anime=anime)
            }
        sources = {
            (s.episode_id, s.translation_id): s
            for s in PlaybackSource.objects.filter(
                episode__release__anime=anime, translation__provider=Translation.Provider.KODIK
            )
        }
        listed: set[tuple[Any, int]] = set()
        to_create, to_update = [], []
        for result in results:
            translation = translations[result.translation.external_id]
            for season in result.seasons:
                for ep in season.episodes:
                    episode = episodes[(releases[season.number].pk, ep.number)]
                    listed.add((episode.pk, translation.pk))
                    current = sources.get((episode.pk, translation.pk))
                    if current is None:
                        to_create.append(
                            PlaybackSource(
                                episode=episode,
                                translation=translation,
                                url=ep.link,
                                quality=result.quality,
                            )
                        )
                    elif (current.url, current.quality) != (ep.link, result.quality):
                        current.url, current.quality = ep.link, result.quality
                        to_update.append(current)
        PlaybackSource.objects.bulk_create(to_create, batch_size=1000, ignore_conflicts=True)
        PlaybackSource.objects.bulk_update(to_update, ["url", "quality"], batch_size=1000)
        retired = [s.pk for key, s in sources.items() if key not in listed] if complete else []
        if retired:
            PlaybackSource.objects.filter(pk__in=retired).delete()
        changed = changed or bool(to_create or to_update or retired)
        if dry_run:
            transaction.set_rollback(True)
        elif changed:
            catalog_changed()
    if not changed:
        return "unchanged"
    return "updated" if had_episodes else "created"
