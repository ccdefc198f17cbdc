from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.admin import admin_login
from kitsu import errors, health

admin.site.site_header = "Kitsu back-office"
admin.site.site_title = "Kitsu"

urlpatterns = [
    re_path(r"^health/?$", health.LivenessView.as_view(), name="health"),
    re_path(r"^health/ready/?$", health.ReadinessView.as_view(), name="health-ready"),
    path("", include("catalog.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("library.api.urls")),
    path("", include("ingestion.api.urls")),
    # The admin's login, behind the API login's rate limits (accounts.admin.admin_login).
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # Anything else: the JSON envelope, also with DEBUG on (Django's HTML 404 otherwise).
    re_path(r"^", errors.page_not_found),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
