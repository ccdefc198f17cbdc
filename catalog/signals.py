"""Bump the catalog cache version whenever a catalog row changes.

Two hooks, so that no write path has to remember to call ``catalog.cache.catalog_changed()``:

* model signals (``post_save``, ``post_delete``, ``m2m_changed``) for ORM writes of one row;
* a database execute wrapper on every connection that watches the SQL itself: any
  ``INSERT``/``UPDATE``/``DELETE``/``TRUNCATE`` of a ``catalog_*`` table (``bulk_create``,
  ``bulk_update``, ``queryset.update()``/``delete()``, raw SQL through Django's connection)
  schedules the bump on commit. Writes to the read model's own table
  (``catalog_animedocument``) do not: rebuilding a document changes nothing a reader sees.

The read model itself does not depend on either: database triggers keep it (see
``catalog.documents``). SQL run outside this process (psql) is seen by the triggers but not by
the cache, which then expires within ``CATALOG_CACHE_SECONDS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models.signals import m2m_changed, post_delete, post_save

from catalog.cache import catalog_changed
from catalog.models import AiringSlot, Anime, Episode, Genre, PlaybackSource, Release, Studio

_CATALOG_WRITE = re.compile(
    r"\b(?:insert\s+into|update|delete\s+from|truncate(?:\s+table)?)\s+(?:only\s+)?"
    r'(?:"?public"?\.)?"?catalog_(?!animedocument\b)\w+',
    re.IGNORECASE,
)


def _row_changed(sender: type, **kwargs: Any) -> None:
    catalog_changed()


def _relation_changed(sender: type, action: str, **kwargs: Any) -> None:
    if action.startswith("post_"):
        catalog_changed()


def watch_catalog_writes(
    execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and not sql.startswith("SELECT") and _CATALOG_WRITE.search(sql):
        catalog_changed()
    return result


def _install_wrapper(sender: type, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if watch_catalog_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(watch_catalog_writes)


connection_created.connect(_install_wrapper, dispatch_uid="catalog-watch-writes")
for _model in (Anime, Release, Episode, Genre, Studio, PlaybackSource, AiringSlot):
    post_save.connect(_row_changed, sender=_model, dispatch_uid=f"catalog-save-{_model.__name__}")
    post_delete.connect(_row_changed, sender=_model, dispatch_uid=f"catalog-del-{_model.__name__}")
for _through in (Anime.genres.through, Anime.studios.through):
    m2m_changed.connect(_relation_changed, sender=_through, dispatch_uid=f"catalog-m2m-{_through}")
