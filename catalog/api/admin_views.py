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
from catalog import services
from catalog.api.serializers import (
    AdminAnimeDetailOutput,
    AdminAnimeListOutput,
    AdminAnimePatchOutput,
)
from catalog.models import Anime
from kitsu.api import error_response, int_range, parse_uuid, validated
from kitsu.errors import BadRequest, NotFound
from kitsu.pagination import offset_params

SORTS = {"updated_at", "created_at", "title"}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _item(anime: Anime) -> dict[str, Any]:
    errors = services.anime_problems(anime, has_video=anime.has_video)  # type: ignore[attr-defined]
    return {
        "id": str(anime.pk),
        "title": anime.title,
        "poster_url": anime.poster_url or None,
        "state": anime.state,
        "source": anime.source,
        "year": anime.year,
        "status": anime.status,
        "is_locked": anime.is_locked,
        "locked_fields": anime.locked_fields,
        "has_video": anime.has_video,  # type: ignore[attr-defined]
        "errors_count": len(errors),
        "created_at": _iso(anime.created_at),
        "updated_at": _iso(anime.updated_at),
        "created_by": str(anime.created_by_id) if anime.created_by_id else None,
        "updated_by": str(anime.updated_by_id) if anime.updated_by_id else None,
    }


def _detail(anime: Anime) -> dict[str, Any]:
    errors = services.anime_problems(anime, has_video=anime.has_video)  # type: ignore[attr-defined]
    return {
        **_item(anime),
        "title_ru": anime.title_ru or None,
        "title_en": anime.title_en or None,
        "title_original": anime.title_original or None,
        "description": anime.description or None,
        "season": anime.season or None,
        "genres": [genre.name for genre in anime.genres.all()],
        "locked_by": str(anime.locked_by_id) if anime.locked_by_id else None,
        "locked_reason": anime.locked_reason or None,
        "locked_at": _iso(anime.locked_at),
        "is_deleted": anime.deleted_at is not None,
        "deleted_at": _iso(anime.deleted_at),
        "deleted_by": str(anime.deleted_by_id) if anime.deleted_by_id else None,
        "delete_reason": anime.delete_reason or None,
        "errors": errors,
    }


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
            OpenApiParameter("sort_by", str, enum=sorted(SORTS)),
            OpenApiParameter("sort_order", str, enum=["asc", "desc"]),
            OpenApiParameter("state", str, enum=Anime.State.values),
            OpenApiParameter("source", str, enum=Anime.Source.values),
            OpenApiParameter("has_video", bool),
        ],
        responses=AdminAnimeListOutput,
        operation_id="api_admin_anime_list",
    )
    def get(self, request: Request) -> Response:
        limit, offset = offset_params(request, default_limit=30)
        params = request.query_params
        sort_by, order = params.get("sort_by", "updated_at"), params.get("sort_order", "desc")
        if sort_by not in SORTS:
            raise BadRequest("Invalid value for 'sort_by': use updated_at, created_at or title")
        if order not in ("asc", "desc"):
            raise BadRequest("Invalid value for 'sort_order': use asc or desc")
        anime = services.with_video(Anime.objects.filter(deleted_at__isnull=True))
        for name, choices in (("state", Anime.State.values), ("source", Anime.Source.values)):
            if value := params.get(name):
                if value not in choices:
                    raise BadRequest(f"Invalid value for '{name}': use one of {', '.join(choices)}")
                anime = anime.filter(**{name: value})
        if (has_video := params.get("has_video")) in ("true", "false"):
            anime = anime.filter(has_video=has_video == "true")  # type: ignore[misc]
        prefix = "" if order == "asc" else "-"
        page = anime.order_by(f"{prefix}{sort_by}", f"{prefix}id")[offset : offset + limit]
        body = {
            "items": [_item(a) for a in page],
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

    def _load(self, anime_id: str) -> Anime:
        anime = (
            services.with_video(Anime.objects.prefetch_related("genres"))
            .filter(pk=parse_uuid(anime_id, name="anime_id"))
            .first()
        )
        if anime is None:
            raise NotFound("Anime not found")
        return anime

    @extend_schema(responses=AdminAnimeDetailOutput)
    def get(self, request: Request, anime_id: str) -> Response:
        return Response(AdminAnimeDetailOutput(_detail(self._load(anime_id))).data)

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
            "anime": _detail(self._load(str(result.anime.pk))),
            "audit_log_id": str(result.audit.pk),
            "warnings": result.warnings,
        }
        return Response(AdminAnimePatchOutput(body).data)
