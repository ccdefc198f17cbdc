"""Shapes of the new-episode notifications, the follow settings and the calendar token."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers
from rest_framework.request import Request

from catalog.api.serializers import AnimeCardOutput
from library.models import Notification, NotificationSettings

MAX_IDS = 1000
BIGINT_MAX = 2**63 - 1


class NotificationOutput(serializers.ModelSerializer):
    anime = AnimeCardOutput(read_only=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "anime_id",
            "episode_number",
            "available_at",
            "created_at",
            "read",
            "read_at",
            "anime",
        ]

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class UnreadCountOutput(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkReadInput(serializers.Serializer):
    """Exactly one of ``ids`` and ``up_to``."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=BIGINT_MAX),
        min_length=1,
        max_length=MAX_IDS,
        required=False,
    )
    up_to = serializers.DateTimeField(
        required=False, help_text="mark every notification created at or before this time"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("ids" in attrs) == ("up_to" in attrs):
            raise serializers.ValidationError("Send either 'ids' or 'up_to'")
        return attrs


class MarkReadOutput(serializers.Serializer):
    marked = serializers.IntegerField(help_text="notifications that were unread and now are read")
    unread = serializers.IntegerField()


def calendar_url(request: Request, row: NotificationSettings) -> str | None:
    if not row.calendar_token:
        return None
    path = reverse("users-me-calendar")
    return request.build_absolute_uri(f"{path}?token={row.calendar_token}")


class NotificationSettingsOutput(serializers.Serializer):
    """``notifications`` of ``GET /users/me``."""

    follow_mode = serializers.ChoiceField(choices=NotificationSettings.FollowMode.choices)
    calendar_url = serializers.SerializerMethodField()

    def get_calendar_url(self, row: NotificationSettings) -> str | None:
        return calendar_url(self.context["request"], row)


class NotificationSettingsInput(serializers.Serializer):
    """``notifications`` of ``PATCH /users/me``."""

    follow_mode = serializers.ChoiceField(choices=NotificationSettings.FollowMode.choices)


class CalendarTokenOutput(serializers.Serializer):
    calendar_url = serializers.CharField(
        help_text="the feed's new URL (subscribe to it); the previous one stops working"
    )
