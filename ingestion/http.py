"""The one HTTP layer every upstream client uses (httpx).

* Explicit timeouts; retries with exponential backoff and jitter on timeouts, connection
  errors, 5xx and 429 (honouring ``Retry-After`` when present: Shikimori's plain-text 429 has
  none); no retry on other 4xx.
* A request rate limit per upstream shared by every process through Redis (fixed windows per
  second and per minute), so N workers together stay within e.g. Shikimori's 5 rps / 90 rpm.
* Errors are typed: ``UpstreamError`` (mapped to 502) and ``UpstreamTimeout`` (504). Query
  strings are never logged (Kodik's token travels in them). ``UpstreamClient.parsed`` is the
  one place a parser's ``UpstreamParseError`` becomes an ``UpstreamError``.
* One ``httpx.Client`` (one connection pool) per upstream client; ``close()`` releases it
  (``ingestion.sources`` keeps one client per upstream per process and closes it).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from django.conf import settings
from django.core.cache import BaseCache, caches

from ingestion.records import UpstreamParseError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class UpstreamError(Exception):
    """An upstream failed (5xx, 4xx, bad body, unreachable). The API answers 502."""

    def __init__(self, upstream: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{upstream}: {message}")
        self.upstream = upstream
        self.status = status


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer in time. The API answers 504."""


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int


class SharedRateLimiter:
    """At most ``limit`` requests per ``seconds`` window for one upstream, across processes.

    Counts live in the ``shared`` cache (Redis in production): ``add`` + atomic ``incr``. A
    caller over the limit sleeps until the window ends and tries again.
    """

    def __init__(
        self, name: str, rates: list[Rate], *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.name = name
        self.rates = rates
        self.sleep = sleep

    @property
    def cache(self) -> BaseCache:
        # Looked up per use, not kept: a client lives for the whole process and Django's cache
        # handles are per thread.
        return caches["shared"]

    def acquire(self) -> None:
        for rate in self.rates:
            while True:
                now = time.time()
                window = int(now // rate.seconds)
                key = f"upstream-rate:{self.name}:{rate.seconds}:{window}"
                self.cache.add(key, 0, timeout=rate.seconds + 5)
                if self.cache.incr(key) <= rate.limit:
                    break
                self.sleep((window + 1) * rate.seconds - now + 0.01)


class UpstreamClient:
    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        rates: list[Rate],
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
        self.limiter = SharedRateLimiter(name, rates, sleep=sleep)
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
        last_error: UpstreamError | None = None
        for attempt in range(self.retries + 1):
            self.limiter.acquire()
            retry_after = None
            try:
                response = self.http.request(method, url, params=params, data=data)
            except httpx.TimeoutException:
                last_error = UpstreamTimeout(self.name, f"timed out after {self.timeout:g}s")
            except httpx.TransportError as exc:
                last_error = UpstreamError(self.name, f"unreachable ({exc.__class__.__name__})")
            else:
                status = response.status_code
                if status < 400:
                    return response
                if status == 429:
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
        raise last_error

    def get_json(
        self, url: str, *, params: Mapping[str, Any] | None = None, method: str = "GET"
    ) -> Any:
        response = self.request(method, url, params=params)
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError(self.name, "answered with malformed JSON") from exc

    def parsed(self, parse: Callable[[Any], T], payload: object) -> T:
        """``parse(payload)``; a payload of the wrong shape is this upstream's failure (502)."""
        try:
            return parse(payload)
        except UpstreamParseError as exc:
            raise UpstreamError(self.name, exc.reason) from exc
