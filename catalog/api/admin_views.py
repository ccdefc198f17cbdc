"""Anime CMS API of the frontend's admin pages (contract B.5.1): /api/admin/anime."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import require
from catalog import selectors, services
from catalog.api.serializers import (
    AdminAnimeDetailOutput,
    AdminAnimeListOutput,
    AdminAnimePatchOutput,
)
from catalog.models import Anime
from kitsu.api import (
    LenientBooleanField,
    error_response,
    filtered,
    int_range,
    parse_uuid,
    validated,
)
from kitsu.pagination import offset_params


class AdminAnimeFilter(serializers.Serializer):
    sort_by = serializers.ChoiceField(choices=selectors.ADMIN_ANIME_SORTS, default="updated_at")
    sort_order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")
    state = serializers.ChoiceField(choices=Anime.State.choices, required=False)
    source = serializers.ChoiceField(choices=Anime.Source.choices, required=False)  # type: ignore[assignment]
    has_video = LenientBooleanField(required=False)


class AnimePatchInput(serializers.Serializer):
    title = serializers.CharField(max_length=255, required=False)
    title_ru = serializers.CharField(
        max_length=255, required=False, allow_null=True, allow_blank=True
    )
    title_en = serializers.CharField(
        max_length=255, required=False, allow_null=True, allow_blank=True
    )
    title_original = serializers.CharField(
        max_length=255, required=False, allow_null=True, allow_blank=True
    )
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    poster_url = serializers.URLField(
        max_length=500, required=False, allow_null=True, allow_blank=True
    )
    year = serializers.IntegerField(min_value=1900, max_value=2100, required=False, allow_null=True)
    season = serializers.ChoiceField(choices=Anime.Season.choices, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Anime.Status.choices, required=False)
    genres = serializers.ListField(child=serializers.CharField(), required=False)
    state = serializers.ChoiceField(choices=Anime.State.choices, required=False)
    reason = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class AdminAnimeListView(APIView):
    permission_classes = [require("anime.view_unpublished")]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "limit", int_range(1, settings.API_MAX_LIMIT), description="default 30"
            ),
            OpenApiParameter("offset", int_range(0, settings.API_MAX_OFFSET)),
            AdminAnimeFilter,
        ],
        responses=AdminAnimeListOutput,
        operation_id="api_admin_anime_list",
    )
    def get(self, request: Request) -> Response:
        limit, offset = offset_params(request, default_limit=30)
        params = filtered(AdminAnimeFilter, request, status=400)
        anime = selectors.admin_anime_list(
            sort_by=params["sort_by"],
            descending=params["sort_order"] == "desc",
            state=params.get("state"),
            source=params.get("source"),
            has_video=params.get("has_video"),
        )
        body = {
            "items": anime[offset : offset + limit],
            "total": anime.count(),
            "limit": limit,
            "offset": offset,
        }
        return Response(AdminAnimeListOutput(body).data)


class AdminAnimeDetailView(APIView):
    def get_permissions(self) -> list[Any]:
        if self.request.method == "PATCH":
            return [require("anime.view_unpublished", "anime.edit")()]
        return [require("anime.view_unpublished")()]

    @extend_schema(responses=AdminAnimeDetailOutput)
    def get(self, request: Request, anime_id: str) -> Response:
        anime = selectors.admin_anime_get(anime_id=parse_uuid(anime_id, name="anime_id"))
        return Response(AdminAnimeDetailOutput(anime).data)

    @extend_schema(
        request=AnimePatchInput,
        responses={
            200: AdminAnimePatchOutput,
            410: error_response(410),
            423: error_response(423),
        },
    )
    def patch(self, request: Request, anime_id: str) -> Response:
        changes = validated(AnimePatchInput, request)
        reason = changes.pop("reason", None) or ""
        result = services.anime_update(
            request=request,
            anime_id=str(parse_uuid(anime_id, name="anime_id")),
            changes=changes,
            reason=reason,
        )
        body = {
            "success": True,
            "anime": selectors.admin_anime_get(anime_id=result.anime.pk),
            "audit_log_id": str(result.audit.pk),
            "warnings": result.warnings,
        }
        return Response(AdminAnimePatchOutput(body).data)
