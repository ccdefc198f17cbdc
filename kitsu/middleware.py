"""Client address behind reverse proxies, done once for everything (rate limits, audit)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


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
