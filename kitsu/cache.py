"""A Redis cache backend that stops waiting for a Redis that does not answer.

django-redis with ``IGNORE_EXCEPTIONS`` turns a failed call into a cache miss, but every call
still waits for its socket timeout first: a catalog read makes about five cache calls, so a
Redis that accepts connections and never answers cost 5 x ``SOCKET_TIMEOUT`` per request.
``CircuitBreakerRedisCache`` adds a circuit breaker: the first call that fails with a
connection error or a timeout opens it, and for ``CIRCUIT_BREAKER_SECONDS`` every call of the
alias fails at once without touching the network (a miss, with ``IGNORE_EXCEPTIONS``). The
first call after that window tries Redis again; a failure opens the breaker for another window.

The breaker is shared by every thread of the process (Django builds one cache object per
thread) and keyed by the Redis location, so a worker pays one timeout per window, not one per
thread. Use it only for an alias whose callers treat errors as misses ("default"): the
"shared" alias (rate limits, locks) must keep raising, so that sign-in fails closed.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

DEFAULT_BREAKER_SECONDS = 10.0
# Errors that say "Redis is unreachable or too slow", as opposed to a refused command.
_OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, socket.timeout, OSError)


class CircuitOpen(RedisConnectionError):
    """Raised instead of calling Redis while the breaker is open."""


class CircuitBreaker:
    """Open for ``cooldown`` seconds after a failure; thread-safe."""

    def __init__(
        self, name: str, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self.cooldown = cooldown
        self.clock = clock
        self._lock = threading.Lock()
        self._open_until = 0.0

    def is_open(self) -> bool:
        return self.clock() < self._open_until

    def trip(self, error: BaseException | None) -> None:
        with self._lock:
            was_closed = not self.is_open()
            self._open_until = self.clock() + self.cooldown
        if was_closed:
            logger.warning(
                "cache %s unreachable (%s): skipping it for %.0f s",
                self.name,
                error.__class__.__name__ if error else "error",
                self.cooldown,
            )

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def circuit_breaker(location: str, cooldown: float) -> CircuitBreaker:
    """The process-wide breaker of one Redis location (created on first use)."""
    with _breakers_lock:
        breaker = _breakers.get(location)
        if breaker is None or breaker.cooldown != cooldown:
            breaker = _breakers[location] = CircuitBreaker(location, cooldown)
        return breaker


class _GuardedClient:
    """Wraps a django-redis client: every method call goes through the breaker."""

    # Closing touches no server worth waiting for; let it through even when the breaker is open.
    _UNGUARDED = frozenset({"close"})

    def __init__(self, client: Any, breaker: CircuitBreaker) -> None:
        self._client = client
        self._breaker = breaker

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name in self._UNGUARDED:
            return attribute
        return self._guard(attribute)

    def _guard(self, method: Callable[..., Any]) -> Callable[..., Any]:
        breaker = self._breaker

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if breaker.is_open():
                # The cache's omit_exception turns this into the miss value (IGNORE_EXCEPTIONS)
                # or re-raises the cause, CircuitOpen, a redis ConnectionError.
                raise ConnectionInterrupted(connection=None) from CircuitOpen(breaker.name)
            try:
                return method(*args, **kwargs)
            except ConnectionInterrupted as exc:
                if isinstance(exc.__cause__, _OUTAGE_ERRORS):
                    breaker.trip(exc.__cause__)
                raise

        return guarded


class CircuitBreakerRedisCache(RedisCache):
    """``django_redis.cache.RedisCache`` with a circuit breaker (see the module docstring).

    ``OPTIONS["CIRCUIT_BREAKER_SECONDS"]``: how long to skip Redis after a failure."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        options = params.get("OPTIONS", {})
        cooldown = float(options.get("CIRCUIT_BREAKER_SECONDS", DEFAULT_BREAKER_SECONDS))
        self.breaker = circuit_breaker(str(server), cooldown)

    @property
    def client(self) -> Any:
        # Typed as Any: the wrapper forwards every attribute of the real client.
        return _GuardedClient(super().client, self.breaker)
