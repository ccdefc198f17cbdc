"""Auth rate limits on django-ratelimit and the shared Redis cache (audit finding 1.3).

Counting happens in Redis (atomic ``INCR``), so the limits hold across every worker and host.
Each attempt is counted *before* it is checked: with N workers racing, exactly ``limit``
attempts get through a window and the rest get 429. A successful login hands its attempt back
(so the limit is on failures), and a cache failure refuses the attempt (fail closed, 503).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import _get_window, _make_cache_key, _split_rate, get_usage
from rest_framework import status

from kitsu.errors import ApiError

logger = logging.getLogger(__name__)


class RateLimited(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, retry_after: int) -> None:
        super().__init__(None)
        self.headers = {"Retry-After": str(max(1, retry_after))}


class RateLimitUnavailable(ApiError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE

    def __init__(self) -> None:
        super().__init__(
            "Sign-in is temporarily unavailable (rate-limit store unreachable)",
            message="Service unavailable",
        )


@dataclass(frozen=True)
class Limit:
    group: str
    rate: str
    key: str  # the bucket: client IP, or "IP:email"

    def hit(self, request: HttpRequest) -> None:
        """Count one attempt; raise RateLimited past the limit, RateLimitUnavailable if Redis
        cannot be reached (fail closed)."""
        try:
            usage = get_usage(
                request,
                group=self.group,
                key=lambda _g, _r: self.key,
                rate=self.rate,
                increment=True,
            )
        except Exception as exc:  # redis.ConnectionError, timeouts: refuse rather than guess
            logger.error("rate-limit store unavailable for %s: %s", self.group, exc)
            raise RateLimitUnavailable from exc
        if usage is not None and usage["should_limit"]:
            raise RateLimited(usage["time_left"])

    def refund(self) -> None:
        """Give back the attempt counted by ``hit`` (a successful login is not a failure)."""
        _, period = _split_rate(self.rate)
        cache_key = _make_cache_key(
            self.group, _get_window(self.key, period), self.rate, self.key, ALL
        )
        try:
            caches[settings.RATELIMIT_USE_CACHE].decr(cache_key)
        except Exception:  # key expired meanwhile, or Redis gone: nothing to give back
            logger.debug("no rate-limit count to refund for %s", self.group)


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def login_limits(request: HttpRequest, email: str) -> tuple[Limit, Limit]:
    """The API login and the Django admin login share these buckets: guesses against one
    account count the same whichever door they come through."""
    ip = client_ip(request)
    return (
        Limit("auth.login.ip", settings.LOGIN_IP_RATE, ip),
        Limit("auth.login.failures", settings.LOGIN_FAILURE_RATE, f"{ip}:{email.lower()}"),
    )


def register_limit(request: HttpRequest) -> Limit:
    return Limit("auth.register", settings.REGISTER_IP_RATE, client_ip(request))


def refresh_limit(request: HttpRequest) -> Limit:
    return Limit("auth.refresh.failures", settings.REFRESH_FAILURE_RATE, client_ip(request))
