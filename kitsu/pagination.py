"""Pagination for list endpoints whose body must stay a bare JSON array (the frontend's shape).

* Offset mode (what the frontend sends): ``limit`` 1..100 (default 20), ``offset`` 0..
  ``API_MAX_OFFSET``; out of range is a 422 naming the parameter.
* Cursor mode (``?cursor=`` to start, then follow the ``Link: <...>; rel="next"`` header):
  DRF's keyset ``CursorPagination``, so page 1,000 costs what page 1 costs (audit finding 12).
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field, Model, QuerySet
from rest_framework import serializers
from rest_framework.exceptions import NotFound as DRFNotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from kitsu.errors import BadRequest


class OffsetParams(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=settings.API_MAX_LIMIT, default=20)
    offset = serializers.IntegerField(min_value=0, max_value=settings.API_MAX_OFFSET, default=0)


def offset_params(request: Request, *, default_limit: int = 20) -> tuple[int, int]:
    data = {
        key: request.query_params[key] for key in ("limit", "offset") if key in request.query_params
    }
    params = OffsetParams(data=data)
    params.is_valid(raise_exception=True)  # 422 with {loc: [query, limit], ...}
    limit = params.validated_data["limit"] if "limit" in data else default_limit
    return limit, params.validated_data["offset"]


_INVALID_CURSOR = (
    "Invalid value for 'cursor': start with an empty cursor and follow the Link header"
)


class _KeysetPagination(CursorPagination):
    page_size_query_param = "limit"
    max_page_size = settings.API_MAX_LIMIT

    def __init__(self, model: type[Model], ordering: tuple[str, ...], page_size: int) -> None:
        self.model = model
        self.ordering = ordering
        self.page_size = page_size

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except DRFNotFound as exc:
            raise BadRequest(_INVALID_CURSOR) from exc
        if cursor is not None and cursor.position is not None:
            self._check_position(str(cursor.position))
        return cursor

    def _check_position(self, position: str) -> None:
        """The position is client input that DRF puts straight into ``field > position``: it
        must be a value of the ordering field, or the database (or the field) refuses it."""
        field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        assert isinstance(field, Field)
        try:
            value = field.to_python(position)
            field.run_validators(value)  # max_length, the integer column's range
        except (DjangoValidationError, ValueError, TypeError, OverflowError, ArithmeticError):
            raise BadRequest(_INVALID_CURSOR) from None
        if "\x00" in position or (
            isinstance(value, float | decimal.Decimal) and not math.isfinite(value)
        ):
            raise BadRequest(_INVALID_CURSOR)

    def encode_cursor(self, cursor: Cursor) -> str:
        # Relative links: an absolute one would carry the request's Host and X-Forwarded-Proto
        # into the shared catalog cache and serve them to everyone (RFC 8288 allows both).
        url = urlsplit(super().encode_cursor(cursor))
        return f"{url.path}?{url.query}"


class Page:
    """One page of results plus the ``Link`` header value (empty when there is no link)."""

    def __init__(self, items: Sequence[Any], link: str = "") -> None:
        self.items = items
        self.link = link

    @property
    def headers(self) -> dict[str, str]:
        return {"Link": self.link} if self.link else {}


class Sliceable(Protocol):
    """What paginate needs of its rows: a QuerySet, or a stand-in such as catalog.pages.AnimePage
    (DRF's cursor paginator calls ``order_by`` and ``filter`` on it, then slices it)."""

    model: Any

    def order_by(self, *fields: Any) -> Any: ...
    def filter(self, **lookup: Any) -> Any: ...
    def __getitem__(self, window: slice) -> Any: ...


def paginate(
    request: Request,
    queryset: QuerySet[Model] | Sliceable,
    *,
    cursor_ordering: tuple[str, ...] | None,
    default_limit: int = 20,
) -> Page:
    """Slice ``queryset`` (already ordered) by offset, or by cursor when ``cursor`` is given.

    ``cursor_ordering`` must start with an immutable, non-null field; ``None`` means this
    ordering cannot be walked by cursor (the request gets a 400 saying so).
    """
    limit, offset = offset_params(request, default_limit=default_limit)
    if "cursor" not in request.query_params:
        return Page(list(queryset[offset : offset + limit]))
    if "offset" in request.query_params:
        raise BadRequest("Use either 'cursor' or 'offset', not both")
    if cursor_ordering is None:
        raise BadRequest("Invalid value for 'cursor': this ordering does not support cursors")
    paginator = _KeysetPagination(queryset.model, cursor_ordering, limit)
    # DRF only calls order_by, filter and slicing on it (Sliceable).
    items = paginator.paginate_queryset(queryset, request) or []  # type: ignore[arg-type]
    links = [
        f'<{url}>; rel="{rel}"'
        for rel, url in (
            ("next", paginator.get_next_link()),
            ("prev", paginator.get_previous_link()),
        )
        if url
    ]
    return Page(items, ", ".join(links))
