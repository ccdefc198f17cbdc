"""The one HTTP layer every upstream client uses (httpx).

* Explicit timeouts; retries with exponential backoff and jitter on timeouts, connection
  errors, 5xx, 429 (honouring ``Retry-After`` when present: Shikimori's plain-text 429 has
  none) and JSON bodies that do not decode (a truncated page); no retry on other 4xx.
* A request rate limit per upstream shared by every process through Redis: ``limits``'
  moving windows (every 1 s and every 60 s span, not calendar windows), so N workers together
  stay within e.g. Shikimori's 5 rps AND 90 rpm (``SHIKIMORI_RATE_LIMITS``).
* Errors are typed: ``UpstreamError`` (mapped to 502) and ``UpstreamTimeout`` (504). Query
  strings are never logged (Kodik's token travels in them). ``UpstreamClient.parsed`` is the
  one place a parser's ``UpstreamParseError`` becomes an ``UpstreamError``.
* One ``httpx.Client`` (one connection pool) per upstream client; ``close()`` releases it
  (``ingestion.sources`` keeps one client per upstream per process and closes it).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MovingWindowSupport, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from ingestion.records import UpstreamParseError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class UpstreamError(Exception):
    """An upstream failed (5xx, 4xx, bad body, unreachable). The API answers 502."""

    def __init__(self, upstream: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{upstream}: {message}")
        self.upstream = upstream
        self.reason = message
        self.status = status
        self.attempts = 1  # how many requests were tried before giving up


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer in time. The API answers 504."""


def parse_rates(spec: str) -> list[RateLimitItem]:
    """``"5/second;90/minute"`` or ``"5 per 1 second; 20 per 10 seconds"`` (``limits``'
    notation) -> rate limit items; a bad spec is a configuration error."""
    try:
        return list(parse_many(spec)) if spec.strip() else []
    except ValueError as exc:
        raise ImproperlyConfigured(f"bad rate limit {spec!r}: {exc}") from exc


def configured_rates(upstream: str) -> list[RateLimitItem]:
    """An upstream's limits from the settings: ``<UPSTREAM>_RATE_LIMITS`` when set (any
    windows, e.g. ``"5/second;20 per 10 seconds"``), else ``<UPSTREAM>_RPS`` per second and
    ``<UPSTREAM>_RPM`` per minute."""
    prefix = upstream.upper()
    spec = getattr(settings, f"{prefix}_RATE_LIMITS", "") or (
        f"{getattr(settings, f'{prefix}_RPS')}/second;{getattr(settings, f'{prefix}_RPM')}/minute"
    )
    return parse_rates(spec)


_storage_lock = threading.Lock()
_storage: tuple[tuple[str, str, int], MovingWindowSupport] | None = None


def rate_storage() -> MovingWindowSupport:
    """The ``limits`` storage every process shares: Redis (``REDIS_URL``, keys under
    ``CACHE_KEY_PREFIX``, so parallel test runs never share buckets); in the embedded mode
    without Redis, this process's memory (one process, so nothing to share)."""
    global _storage
    config = (settings.REDIS_URL, settings.CACHE_KEY_PREFIX, os.getpid())
    with _storage_lock:
        if _storage is None or _storage[0] != config:
            if settings.REDIS_URL:
                storage = storage_from_string(
                    settings.REDIS_URL,
                    key_prefix=f"{settings.CACHE_KEY_PREFIX}:upstream-rate",
                    socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
                    socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
                )
            else:
                storage = storage_from_string("memory://")
            _storage = (config, cast("MovingWindowSupport", storage))
        return _storage[1]


class SharedRateLimiter:
    """Every moving window of ``rates`` (e.g. 5 per second AND 90 per minute) for one
    upstream, across processes: ``limits``' moving-window strategy in Redis.

    A request is admitted only when each window holds fewer than its limit, counted over the
    window plus ``margin`` seconds: the upstream counts requests when they arrive, a little
    after they were admitted, and the margin absorbs that jitter. The admission itself is
    ``limits``' atomic ``hit`` (one Lua script per window), shortest window first, so a
    window that refuses costs at most a slot of a shorter one (being slower, never faster).
    A refused caller sleeps until the oldest entry of the full window leaves it, and checks
    every window again.
    """

    def __init__(
        self,
        name: str,
        rates: list[RateLimitItem],
        *,
        margin: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.rates = sorted(rates, key=lambda item: item.get_expiry())
        self.margin = margin if margin is not None else settings.UPSTREAM_RATE_MARGIN
        self.sleep = sleep

    def _wait(self, storage: MovingWindowSupport) -> float:
        """Seconds until every window (plus margin) has room; 0 when it has now."""
        now = time.time()
        wait = 0.0
        for item in self.rates:
            expiry = item.get_expiry() + self.margin
            start, count = storage.get_moving_window(
                item.key_for(self.name),
                item.amount,
                expiry,  # type: ignore[arg-type]
            )
            if count >= item.amount:
                wait = max(wait, start + expiry - now)
        return wait

    def acquire(self) -> None:
        if not self.rates:
            return
        try:
            storage = rate_storage()
            limiter = MovingWindowRateLimiter(cast("Any", storage))
            while True:
                wait = self._wait(storage)
                if wait <= 0 and all(limiter.hit(item, self.name) for item in self.rates):
                    return
                # Jitter: waiters of several processes do not all wake at the same instant.
                self.sleep(max(wait, 0.01) + random.uniform(0, 0.02))
        except StorageError as exc:
            raise UpstreamError(self.name, f"rate limiter storage unavailable ({exc})") from exc
        except RedisError as exc:
            raise UpstreamError(
                self.name, f"rate limiter storage unavailable ({exc.__class__.__name__})"
            ) from exc


class UpstreamClient:
    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        rates: list[RateLimitItem] | str,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float | None = None,
        max_wait: float | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.timeout = timeout if timeout is not None else settings.UPSTREAM_TIMEOUT
        self.retries = retries if retries is not None else settings.UPSTREAM_RETRIES
        self.backoff = backoff if backoff is not None else settings.UPSTREAM_BACKOFF
        self.max_wait = max_wait if max_wait is not None else settings.UPSTREAM_MAX_WAIT
        self.sleep = sleep
        self.limiter = SharedRateLimiter(
            name, parse_rates(rates) if isinstance(rates, str) else rates, sleep=sleep
        )
        self.http = httpx.Client(
            base_url=base_url,
            headers=dict(headers or {}),
            timeout=httpx.Timeout(self.timeout, connect=min(5.0, self.timeout)),
            follow_redirects=True,
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(self.max_wait, max(0.0, float(retry_after)))
            except ValueError:
                pass  # an HTTP date or garbage: fall back to backoff
        jitter = random.uniform(0, self.backoff / 2)
        return min(self.max_wait, self.backoff * 2**attempt + jitter)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        return self._exchange(method, url, params=params, data=data)[0]

    def get_json(
        self, url: str, *, params: Mapping[str, Any] | None = None, method: str = "GET"
    ) -> Any:
        """The decoded JSON body. A body that does not decode (a truncated page) is retried
        like a 5xx: it is the same kind of passing upstream failure."""
        return self._exchange(method, url, params=params, decode=True)[1]

    def post_json(self, url: str, body: Mapping[str, Any]) -> Any:
        """POST a JSON body (GraphQL); the decoded JSON answer, retried like ``get_json``."""
        return self._exchange("POST", url, json_body=body, decode=True)[1]

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
        decode: bool = False,
    ) -> tuple[httpx.Response, Any]:
        last_error: UpstreamError | None = None
        for attempt in range(self.retries + 1):
            self.limiter.acquire()
            retry_after = None
            try:
                response = self.http.request(method, url, params=params, data=data, json=json_body)
            except httpx.TimeoutException:
                last_error = UpstreamTimeout(self.name, f"timed out after {self.timeout:g}s")
            except httpx.TransportError as exc:
                last_error = UpstreamError(self.name, f"unreachable ({exc.__class__.__name__})")
            else:
                status = response.status_code
                if status < 400:
                    if not decode:
                        return response, None
                    try:
                        return response, response.json()
                    except ValueError as exc:
                        last_error = UpstreamError(
                            self.name, f"answered with malformed JSON ({_json_problem(exc)})"
                        )
                elif status == 429:
                    retry_after = response.headers.get("Retry-After")
                    last_error = UpstreamError(self.name, "rate limited (429)", status=status)
                elif status >= 500:
                    last_error = UpstreamError(self.name, f"server error {status}", status=status)
                else:
                    raise UpstreamError(self.name, f"refused the request ({status})", status=status)
            if attempt < self.retries:
                delay = self._delay(attempt, retry_after)
                logger.warning(
                    "%s %s: %s; retry %d/%d in %.1fs",
                    self.name,
                    httpx.URL(url).path,
                    last_error,
                    attempt + 1,
                    self.retries,
                    delay,
                )
                self.sleep(delay)
        assert last_error is not None
        last_error.attempts = self.retries + 1
        raise last_error

    def parsed(self, parse: Callable[[Any], T], payload: object) -> T:
        """``parse(payload)``; a payload of the wrong shape is this upstream's failure (502)."""
        try:
            return parse(payload)
        except UpstreamParseError as exc:
            raise UpstreamError(self.name, exc.reason) from exc


def _json_problem(exc: ValueError) -> str:
    """``json.JSONDecodeError`` -> "truncated: unterminated string at char 28474 of 28480"."""
    message = str(getattr(exc, "msg", exc)).lower().replace(" starting at", "")
    position = getattr(exc, "pos", None)
    document = str(getattr(exc, "doc", ""))
    if position is None:
        return message
    truncated = position >= len(document.rstrip()) or message.startswith("unterminated")
    where = f"{message} at char {position} of {len(document)}"
    return f"truncated: {where}" if truncated else where
