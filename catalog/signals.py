"""Bump the catalog cache version whenever a catalog row changes through the ORM.

Bulk writes (``bulk_create``, ``update()``) send no signals: the services that use them call
``catalog.cache.catalog_changed()`` themselves.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from catalog.cache import catalog_changed
from catalog.models import AiringSlot, Anime, Episode, Genre, PlaybackSource, Release, Studio


def _row_changed(sender: type, **kwargs: Any) -> None:
    catalog_changed()


def _relation_changed(sender: type, action: str, **kwargs: Any) -> None:
    if action.startswith("post_"):
        catalog_changed()


for _model in (Anime, Release, Episode, Genre, Studio, PlaybackSource, AiringSlot):
    post_save.connect(_row_changed, sender=_model, dispatch_uid=f"catalog-save-{_model.__name__}")
    post_delete.connect(_row_changed, sender=_model, dispatch_uid=f"catalog-del-{_model.__name__}")
for _through in (Anime.genres.through, Anime.studios.through):
    m2m_changed.connect(_relation_changed, sender=_through, dispatch_uid=f"catalog-m2m-{_through}")
