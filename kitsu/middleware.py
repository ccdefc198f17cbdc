"""Client address behind reverse proxies, done once for everything (rate limits, audit)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse

from kitsu.errors import envelope


class TrustedProxyMiddleware:
    """Rewrite ``REMOTE_ADDR`` from ``X-Forwarded-For``, trusting exactly
    ``TRUSTED_PROXY_COUNT`` proxies. Each trusted proxy appends the address it saw, so the
    client is the entry that many hops from the right; anything further left is whatever the
    client sent and is never trusted. With 0 (the default) the header is ignored."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.hops = settings.TRUSTED_PROXY_COUNT

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.hops:
            forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
            chain = [part.strip() for part in forwarded.split(",") if part.strip()]
            if len(chain) >= self.hops:
                request.META["REMOTE_ADDR"] = chain[-self.hops]
        return self.get_response(request)


class DefaultCacheControlMiddleware:
    """``Cache-Control: private, no-store`` on every answer that sets no policy of its own.

    Public catalog reads say ``public, max-age=...`` (catalog.cache), static files their own
    lifetime (WhiteNoise); everything else (signed-in users' data, tokens, admin pages, errors)
    must never be kept by nginx, a CDN or a shared browser cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response


class QueryStringGuardMiddleware:
    """Refuse a query string that no endpoint could use, before any view or middleware reads it.

    Django raises ``TooManyFieldsSent`` lazily, wherever ``request.GET`` is first read (inside a
    DRF view that turned it into a 500, or never on a view that ignores the query); a NUL byte
    passes Django and is refused by PostgreSQL mid-query. Parsing once here gives every path,
    ``/health`` included, the same 400 envelope.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            params = request.GET
        except TooManyFieldsSent:
            return _bad_request(
                f"Too many query parameters (at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})"
            )
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in params.lists()
        ):
            return _bad_request("Query parameters must not contain NUL characters")
        return self.get_response(request)


def _bad_request(details: str) -> HttpResponse:
    return JsonResponse(envelope(400, details), status=400)
