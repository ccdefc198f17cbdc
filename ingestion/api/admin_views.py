"""The frontend's parser admin pages (contract B.5.2) under /api/admin/parser/*, on Kitsu's
RBAC (``admin:parser.X`` and ``admin.parser.X`` are one permission). Every write is audited."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import require
from ingestion import selectors
from ingestion.api.serializers import (
    EmergencyStopInput,
    ModeInput,
    ParserDashboardOutput,
    ParserLogLineOutput,
    ParserLogsFilter,
    ParserModeOutput,
    ParserSettingsInput,
    ParserSettingsOutput,
)
from ingestion.models import ParserSettings
from ingestion.services import (
    LIST_SETTINGS,
    parser_emergency_stop,
    parser_mode_set,
    parser_settings_snapshot,
    parser_settings_update,
)
from kitsu.api import filtered, validated


class DashboardView(APIView):
    permission_classes = [require("admin.parser.logs")]

    @extend_schema(responses=ParserDashboardOutput)
    def get(self, request: Request) -> Response:
        return Response(ParserDashboardOutput(selectors.parser_dashboard()).data)


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


class LogsView(APIView):
    permission_classes = [require("admin.parser.logs")]

    @extend_schema(parameters=[ParserLogsFilter], responses=ParserLogLineOutput(many=True))
    def get(self, request: Request) -> Response:
        params = filtered(ParserLogsFilter, request)
        lines = selectors.sync_log_lines(
            limit=params["limit"],
            level=params.get("level", ""),
            source=params.get("source", ""),
            since=params.get("from_date"),
            until=params.get("to_date"),
        )
        return Response(ParserLogLineOutput(lines, many=True).data)
