from __future__ import annotations

from django.urls import re_path

from catalog.api import admin_views, views

# Slashless paths as the frontend sends them; an optional trailing slash, never a redirect.
urlpatterns = [
    re_path(r"^anime/?$", views.AnimeListView.as_view(), name="anime-list"),
    re_path(r"^anime/(?P<anime_id>[^/]+)/?$", views.AnimeDetailView.as_view(), name="anime-detail"),
    re_path(
        r"^anime/(?P<anime_id>[^/]+)/related/?$",
        views.AnimeRelatedView.as_view(),
        name="anime-related",
    ),
    re_path(r"^search/anime/?$", views.AnimeSearchView.as_view(), name="anime-search"),
    re_path(r"^releases/?$", views.ReleaseListView.as_view(), name="release-list"),
    re_path(
        r"^releases/(?P<release_id>[^/]+)/?$",
        views.ReleaseDetailView.as_view(),
        name="release-detail",
    ),
    re_path(r"^episodes/?$", views.EpisodeListView.as_view(), name="episode-list"),
    re_path(r"^genres/?$", views.GenreListView.as_view(), name="genre-list"),
    re_path(r"^api/admin/anime/?$", admin_views.AdminAnimeListView.as_view(), name="admin-anime"),
    re_path(
        r"^api/admin/anime/(?P<anime_id>[^/]+)/?$",
        admin_views.AdminAnimeDetailView.as_view(),
        name="admin-anime-detail",
    ),
]
