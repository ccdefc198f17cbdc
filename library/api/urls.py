from __future__ import annotations

from django.urls import re_path

from library.api import views

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
]
