"""Catalog models in the Django admin, the editors' back-office. Every anime write (form save,
transitions, locks, bulk actions) goes through the editorial services: same rules and audit
as the admin API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.models import AuditEntry
from accounts.permissions import has_permission
from catalog import selectors, services
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
from ingestion.models import SyncRun
from ingestion.runs import run_enqueue
from kitsu.errors import ApiError


@admin.register(Genre)
class GenreAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ru", "slug", "kind", "shikimori_id")
    list_filter = ("kind",)
    search_fields = ("name", "name_ru", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Studio)
class StudioAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "shikimori_id")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class ReleaseInline(admin.TabularInline):
    model = Release
    extra = 0
    fields = ("ordering", "title", "kind", "year", "status")
    show_change_link = True


class HasVideoFilter(admin.SimpleListFilter):
    title = "has video"
    parameter_name = "has_video"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Anime]) -> QuerySet[Anime]:
        if self.value() in ("yes", "no"):
            return queryset.filter(has_video=self.value() == "yes")  # type: ignore[misc]
        return queryset


class HasProblemsFilter(admin.SimpleListFilter):
    """catalog.selectors.PROBLEMS (anime_problems as one database condition)."""

    title = "has problems"
    parameter_name = "has_problems"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Anime]) -> QuerySet[Anime]:
        if self.value() == "yes":
            return queryset.filter(selectors.PROBLEMS)
        if self.value() == "no":
            return queryset.exclude(selectors.PROBLEMS)
        return queryset


class LockedFilter(admin.SimpleListFilter):
    title = "locked"
    parameter_name = "locked"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Record or fields locked"), ("no", "Not locked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Anime]) -> QuerySet[Anime]:
        locked = Q(is_locked=True) | ~Q(locked_fields=[])
        if self.value() == "yes":
            return queryset.filter(locked)
        if self.value() == "no":
            return queryset.exclude(locked)
        return queryset


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Not deleted"), ("yes", "Deleted")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Anime]) -> QuerySet[Anime]:
        if self.value() in ("yes", "no"):
            return queryset.filter(deleted_at__isnull=self.value() == "no")
        return queryset


@admin.register(Anime)
class AnimeAdmin(admin.ModelAdmin):
    list_display = (
        "poster_thumbnail",
        "title",
        "title_ru",
        "kind",
        "status",
        "year",
        "state",
        "video",
        "problems",
        "episodes_aired",
        "episodes_total",
        "score",
        "updated_at",
    )
    list_display_links = ("title",)
    list_filter = (
        "state",
        "kind",
        "status",
        "season",
        "year",
        "source",
        HasVideoFilter,
        HasProblemsFilter,
        LockedFilter,
        DeletedFilter,
    )
    # Matches any title variant, case- and accent-insensitively (normalized document).
    search_fields = ("search_document__contains",)  # LIKE on the trigram GIN index
    search_help_text = "Any title: original, romaji, Russian, English, Japanese, synonyms"
    autocomplete_fields = ("genres", "studios")
    readonly_fields = (
        "id",
        "state",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "deleted_at",
        "deleted_by",
        "delete_reason",
        "is_locked",
        "locked_fields",
        "locked_by",
        "locked_reason",
        "locked_at",
    )
    list_per_page = 50
    show_full_result_count = False  # no second COUNT(*) over the whole table
    inlines = (ReleaseInline,)
    change_form_template = "admin/catalog/anime/change_form.html"
    actions = (
        "publish",
        "unpublish",
        "archive",
        "lock_records",
        "unlock_records",
        "soft_delete",
        "restore",
        "sync_episodes_now",
    )
    fieldsets = (
        (None, {"fields": ("id", "title", "title_original", "title_ru", "title_en", "title_ja")}),
        ("Content", {"fields": ("synonyms", "description", "poster_url", "genres", "studios")}),
        (
            "Airing",
            {
                "fields": (
                    ("kind", "status", "rating"),
                    ("year", "season"),
                    ("aired_on", "released_on", "next_episode_at"),
                    ("episodes_total", "episodes_aired", "duration_minutes"),
                    ("score", "franchise"),
                )
            },
        ),
        ("Upstream", {"fields": ("shikimori_id", "mal_id", "source")}),
        ("Workflow", {"fields": ("state", "created_by", "updated_by")}),
        (
            "Locks",
            {"fields": ("is_locked", "locked_fields", "locked_by", "locked_reason", "locked_at")},
        ),
        ("Soft delete", {"fields": ("deleted_at", "deleted_by", "delete_reason")}),
        ("Timestamps", {"fields": ("created_at", "updated_at")}),
    )

    # --- change page: read-only locked fields, audited saves, transitions, locks ------------

    def get_readonly_fields(self, request: HttpRequest, obj: Anime | None = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not has_permission(request.user, "anime.unlock"):
            locked = services.LOCKABLE_FIELDS if obj.is_locked else obj.locked_fields or []
            readonly += [f for f in locked if f not in readonly]
        return readonly

    def save_model(self, request: HttpRequest, obj: Anime, form: Any, change: bool) -> None:
        """Saved in ``save_related``, through the editorial service (rules and audit)."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        result = services.anime_admin_save(
            request=request,
            anime=form.instance,
            created=not change,
            save_related=lambda: super(AnimeAdmin, self).save_related(
                request, form, formsets, change
            ),
        )
        for warning in result.warnings:
            messages.warning(request, warning)

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/transition/<str:state>/",
                wrap(self.transition_view),
                name="catalog_anime_transition",
            ),
            path("<path:object_id>/lock/", wrap(self.lock_view), name="catalog_anime_lock"),
            path("<path:object_id>/unlock/", wrap(self.unlock_view), name="catalog_anime_unlock"),
            *super().get_urls(),
        ]

    def _back(self, object_id: str) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:catalog_anime_change", args=[object_id]))

    def _run(
        self,
        request: HttpRequest,
        object_id: str,
        permission: str,
        change: Callable[[], object],
        done: str,
    ) -> HttpResponseRedirect:
        if request.method != "POST" or not has_permission(request.user, permission):
            raise PermissionDenied
        try:
            change()
        except ApiError as exc:
            self.message_user(request, str(exc.details or exc.message), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return self._back(object_id)

    def transition_view(
        self, request: HttpRequest, object_id: str, state: str
    ) -> HttpResponseRedirect:
        reason = request.POST.get("reason", "")
        return self._run(
            request,
            object_id,
            "anime.edit",
            lambda: services.anime_update(
                request=request,
                anime_id=object_id,
                changes={"state": state},
                reason=reason,
            ),
            f"State changed to {state}",
        )

    def lock_view(self, request: HttpRequest, object_id: str) -> HttpResponseRedirect:
        fields = None if request.POST.get("whole") else request.POST.getlist("fields") or None
        reason = request.POST.get("reason", "")
        # Editors protect the fields they edited; locking the whole record needs anime.lock.
        permission = "anime.edit" if fields else "anime.lock"
        return self._run(
            request,
            object_id,
            permission,
            lambda: services.anime_lock(
                request=request,
                anime_id=object_id,
                fields=fields,
                reason=reason,
            ),
            f"Locked {', '.join(fields) if fields else 'the whole record'}",
        )

    def unlock_view(self, request: HttpRequest, object_id: str) -> HttpResponseRedirect:
        return self._run(
            request,
            object_id,
            "anime.unlock",
            lambda: services.anime_unlock(
                request=request,
                anime_id=object_id,
                reason=request.POST.get("reason", ""),
            ),
            "Unlocked",
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        anime = selectors.with_video(Anime.objects.filter(pk=object_id)).first()
        if anime is not None:
            extra_context = {
                **(extra_context or {}),
                "transitions": sorted(services.TRANSITIONS.get(anime.state, ())),
                "problems": selectors.anime_problems(anime, has_video=anime.has_video),  # type: ignore[attr-defined]
                "lockable_fields": services.LOCKABLE_FIELDS,
                "can_edit": has_permission(request.user, "anime.edit"),
                "can_lock": has_permission(request.user, "anime.lock"),
                "can_unlock": has_permission(request.user, "anime.unlock"),
                "audit_entries": AuditEntry.objects.filter(
                    entity_type="anime", entity_id=str(anime.pk)
                ).select_related("actor")[:50],
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Anime]:
        return selectors.with_video(super().get_queryset(request))

    @admin.display(description="poster")
    def poster_thumbnail(self, anime: Anime) -> str:
        if not anime.poster_url:
            return "—"
        return format_html(
            '<img src="{}" alt="" style="height:48px" loading="lazy">', anime.poster_url
        )

    @admin.display(description="problems")
    def problems(self, anime: Anime) -> str:
        found = selectors.anime_problems(anime, has_video=bool(getattr(anime, "has_video", False)))
        return ", ".join(found) or "—"

    @admin.display(description="video", boolean=True, ordering="has_video")
    def video(self, anime: Anime) -> bool:
        return bool(getattr(anime, "has_video", False))

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Anime],
        verb: str,
        change: Callable[[Anime], object],
    ) -> None:
        """Apply one editorial service per anime (each audited in its own transaction) and
        report what was refused and why."""
        done, refused = 0, []
        for anime in queryset:
            try:
                change(anime)
                done += 1
            except ApiError as exc:
                refused.append(f"{anime.title}: {exc.details or exc.message}")
        if done:
            self.message_user(request, f"{verb}: {done} anime", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, f"Not {verb.lower()}: {reason}", messages.WARNING)

    def _state(self, request: HttpRequest, anime: Anime, *states: str) -> None:
        for state in states:
            services.anime_update(
                request=request,
                anime_id=str(anime.pk),
                changes={"state": state},
                reason="admin bulk action",
            )

    @admin.action(description="Publish (pending → published)", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Anime]) -> None:
        self._each(
            request, queryset, "Published", lambda a: self._state(request, a, Anime.State.PUBLISHED)
        )

    @admin.action(description="Unpublish (back to draft, via archived)", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Anime]) -> None:
        self._each(
            request,
            queryset.filter(state=Anime.State.PUBLISHED),
            "Unpublished",
            lambda a: self._state(request, a, Anime.State.ARCHIVED, Anime.State.DRAFT),
        )

    @admin.action(description="Archive", permissions=["change"])
    def archive(self, request: HttpRequest, queryset: QuerySet[Anime]) -> None:
        self._each(
            request, queryset, "Archived", lambda a: self._state(request, a, Anime.State.ARCHIVED)
        )

    @admin.action(description="Lock the whole record", permissions=["lock"])
    def lock_records(self, request: HttpRequest, queryset: QuerySet[Anime]) -> None:
        self._each(
            request,
            queryset,
            "Locked",
            lambda a: services.anime_lock(
                request=request, anime_id=str(a.pk), fields=None, reason="admin bulk action"
            ),
        )

    @admin.action(description="Unlock (record and fields)", permissions=["unlock"])
    def unlock_records(self, request: HttpRequest, queryset: QuerySet[Anime]) -> None:
        self._each(
            request,
            queryset,
            "Unlocked",
            lambda a: services.anime_unlock(
                request=request, anime_id=str(a.pk), reason="admin bulk action"
            ),
        )

    @admin.action(
        description="Delete (hide; users' favorites and progress are kept)",
        permissions=["soft_delete"],
    )
    def soft_delete(self, request: HttpRequest, queryset: QuerySet[Anime]) -> None:
        self._each(
            request,
            queryset,
            "Deleted",
            lambda a: services.anime_soft_delete(
                request=request, anime_id=str(a.pk), reason="admin bulk action"
            ),
        )

    @admin.action(description="Restore deleted anime", permissions=["soft_delete"])
    def restore(self, request: HttpRequest, queryset: QuerySet[Anime]) -> None:
        self._each(
            request,
            queryset,
            "Restored",
            lambda a: services.anime_restore(
                request=request, anime_id=str(a.pk), reason="admin bulk action"
            ),
        )

    def has_soft_delete_permission(self, request: HttpRequest) -> bool:
        return has_permission(request.user, "anime.delete")

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Anime are never hard-deleted from the admin (audit finding 9): use soft delete.
        return False

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_lock_permission(self, request: HttpRequest) -> bool:
        return has_permission(request.user, "anime.lock")

    def has_unlock_permission(self, request: HttpRequest) -> bool:
        return has_permission(request.user, "anime.unlock")

    @admin.action(description="Sync episodes from Kodik now (queued job)", permissions=["change"])
    def sync_episodes_now(self, request: HttpRequest, queryset: QuerySet[Anime]) -> None:
        ids = [
            str(pk)
            for pk in queryset.filter(shikimori_id__isnull=False).values_list("pk", flat=True)
        ]
        if not ids:
            self.message_user(request, "None of these anime has a Shikimori id", messages.WARNING)
            return
        run = run_enqueue(
            kind=SyncRun.Kind.EPISODES, trigger=SyncRun.Trigger.ADMIN, target=",".join(ids)
        )
        url = reverse("admin:ingestion_syncrun_change", args=[run.pk])
        self.message_user(
            request,
            format_html('Queued <a href="{}">sync run #{}</a> for {} anime', url, run.pk, len(ids)),
            messages.SUCCESS,
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Anime], search_term: str
    ) -> tuple[QuerySet[Anime], bool]:
        return super().get_search_results(request, queryset, normalize_search_text(search_term))


class EpisodeInline(admin.TabularInline):
    model = Episode
    extra = 0
    fields = ("number", "title", "air_date")
    show_change_link = True
    ordering = ("number",)


INLINE_EPISODES_MAX = 100


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ("title", "anime", "ordering", "kind", "year", "status")
    list_select_related = ("anime",)
    list_filter = ("kind", "status")
    search_fields = ("title", "anime__title")
    autocomplete_fields = ("anime",)
    inlines = (EpisodeInline,)
    readonly_fields = ("episodes_link",)
    show_full_result_count = False

    @admin.display(description="episodes")
    def episodes_link(self, release: Release) -> str:
        if release.pk is None:
            return "—"
        url = reverse("admin:catalog_episode_changelist") + f"?release__id__exact={release.pk}"
        return format_html('<a href="{}">{} episodes</a>', url, release.episodes.count())

    def get_inline_instances(self, request: HttpRequest, obj: Release | None = None) -> Any:
        # A long-running show has over a thousand episodes: link to them instead of inlining.
        if obj is not None and obj.episodes.count() > INLINE_EPISODES_MAX:
            return []
        return super().get_inline_instances(request, obj)


class PlaybackSourceInline(admin.TabularInline):
    model = PlaybackSource
    extra = 0
    autocomplete_fields = ("translation",)
    fields = ("translation", "url", "quality")


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = ("__str__", "release", "number", "title", "air_date")
    list_select_related = ("release",)
    search_fields = ("release__title", "title")
    autocomplete_fields = ("release",)
    inlines = (PlaybackSourceInline,)
    show_full_result_count = False


@admin.register(Translation)
class TranslationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "provider", "external_id")
    list_filter = ("provider", "kind")
    search_fields = ("name", "external_id")


@admin.register(AiringSlot)
class AiringSlotAdmin(admin.ModelAdmin):
    list_display = ("anime", "episode", "airs_at", "duration_seconds")
    list_select_related = ("anime",)
    autocomplete_fields = ("anime",)
    date_hierarchy = "airs_at"
    search_fields = ("anime__title",)
