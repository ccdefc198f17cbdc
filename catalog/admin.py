"""Catalog models in the Django admin. Deeper editorial workflows (locks, transitions, audit)
are built on services in the back-office work; these pages are the plain editing surface."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

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


@admin.register(Anime)
class AnimeAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "title_ru",
        "kind",
        "status",
        "year",
        "state",
        "episodes_aired",
        "episodes_total",
        "score",
        "updated_at",
    )
    list_filter = ("state", "kind", "status", "season", "year", "source")
    # Matches any title variant, case- and accent-insensitively (normalized document).
    search_fields = ("search_document",)
    search_help_text = "Any title: original, romaji, Russian, English, Japanese, synonyms"
    autocomplete_fields = ("genres", "studios")
    readonly_fields = ("id", "created_at", "updated_at", "created_by", "updated_by", "deleted_by")
    list_per_page = 50
    show_full_result_count = False  # no second COUNT(*) over the whole table
    inlines = (ReleaseInline,)
    actions = ("sync_episodes_now",)
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
        ("Soft delete", {"fields": ("deleted_at", "deleted_by", "delete_reason")}),
        ("Timestamps", {"fields": ("created_at", "updated_at")}),
    )

    @admin.action(description="Sync episodes from Kodik now (queued job)", permissions=["change"])
    def sync_episodes_now(self, request: HttpRequest, queryset: QuerySet[Anime]) -> None:
        from ingestion.models import SyncRun
        from ingestion.services import run_enqueue

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


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ("title", "anime", "ordering", "kind", "year", "status")
    list_select_related = ("anime",)
    list_filter = ("kind", "status")
    search_fields = ("title", "anime__title")
    autocomplete_fields = ("anime",)
    inlines = (EpisodeInline,)
    show_full_result_count = False


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
