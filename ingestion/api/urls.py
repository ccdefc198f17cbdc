from __future__ import annotations

from django.urls import re_path

from ingestion.api import views

urlpatterns = [
    re_path(r"^api/schedule/?$", views.ScheduleView.as_view(), name="schedule"),
    re_path(r"^api/episode/servers/?$", views.EpisodeServersView.as_view(), name="episode-servers"),
    re_path(r"^api/episode/sources/?$", views.EpisodeSourcesView.as_view(), name="episode-sources"),
]
