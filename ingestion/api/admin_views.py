"""The frontend's parser admin pages (contract B.5.2) under /api/admin/parser/*, on Kitsu's
RBAC (``admin:parser.X`` and ``admin.parser.X`` are one permission). Every write is audited."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import require
from catalog.models import Anime, PlaybackSource
from ingestion.api.serializers import (
    ParserDashboardOutput,
    ParserLogLineOutput,
    ParserModeOutput,
    ParserSettingsOutput,
)
from ingestion.models import ParserSettings, SyncLogLine, SyncRun
from ingestion.services import (
    LIST_SETTINGS,
    parser_emergency_stop,
    parser_mode_set,
    parser_settings_snapshot,
    parser_settings_update,
)
from kitsu.api import int_range, validated
from kitsu.errors import Unprocessable


class ParserSettingsInput(serializers.Serializer):
    mode = serializers.ChoiceField(choices=ParserSettings.Mode.choices, required=False)
    stage_only = serializers.BooleanField(required=False)
    autopublish_enabled = serializers.BooleanField(required=False)
    enable_autoupdate = serializers.BooleanField(required=False)
    update_interval_minutes = serializers.IntegerField(min_value=1, required=False)
    dry_run_default = serializers.BooleanField(required=False)
    allowed_translation_types = serializers.ListField(
        child=serializers.ChoiceField(choices=["voice", "sub", "subtitles"]), required=False
    )
    allowed_translations = serializers.ListField(child=serializers.CharField(), required=False)
    allowed_qualities = serializers.ListField(child=serializers.CharField(), required=False)
    preferred_translation_priority = serializers.ListField(
        child=serializers.CharField(), required=False
    )
    preferred_quality_priority = serializers.ListField(
        child=serializers.CharField(), required=False
    )
    blacklist_titles = serializers.ListField(child=serializers.CharField(), required=False)
    blacklist_external_ids = serializers.ListField(child=serializers.CharField(), required=False)


class ModeInput(serializers.Serializer):
    mode = serializers.ChoiceField(choices=ParserSettings.Mode.choices)
    reason = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class EmergencyStopInput(serializers.Serializer):
    reason = serializers.CharField()


class DashboardView(APIView):
    permission_classes = [require("admin.parser.logs")]

    @extend_schema(responses=ParserDashboardOutput)
    def get(self, request: Request) -> Response:
        day_ago = timezone.now() - timedelta(hours=24)
        body = {
            "sources": [
                {"id": 1, "code": "shikimori", "enabled": bool(settings.SHIKIMORI_URL)},
                {"id": 2, "code": "kodik", "enabled": bool(settings.KODIK_TOKEN)},
                {"id": 3, "code": "stream", "enabled": bool(settings.STREAM_URL)},
            ],
            "anime_external_count": Anime.objects.filter(shikimori_id__isnull=False).count(),
            "unmapped_anime_count": Anime.objects.filter(shikimori_id__isnull=True).count(),
            "episodes_external_count": PlaybackSource.objects.count(),
            "jobs_last_24h": SyncRun.objects.filter(created_at__gte=day_ago).count(),
            "errors_count": SyncLogLine.objects.filter(
                level=SyncLogLine.Level.ERROR, created_at__gte=day_ago
            ).count(),
        }
        return Response(ParserDashboardOutput(body).data)


class SettingsView(APIView):
    permission_classes = [require("admin.parser.settings")]

    @extend_schema(responses=ParserSettingsOutput)
    def get(self, request: Request) -> Response:
        return Response(ParserSettingsOutput(parser_settings_snapshot(ParserSettings.load())).data)

    @extend_schema(request=ParserSettingsInput, responses=ParserSettingsOutput)
    def post(self, request: Request) -> Response:
        changes = validated(ParserSettingsInput, request)
        for name in LIST_SETTINGS:
            if name in changes:
                changes[name] = list(changes[name])
        row = parser_settings_update(request=request, changes=changes)
        return Response(ParserSettingsOutput(parser_settings_snapshot(row)).data)


class ModeView(APIView):
    permission_classes = [require("admin.parser.settings")]

    @extend_schema(request=ModeInput, responses=ParserModeOutput)
    def post(self, request: Request) -> Response:
        data = validated(ModeInput, request)
        row = parser_mode_set(request=request, mode=data["mode"], reason=data.get("reason") or "")
        return Response(ParserModeOutput({"status": "success", "mode": row.mode}).data)


class EmergencyStopView(APIView):
    permission_classes = [require("admin.parser.emergency")]

    @extend_schema(request=EmergencyStopInput, responses=ParserModeOutput)
    def post(self, request: Request) -> Response:
        data = validated(EmergencyStopInput, request)
        parser_emergency_stop(request=request, reason=data["reason"])
        body = {"status": "stopped", "mode": ParserSettings.Mode.MANUAL}
        return Response(ParserModeOutput(body).data)


def _date(value: str | None) -> datetime | None:
    """ISO date-times; invalid values are ignored, as the contract says."""
    try:
        parsed = parse_datetime(value) if value else None
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


class LogsView(APIView):
    permission_classes = [require("admin.parser.logs")]

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", int_range(1, 500), description="default 100"),
            OpenApiParameter("level", str, enum=SyncLogLine.Level.values),
            OpenApiParameter("source", str),
            OpenApiParameter("from_date", OpenApiTypes.DATETIME),
            OpenApiParameter("to_date", OpenApiTypes.DATETIME),
        ],
        responses=ParserLogLineOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        try:
            limit = int(request.query_params.get("limit", 100))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 500:
            raise Unprocessable(
                [{"loc": ["query", "limit"], "msg": "Input should be 1..500", "type": "range"}]
            )
        lines = SyncLogLine.objects.select_related("run")
        params = request.query_params
        if params.get("level"):
            lines = lines.filter(level=params["level"].lower())
        if params.get("source"):
            lines = lines.filter(run__source=params["source"])
        if since := _date(params.get("from_date")):
            lines = lines.filter(created_at__gte=since)
        if until := _date(params.get("to_date")):
            lines = lines.filter(created_at__lte=until)
        body = [
            {
                "id": line.pk,
                "job_id": line.run_id,
                "level": line.level,
                "message": line.message,
                "created_at": line.created_at.isoformat(),
            }
            for line in lines.order_by("-created_at", "-id")[:limit]
        ]
        return Response(ParserLogLineOutput(body, many=True).data)
