"""New-episode notifications and the personal airing calendar (issue 13). Thin views: validate,
one selector or service, respond."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import signed_in_user
from accounts.permissions import require
from kitsu.api import PublicAPIView, error_response, int_range, validated
from kitsu.errors import BadRequest, NotFound, Unprocessable
from kitsu.pagination import paginate
from library import calendar_feed, notification_selectors, notifications
from library.api.notification_serializers import (
    BIGINT_MAX,
    CalendarTokenOutput,
    MarkReadInput,
    MarkReadOutput,
    NotificationOutput,
    UnreadCountOutput,
    calendar_url,
)

READ = [require("read:content")]
WRITE = [require("write:content")]
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def _unread_param(request: Request) -> bool:
    raw = request.query_params.get("unread")
    if raw is None:
        return False
    if raw.lower() not in _BOOLEANS:
        raise BadRequest("Invalid value for 'unread': use true or false")
    return _BOOLEANS[raw.lower()]


class NotificationListView(APIView):
    permission_classes = READ

    @extend_schema(
        parameters=[
            OpenApiParameter("unread", bool, description="only unread notifications"),
            OpenApiParameter(
                "limit", int_range(1, settings.API_MAX_LIMIT), description="default 20"
            ),
            OpenApiParameter("offset", int_range(0, settings.API_MAX_OFFSET)),
            OpenApiParameter(
                "cursor", str, description="empty to start; then follow the Link header"
            ),
        ],
        responses=NotificationOutput(many=True),
        description="Newest first; hidden (unpublished or deleted) anime's are left out.",
    )
    def get(self, request: Request) -> Response:
        rows = notification_selectors.notification_list(
            user=signed_in_user(request), unread_only=_unread_param(request)
        )
        page = paginate(request, rows, cursor_ordering=("-created_at", "-id"))
        return Response(NotificationOutput(page.items, many=True).data, headers=page.headers)


class UnreadCountView(APIView):
    permission_classes = READ

    @extend_schema(responses=UnreadCountOutput)
    def get(self, request: Request) -> Response:
        count = notification_selectors.notification_unread_count(user=signed_in_user(request))
        return Response({"unread": count})


class MarkReadView(APIView):
    permission_classes = WRITE

    @extend_schema(request=MarkReadInput, responses=MarkReadOutput)
    def post(self, request: Request) -> Response:
        data = validated(MarkReadInput, request)
        user = signed_in_user(request)
        marked = notifications.notifications_mark_read(
            user=user, ids=data.get("ids"), up_to=data.get("up_to")
        )
        unread = notification_selectors.notification_unread_count(user=user)
        return Response({"marked": marked, "unread": unread})


class NotificationDetailView(APIView):
    permission_classes = WRITE

    @extend_schema(
        parameters=[
            OpenApiParameter("notification_id", int_range(1, BIGINT_MAX), OpenApiParameter.PATH)
        ],
        responses={204: None},
    )
    def delete(self, request: Request, notification_id: str) -> Response:
        notifications.notification_delete(
            user=signed_in_user(request), notification_id=_notification_id(notification_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _notification_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= BIGINT_MAX:
        raise Unprocessable(
            [
                {
                    "loc": ["path", "notification_id"],
                    "msg": "Input should be a positive integer",
                    "type": "int_parsing",
                }
            ]
        )
    return int(value)


class CalendarTokenView(APIView):
    permission_classes = WRITE

    @extend_schema(request=None, responses=CalendarTokenOutput)
    def post(self, request: Request) -> Response:
        row = notifications.calendar_token_rotate(user=signed_in_user(request))
        return Response({"calendar_url": calendar_url(request, row)})


class CalendarFeedView(PublicAPIView):
    """``GET /users/me/calendar.ics?token=``: for calendar apps, which cannot send a bearer
    header; the token opens this feed only. Unknown tokens are a plain 404."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The feed is a ready HttpResponse; DRF renders only the errors, as JSON whatever the
        # Accept header says (calendar apps send text/calendar: no 406 for them).
        return (JSONRenderer(), JSONRenderer.media_type)

    @extend_schema(
        operation_id="users_me_calendar_feed",
        parameters=[
            OpenApiParameter("token", str, required=True, description="the feed's secret"),
            OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER),
            OpenApiParameter("If-Modified-Since", str, OpenApiParameter.HEADER),
        ],
        responses={
            (200, "text/calendar"): OpenApiResponse(
                OpenApiTypes.STR,
                description="RFC 5545: the next 30 days' airings of the anime you follow "
                "(UTC), one VEVENT per episode; ETag and Last-Modified",
            ),
            304: OpenApiResponse(description="Not modified (If-None-Match/If-Modified-Since)"),
            404: error_response(404),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        row = notification_selectors.notification_settings_by_token(
            token=request.query_params.get("token", "")
        )
        if row is None:
            raise NotFound("Not found")
        events = calendar_feed.feed_events(
            notification_selectors.calendar_slots(settings_row=row, now=timezone.now())
        )
        digest = calendar_feed.feed_digest(events)
        revised_at = notifications.calendar_revision(settings_row=row, digest=digest)
        etag = f'"{digest}"'
        # 304 (or 412 for a failed If-Match) before rendering; Django's own precedence rules.
        response = get_conditional_response(
            request, etag=etag, last_modified=int(revised_at.timestamp())
        ) or HttpResponse(
            calendar_feed.feed_render(events, revised_at=revised_at),
            content_type="text/calendar; charset=utf-8",
        )
        response["ETag"] = etag
        response["Last-Modified"] = http_date(revised_at.timestamp())
        response["Cache-Control"] = "private, max-age=0, must-revalidate"
        response["Content-Disposition"] = 'inline; filename="kitsu-airing.ics"'
        return response
