"""Small pieces every API app shares: the public base view and request-parameter parsing."""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from kitsu.errors import Unprocessable

# The largest value of PostgreSQL's integer column: client numbers headed for one are checked
# against it before the database sees them.
DB_INT_MAX = 2**31 - 1


class PublicAPIView(APIView):
    """A public endpoint: ignores any Authorization header (contract A.3)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]


def validated(serializer_class: type, request: Request, **context: Any) -> dict[str, Any]:
    """The request body through ``serializer_class``; 422 naming the fields when invalid."""
    serializer = serializer_class(data=request.data, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def parse_uuid(value: str, *, name: str, location: str = "path") -> uuid.UUID:
    """422 (contract B.2.2) when ``value`` is not a UUID."""
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError, AttributeError) as exc:
        raise Unprocessable(
            [
                {
                    "loc": [location, name],
                    "msg": "Input should be a valid UUID",
                    "type": "uuid_parsing",
                }
            ]
        ) from exc


def optional_uuid_param(request: Request, name: str) -> uuid.UUID | None:
    value = request.query_params.get(name)
    return None if value is None else parse_uuid(value, name=name, location="query")


def schema_slashless_paths(endpoints: list[tuple]) -> list[tuple]:
    """drf-spectacular hook: document ``^anime/?$`` as ``/anime``, the path the frontend calls."""
    return [
        (path.rstrip("/") if regex.endswith("/?$") else path, regex, method, callback)
        for path, regex, method, callback in endpoints
    ]
