from __future__ import annotations

from django.urls import re_path

from ingestion.api import admin_views, views

urlpatterns = [
    re_path(r"^api/schedule/?$", views.ScheduleView.as_view(), name="schedule"),
    re_path(r"^api/episode/servers/?$", views.EpisodeServersView.as_view(), name="episode-servers"),
    re_path(r"^api/episode/sources/?$", views.EpisodeSourcesView.as_view(), name="episode-sources"),
    re_path(r"^api/admin/parser/dashboard/?$", admin_views.DashboardView.as_view()),
    re_path(r"^api/admin/parser/settings/?$", admin_views.SettingsView.as_view()),
    re_path(r"^api/admin/parser/mode/?$", admin_views.ModeView.as_view()),
    re_path(r"^api/admin/parser/emergency-stop/?$", admin_views.EmergencyStopView.as_view()),
    re_path(r"^api/admin/parser/logs/?$", admin_views.LogsView.as_view()),
]
