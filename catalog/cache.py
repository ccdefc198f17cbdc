"""Short-lived caching of public catalog reads, invalidated when the catalog changes.

Every cached response is stored under the current *catalog version*. Any committed change to
a catalog row bumps the version (``catalog_changed``), so all cached reads become unreachable
at once and expire on their own; there is no key scanning. The cache is the ``default`` alias,
which ignores Redis errors: when Redis is down the catalog is served from the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

VERSION_KEY = "catalog:version"


def _version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return int(version)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # key missing (evicted or never read): start a fresh generation
        cache.set(VERSION_KEY, 2, timeout=None)


def catalog_changed() -> None:
    """Invalidate cached catalog reads once the current transaction commits."""
    transaction.on_commit(_bump)


def cached_catalog_read(
    handler: Callable[..., Response],
) -> Callable[..., HttpResponse]:
    """Cache the rendered body of a public GET handler for ``CATALOG_CACHE_SECONDS``."""

    @wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        timeout = settings.CATALOG_CACHE_SECONDS
        if timeout <= 0:
            return handler(view, request, *args, **kwargs)
        digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = f"catalog:{_version()}:{digest}"
        hit = cache.get(key)
        if hit is not None:
            body, headers = hit
            response = HttpResponse(body, content_type="application/json", headers=headers)
            response["X-Cache"] = "hit"
            return response

        response = handler(view, request, *args, **kwargs)
        if response.status_code == 200:

            def store(rendered: HttpResponse) -> None:
                headers = {name: rendered[name] for name in ("Link",) if rendered.has_header(name)}
                cache.set(key, (rendered.content, headers), timeout)

            response.add_post_render_callback(store)
            response["X-Cache"] = "miss"
        return response

    return wrapper
