"""Small pieces every API app shares: the public base view and request-parameter parsing."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentRegistry
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from kitsu.errors import BadRequest, Unprocessable

# The largest value of PostgreSQL's integer column: client numbers headed for one are checked
# against it before the database sees them.
DB_INT_MAX = 2**31 - 1


class PublicAPIView(APIView):
    """A public endpoint: ignores any Authorization header (contract A.3)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]


def int_range(minimum: int, maximum: int) -> dict[str, Any]:
    """``OpenApiParameter("limit", int_range(1, 100))``: an integer parameter's accepted range
    in the schema, so clients and schemathesis know what the view answers 422 to."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def validated(serializer_class: type, request: Request, **context: Any) -> dict[str, Any]:
    """The request body through ``serializer_class``; 422 naming the fields when invalid."""
    serializer = serializer_class(data=request.data, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@extend_schema_field(OpenApiTypes.BOOL)
class LenientBooleanField(serializers.Field):
    """A query-string flag: ``true`` or ``false``; any other value means "not given"."""

    def to_internal_value(self, data: Any) -> bool | None:
        return {"true": True, "false": False}.get(str(data).lower())


def filtered(
    serializer_class: type[serializers.Serializer], request: Request, *, status: int = 422
) -> dict[str, Any]:
    """The query string through a filter serializer (HackSoft's ``FilterSerializer``).

    Invalid parameters answer 422 listing them as ``{loc: [query, name], ...}``, or, with
    ``status=400``, a 400 naming each one (the endpoints whose contract says 400)."""
    serializer = serializer_class(data=request.query_params)
    if serializer.is_valid():
        return dict(serializer.validated_data)
    if status == 422:
        raise serializers.ValidationError(serializer.errors)
    raise BadRequest(
        "; ".join(_problem(name, messages) for name, messages in serializer.errors.items())
    )


def _problem(name: str, messages: list[Any]) -> str:
    if any(getattr(message, "code", "") in ("required", "blank") for message in messages):
        return f"Missing required parameter '{name}'"
    return f"Invalid value for '{name}': {' '.join(str(message) for message in messages)}"


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


class ErrorDetailOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(allow_null=True)


class ErrorOutput(serializers.Serializer):
    """The error envelope of every non-2xx answer (kitsu.errors.envelope)."""

    error = ErrorDetailOutput()


_ERROR_DESCRIPTIONS = {
    400: "Bad request (a business rule or a malformed parameter or body)",
    401: "Not signed in, or the token is invalid, expired or revoked",
    403: "Signed in without the required permission",
    404: "Not found",
    409: "Conflict with the current state",
    410: "Gone",
    413: "Request body too large",
    422: "The request does not match the schema (fields listed in details)",
    423: "Locked",
    429: "Too many attempts (see Retry-After)",
    502: "Upstream service unavailable",
    503: "Service unavailable (database, cache or rate-limit store unreachable)",
    504: "Upstream service timed out",
}


def error_response(status_code: int) -> OpenApiResponse:
    """``extend_schema(responses={409: error_response(409)})`` for an operation's own errors."""
    return OpenApiResponse(ErrorOutput, description=_ERROR_DESCRIPTIONS.get(status_code, ""))


class KitsuAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error answers every operation can really give, in the
    error envelope, derived from the view instead of listed per view:

    401 when the view requires a signed-in user, 403 when it needs more than that, 404 when the
    path has a parameter, 400/422 with parameters or a body, 413 with a body, 429 for views that
    set ``rate_limited = True``, 503 everywhere. Codes an operation declares itself are kept.
    """

    def get_operation(
        self,
        path: str,
        path_regex: str,
        path_prefix: str,
        method: str,
        registry: ComponentRegistry,
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses: dict[str, Any] = operation.setdefault("responses", {})
        envelope_ref = self.resolve_serializer(ErrorOutput(), "response").ref
        for status_code in self._error_statuses(operation):
            responses.setdefault(
                str(status_code),
                {
                    "description": _ERROR_DESCRIPTIONS[status_code],
                    "content": {"application/json": {"schema": envelope_ref}},
                },
            )
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_statuses(self, operation: dict[str, Any]) -> set[int]:
        statuses = {503}
        permissions = self.view.get_permissions()
        if any(not isinstance(p, AllowAny) for p in permissions):
            statuses.add(401)
        if any(not isinstance(p, (AllowAny, IsAuthenticated)) for p in permissions):
            statuses.add(403)
        if "{" in self.path:
            statuses.add(404)
        if operation.get("parameters") or operation.get("requestBody"):
            statuses |= {400, 422}
        if operation.get("requestBody"):
            statuses.add(413)
        if getattr(self.view, "rate_limited", False):
            statuses.add(429)
        return statuses
