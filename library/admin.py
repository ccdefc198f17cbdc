from __future__ import annotations

from django.contrib import admin

from library.models import EpisodeView, Favorite, LibraryEntry, Notification, WatchProgress


class _UserDataAdmin(admin.ModelAdmin):
    """Support staff look users' data up; the users own it, so the admin only reads it."""

    list_select_related = ("user", "anime")
    raw_id_fields = ("user", "anime")
    search_fields = ("user__email", "anime__title")
    show_full_result_count = False

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Favorite)
class FavoriteAdmin(_UserDataAdmin):
    list_display = ("user", "anime", "created_at")


@admin.register(WatchProgress)
class WatchProgressAdmin(_UserDataAdmin):
    list_display = (
        "user",
        "anime",
        "episode",
        "position_seconds",
        "progress_percent",
        "last_watched_at",
    )


@admin.register(EpisodeView)
class EpisodeViewAdmin(_UserDataAdmin):
    list_display = ("user", "anime", "episode", "progress_percent", "last_watched_at")


@admin.register(LibraryEntry)
class LibraryEntryAdmin(_UserDataAdmin):
    list_display = ("user", "anime", "status", "score", "episodes_watched", "updated_at")
    list_filter = ("status",)


@admin.register(Notification)
class NotificationAdmin(_UserDataAdmin):
    list_display = ("user", "anime", "episode_number", "available_at", "read_at")
