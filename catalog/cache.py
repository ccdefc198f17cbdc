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
from django.http import HttpResponse, HttpResponseBase
from django.template.response import SimpleTemplateResponse
from rest_framework.request import Request

from catalog import documents

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


def _rebuild_documents() -> None:
    documents.rebuild_stale(settings.CATALOG_DOCUMENTS_EAGER_LIMIT)


def catalog_changed() -> None:
    """Invalidate cached catalog reads once the current transaction commits, then rebuild the
    anime documents the triggers cleared (a bounded batch; reads rebuild any left over).

    Called once per changed row or write statement: scheduled once per transaction."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(func is _bump for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_bump)
    transaction.on_commit(_rebuild_documents, robust=True)


def json_response(body: bytes, headers: dict[str, str] | None = None) -> HttpResponse:
    """A JSON body built without a renderer (catalog.documents), as the renderer would send it."""
    return HttpResponse(body, content_type="application/json", headers=headers)


def public_cache_control() -> str:
    """What shared caches in front (nginx, a CDN) and browsers may do with a public catalog read:
    keep it ``CATALOG_HTTP_MAX_AGE`` seconds, then serve it stale for up to
    ``CATALOG_HTTP_STALE_SECONDS`` more while fetching a fresh one."""
    return (
        f"public, max-age={settings.CATALOG_HTTP_MAX_AGE}, "
        f"stale-while-revalidate={settings.CATALOG_HTTP_STALE_SECONDS}"
    )


def cached_catalog_read(
    handler: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Cache the rendered body of a public GET handler for ``CATALOG_CACHE_SECONDS``, and mark
    its 200 answers cacheable by HTTP caches (``public_cache_control``)."""

    @wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = _read(view, request, *args, **kwargs)
        if response.status_code == 200:
            response["Cache-Control"] = public_cache_control()
        return response

    def _read(view: Any, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        timeout = settings.CATALOG_CACHE_SECONDS
        if timeout <= 0:
            return handler(view, request, *args, **kwargs)
        digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = f"catalog:{_version()}:{digest}"
        hit = cache.get(key)
        if hit is not None:
            body, headers = hit
            served = HttpResponse(body, content_type="application/json", headers=headers)
            served["X-Cache"] = "hit"
            return served

        response = handler(view, request, *args, **kwargs)
        if response.status_code == 200:

            def store(rendered: HttpResponseBase) -> None:
                assert isinstance(rendered, HttpResponse)
                headers = {name: rendered[name] for name in ("Link",) if rendered.has_header(name)}
                cache.set(key, (rendered.content, headers), timeout)

            if isinstance(response, SimpleTemplateResponse):  # a DRF Response, rendered later
                response.add_post_render_callback(store)
            else:  # bytes already (the anime read model)
                store(response)
            response["X-Cache"] = "miss"
        return response

    return wrapper
