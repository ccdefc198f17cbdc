"""Pagination for list endpoints whose body must stay a bare JSON array (the frontend's shape).

* Offset mode (what the frontend sends): ``limit`` 1..100 (default 20), ``offset`` 0..
  ``API_MAX_OFFSET``; out of range is a 422 naming the parameter.
* Cursor mode (``?cursor=`` to start, then follow the ``Link: <...>; rel="next"`` header):
  DRF's keyset ``CursorPagination``, so page 1,000 costs what page 1 costs (audit finding 12).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import Model, QuerySet
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


class _KeysetPagination(CursorPagination):
    page_size_query_param = "limit"
    max_page_size = settings.API_MAX_LIMIT

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except DRFNotFound as exc:
            raise BadRequest(
                "Invalid value for 'cursor': start with an empty cursor and follow the Link header"
            ) from exc


class Page:
    """One page of results plus the ``Link`` header value (empty when there is no link)."""

    def __init__(self, items: Sequence[Any], link: str = "") -> None:
        self.items = items
        self.link = link

    @property
    def headers(self) -> dict[str, str]:
        return {"Link": self.link} if self.link else {}


def paginate(
    request: Request,
    queryset: QuerySet[Model],
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
    paginator = _KeysetPagination()
    paginator.ordering = cursor_ordering
    paginator.page_size = limit
    items = paginator.paginate_queryset(queryset, request) or []
    links = [
        f'<{url}>; rel="{rel}"'
        for rel, url in (
            ("next", paginator.get_next_link()),
            ("prev", paginator.get_previous_link()),
        )
        if url
    ]
    return Page(items, ", ".join(links))
