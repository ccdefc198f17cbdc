from __future__ import annotations

from django.urls import re_path

from library.api import notification_views, views

urlpatterns = [
    re_path(r"^favorites/?$", views.FavoriteListView.as_view(), name="favorites"),
    re_path(
        r"^favorites/(?P<favorite_id>[^/]+)/?$",
        views.FavoriteDetailView.as_view(),
        name="favorite-detail",
    ),
    re_path(r"^watch/progress/?$", views.WatchProgressView.as_view(), name="watch-progress"),
    re_path(r"^watch/continue/?$", views.ContinueWatchingView.as_view(), name="watch-continue"),
    re_path(r"^watch/history/?$", views.WatchHistoryView.as_view(), name="watch-history"),
    re_path(r"^library/?$", views.LibraryListView.as_view(), name="library"),
    re_path(
        r"^library/(?P<anime_id>[^/]+)/?$", views.LibraryEntryView.as_view(), name="library-entry"
    ),
    re_path(r"^api/import/anilist/?$", views.AniListImportView.as_view(), name="import-anilist"),
    # New-episode notifications and the airing calendar (issue 13).
    re_path(
        r"^notifications/?$",
        notification_views.NotificationListView.as_view(),
        name="notifications",
    ),
    re_path(
        r"^notifications/unread-count/?$",
        notification_views.UnreadCountView.as_view(),
        name="notifications-unread-count",
    ),
    re_path(
        r"^notifications/read/?$",
        notification_views.MarkReadView.as_view(),
        name="notifications-read",
    ),
    re_path(
        r"^notifications/(?P<notification_id>[^/]+)/?$",
        notification_views.NotificationDetailView.as_view(),
        name="notification-detail",
    ),
    re_path(
        r"^users/me/calendar\.ics$",
        notification_views.CalendarFeedView.as_view(),
        name="users-me-calendar",
    ),
    re_path(
        r"^users/me/calendar-token/?$",
        notification_views.CalendarTokenView.as_view(),
        name="users-me-calendar-token",
    ),
]
