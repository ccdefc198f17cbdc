"""OpenAPI description of Kitsu's bearer authentication (drf-spectacular extension)."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class SessionJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.SessionJWTAuthentication"


class OptionalSessionJWTScheme(SimpleJWTScheme):
    """Bearer token accepted but not required (a bad one is ignored)."""

    target_class = "accounts.authentication.OptionalSessionJWTAuthentication"
    name = "bearerAuth"
    optional = True
