"""One error envelope for every non-2xx answer (contract A.2 and B.0.1).

``{"error": {"code": ..., "message": ..., "details": ...}}`` comes from two places only:
``api_exception_handler`` for DRF views and the ``handler400/403/404/500`` views for the
requests that never reach DRF (unknown routes, Django errors).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.exceptions import Ratelimited
from psycopg_pool import PoolTimeout
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)

# HTTP status -> (code, default message) of contract B.0.1.
_ENVELOPE_BY_STATUS: dict[int, tuple[str, str]] = {
    400: ("VALIDATION_ERROR", "Validation error"),
    401: ("AUTH_ERROR", "Authentication failed"),
    403: ("PERMISSION_DENIED", "Insufficient permissions"),
    404: ("NOT_FOUND", "Resource not found"),
    409: ("CONFLICT_ERROR", "Resource conflict"),
    422: ("VALIDATION_ERROR", "Request validation failed"),
    413: ("PAYLOAD_TOO_LARGE", "Request body too large"),
    429: ("RATE_LIMITED", "Too many attempts, try again later"),
    503: ("SERVICE_UNAVAILABLE", "Service unavailable"),
}


def envelope(status_code: int, details: Any = None, *, message: str | None = None) -> dict:
    if status_code in _ENVELOPE_BY_STATUS:
        code, default_message = _ENVELOPE_BY_STATUS[status_code]
    elif status_code >= 500:
        code, default_message = "INTERNAL_ERROR", "Internal server error"
    else:
        code, default_message = "UNKNOWN_ERROR", "Request failed"
    return {"error": {"code": code, "message": message or default_message, "details": details}}


class ApiError(exceptions.APIException):
    """A domain error with its own status, message and details (contract: AppError)."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    headers: dict[str, str] = {}

    def __init__(
        self, details: Any = None, *, message: str | None = None, status_code: int | None = None
    ) -> None:
        if status_code is not None:
            self.status_code = status_code
        self.message = message
        self.details = details
        super().__init__(detail=details if isinstance(details, str) else message)


class BadRequest(ApiError):
    """400 VALIDATION_ERROR for a business rule or a bad query parameter."""

    status_code = status.HTTP_400_BAD_REQUEST


class Unprocessable(ApiError):
    """422 VALIDATION_ERROR: the request does not match the schema (type, range, format)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND


def _validation_details(detail: Any, location: str) -> list[dict[str, Any]]:
    """Flatten DRF's nested error dict into the contract's list of ``{loc, msg, type}``."""
    items: list[dict[str, Any]] = []

    def walk(value: Any, path: list[str | int]) -> None:
        if isinstance(value, dict):
            for key, nested in value.items():
                walk(nested, [*path, key])
        elif isinstance(value, list) and value and not isinstance(value[0], str):
            for index, nested in enumerate(value):
                walk(nested, [*path, index])
        else:
            for message in value if isinstance(value, list) else [value]:
                code = getattr(message, "code", "invalid")
                items.append({"loc": [location, *path], "msg": str(message), "type": code})

    walk(detail, [])
    return items


def _detail_text(detail: Any) -> str:
    """A readable string from DRF's detail (simplejwt puts ``{"detail", "code"}`` dicts there)."""
    if isinstance(detail, dict):
        detail = detail.get("detail", next(iter(detail.values()), ""))
    if isinstance(detail, list):
        return "; ".join(_detail_text(item) for item in detail)
    return str(detail)


# Exceptions that are not bugs but the request's fault or an outage, whatever raised them:
# Django's own (raised by the request parser, a model field's to_python, a form), the
# database's refusal of a value (NUL byte, number out of range) and an unreachable database.
# Mapped here once, so no view needs to know about them.
_REQUEST_FAULTS: tuple[tuple[type[Exception], int, str], ...] = (
    (RequestDataTooBig, 413, "Request body exceeds the size limit"),
    (SuspiciousOperation, 400, "Malformed request"),
    (DjangoValidationError, 400, ""),
    (DataError, 400, "A value is out of range or not allowed"),
    (PoolTimeout, 503, "The database is unavailable, try again shortly"),
    (OperationalError, 503, "The database is unavailable, try again shortly"),
    (InterfaceError, 503, "The database is unavailable, try again shortly"),
)


def _request_fault(exc: Exception) -> Response | None:
    for exc_type, status_code, details in _REQUEST_FAULTS:
        if isinstance(exc, exc_type):
            if status_code >= 500:
                logger.warning("%s: %s", exc.__class__.__name__, exc)
                return Response(
                    envelope(status_code, details), status=status_code, headers={"Retry-After": "5"}
                )
            if isinstance(exc, DjangoValidationError):
                details = "; ".join(exc.messages)
            return Response(envelope(status_code, details), status=status_code)
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, Ratelimited):  # a PermissionDenied subclass: check it first
        return Response(envelope(429), status=429, headers={"Retry-After": "60"})
    if (response := _request_fault(exc)) is not None:
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, ApiError):
        body = envelope(exc.status_code, exc.details, message=exc.message)
        return Response(body, status=exc.status_code, headers=exc.headers)
    if isinstance(exc, exceptions.ValidationError):
        request = context.get("request")
        location = "query" if request is not None and request.method == "GET" else "body"
        details = _validation_details(exc.detail, location)
        return Response(envelope(422, details), status=422)
    if isinstance(exc, exceptions.ParseError):
        return Response(envelope(400, str(exc.detail), message="Invalid request"), status=400)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # Never 403 here: the frontend logs the user out on PERMISSION_DENIED.
        headers["WWW-Authenticate"] = "Bearer"
        return Response(envelope(401, _detail_text(exc.detail)), status=401, headers=headers)
    if isinstance(exc, exceptions.Throttled):
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
        return Response(envelope(429), status=429, headers=headers)
    if isinstance(exc, exceptions.APIException):
        return Response(envelope(exc.status_code, _detail_text(exc.detail)), status=exc.status_code)
    # Unexpected: log with the traceback and answer with the envelope, never a debug page.
    logger.exception("Unhandled error in %s", context.get("view"))
    return Response(envelope(500, "Unexpected error"), status=500)


def _json(status_code: int, details: str) -> HttpResponse:
    return JsonResponse(envelope(status_code, details), status=status_code)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Django routes every SuspiciousOperation raised outside DRF here.
    if isinstance(exception, RequestDataTooBig):
        return _json(413, "Request body exceeds the size limit")
    return _json(400, "Bad request")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _json(403, "Permission denied")


@csrf_exempt  # the API is token-authenticated: an unknown path is a 404, whatever the method
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _json(404, f"No route for {request.path}")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Only cookie-authenticated pages (the Django admin) check CSRF; they keep Django's page.
    Anything else that gets here is answered in the envelope."""
    if request.path.startswith("/admin/"):
        return django_csrf_failure(request, reason=reason)
    return _json(403, f"CSRF verification failed: {reason}")


def server_error(request: HttpRequest) -> HttpResponse:
    return _json(500, "Unexpected error")
