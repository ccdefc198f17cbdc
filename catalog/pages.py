"""Pages of the public anime list: one statement per filter shape, compiled once.

``AnimePage`` is what ``kitsu.pagination.paginate`` (and DRF's ``CursorPagination`` inside it)
slices: it answers ``order_by``, ``filter`` on the cursor's position and slicing, like the
queryset it stands for (``queryset()``), and returns each row as a dict of the anime id, its
stored card (``catalog.documents``) and the ordering fields the cursor needs. On PostgreSQL the
statement of each shape (which filters, how many values each, the ordering, the cursor's
comparison) is compiled by the ORM once per process and the request's values are bound into it
(``kitsu.sql``); elsewhere, or with ``CATALOG_COMPILED_SQL`` off, the queryset runs as usual.
``tests/catalog/test_list_pages.py`` holds both ways to the same answers.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from catalog.filters import AnimeFilters, apply_anime_filters, unknown_filter_value
from catalog.models import Anime, public_anime
from kitsu import sql
from kitsu.errors import BadRequest

Row = dict[str, Any]
CARD_FIELDS = ("id", "document__card", "document__version")


def _shape(value: Any) -> Hashable:
    if isinstance(value, tuple):
        return tuple(type(item).__name__ for item in value)
    return type(value).__name__


def _leaves(filters: AnimeFilters) -> dict[str, Any]:
    """Each bindable value of ``filters`` by slot name (``kind.0``, ``year``, ...)."""
    leaves: dict[str, Any] = {}
    for name, value in filters.items():
        if isinstance(value, tuple):
            leaves.update((f"{name}.{i}", item) for i, item in enumerate(value))
        else:
            leaves[name] = value
    return leaves


def _with_slots(filters: AnimeFilters, slots: sql.Slots) -> AnimeFilters:
    return {
        name: tuple(slots(f"{name}.{i}", item) for i, item in enumerate(value))
        if isinstance(value, tuple)
        else slots(name, value)
        for name, value in filters.items()
    }


class AnimePage:
    """The public anime matching ``filters`` in ``order``, as paginate slices it."""

    model = Anime

    def __init__(
        self,
        filters: AnimeFilters,
        order: Sequence[Any],
        position: tuple[str, Any] | None = None,
    ) -> None:
        self.filters = filters
        self.order = tuple(order)
        self.position = position  # (lookup, value) set by the cursor: ("created_at__lt", "...")

    # --- the QuerySet methods paginate and CursorPagination call ----------------------------
    def order_by(self, *order: Any) -> AnimePage:
        return AnimePage(self.filters, order, self.position)

    def filter(self, **lookup: Any) -> AnimePage:
        [(name, value)] = lookup.items()
        field = Anime._meta.get_field(name.split("__")[0])
        prepared = field.get_prep_value(field.to_python(value))  # type: ignore[union-attr]
        return AnimePage(self.filters, self.order, (name, prepared))

    def __getitem__(self, window: slice) -> list[Row]:
        offset, stop = window.start or 0, window.stop
        rows = self._rows(limit=stop - offset, offset=offset)
        if not rows and (unknown := unknown_filter_value(self.filters)) is not None:
            raise BadRequest(str(unknown))
        return rows

    # ----------------------------------------------------------------------------------------
    @property
    def fields(self) -> tuple[str, ...]:
        ordering = [o.lstrip("-") for o in self.order if isinstance(o, str)]
        return (*CARD_FIELDS, *(name for name in ordering if name not in CARD_FIELDS))

    def queryset(self, filters: AnimeFilters | None = None, position: Any = None) -> QuerySet[Any]:
        """The ORM queryset of this page (with other values of the same shape, if given)."""
        queryset = apply_anime_filters(
            Anime.objects.filter(public_anime()), self.filters if filters is None else filters
        )
        if self.position is not None:
            lookup, value = self.position
            queryset = queryset.filter(**{lookup: value if position is None else position})
        return queryset.order_by(*self.order).values_list(*self.fields)

    def _key(self) -> Hashable:
        return (
            "anime-page",
            tuple((name, _shape(value)) for name, value in self.filters.items()),
            tuple(map(str, self.order)),
            None if self.position is None else self.position[0],
            None if self.position is None else type(self.position[1]).__name__,
        )

    def _rows(self, *, limit: int, offset: int) -> list[Row]:
        fields = self.fields
        statement = None
        if settings.CATALOG_COMPILED_SQL:
            statement = sql.compiled(self._key(), self._build, fields)
        if statement is None:
            tuples = list(self.queryset()[offset : offset + limit])
        else:
            values = _leaves(self.filters)
            if self.position is not None:
                values["position"] = self.position[1]
            tuples = statement.fetch(values, " LIMIT %s OFFSET %s", (limit, offset))
        return [dict(zip(fields, row, strict=True)) for row in tuples]

    def _build(self, slots: sql.Slots) -> QuerySet[Any]:
        position = None if self.position is None else slots("position", self.position[1])
        return self.queryset(_with_slots(self.filters, slots), position)
