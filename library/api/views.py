"""Favorites, watch progress, list statuses and the AniList import (contract A.9, A.10, A.13,
B.3, B.4.4). Every write is synchronous: the answer comes after the commit."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import OptionalSessionJWTAuthentication, signed_in_user
from accounts.models import User
from accounts.permissions import require
from kitsu.api import (
    PublicAPIView,
    error_response,
    filtered,
    int_range,
    optional_uuid_param,
    parse_uuid,
    validated,
)
from kitsu.errors import BadRequest
from kitsu.pagination import offset_params, paginate
from library import selectors, services
from library.api.serializers import (
    AniListImportFilter,
    AniListImportInput,
    AniListImportOutput,
    ContinueOutput,
    FavoriteInput,
    FavoriteOutput,
    HistoryOutput,
    LibraryEntryOutput,
    LibraryInput,
    ProgressInput,
    ProgressOutput,
)
from library.models import LibraryEntry

READ = [require("read:content")]
WRITE = [require("write:content")]


class FavoriteListView(APIView):
    def get_permissions(self) -> list[Any]:
        return [p() for p in (WRITE if self.request.method == "POST" else READ)]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "limit", int_range(1, settings.API_MAX_LIMIT), description="default 100"
            ),
            OpenApiParameter("offset", int_range(0, settings.API_MAX_OFFSET)),
            OpenApiParameter("anime_id", OpenApiTypes.UUID),
        ],
        responses=FavoriteOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        favorites = selectors.favorite_list(
            user=signed_in_user(request), anime_id=optional_uuid_param(request, "anime_id")
        )
        page = paginate(
            request, favorites, cursor_ordering=("-created_at", "-id"), default_limit=100
        )
        return Response(FavoriteOutput(page.items, many=True).data, headers=page.headers)

    @extend_schema(
        request=FavoriteInput,
        responses={201: FavoriteOutput, 404: error_response(404), 409: error_response(409)},
    )
    def post(self, request: Request) -> Response:
        data = validated(FavoriteInput, request)
        favorite = services.favorite_add(user=signed_in_user(request), anime_id=data["anime_id"])
        return Response(FavoriteOutput(favorite).data, status=status.HTTP_201_CREATED)


class FavoriteDetailView(APIView):
    permission_classes = WRITE

    @extend_schema(responses={204: None}, description="Accepts the anime id or the favorite id.")
    def delete(self, request: Request, favorite_id: str) -> Response:
        target = parse_uuid(favorite_id, name="id")
        services.favorite_remove(user=signed_in_user(request), favorite_or_anime_id=target)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WatchProgressView(APIView):
    permission_classes = WRITE

    @extend_schema(request=ProgressInput, responses={200: ProgressOutput, 404: error_response(404)})
    def post(self, request: Request) -> Response:
        data = validated(ProgressInput, request)
        watched_at = data.get("last_watched_at")
        progress = services.watch_progress_record(
            user=signed_in_user(request),
            data=services.ProgressInput(
                anime_id=data["anime_id"],
                episode=data["episode"],
                position_seconds=data.get("position_seconds"),
                progress_percent=data.get("progress_percent"),
                watched_at=min(watched_at, timezone.now()) if watched_at else None,
            ),
        )
        return Response(ProgressOutput(progress).data)


class ContinueWatchingView(APIView):
    permission_classes = READ

    @extend_schema(
        parameters=[OpenApiParameter("limit", int_range(1, settings.API_MAX_LIMIT))],
        responses=ContinueOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        limit, _ = offset_params(request)
        items = selectors.continue_watching(user=signed_in_user(request), limit=limit)
        return Response(ContinueOutput(items, many=True).data)


class WatchHistoryView(APIView):
    permission_classes = READ

    @extend_schema(
        parameters=[
            OpenApiParameter("anime_id", OpenApiTypes.UUID),
            OpenApiParameter("limit", int_range(1, settings.API_MAX_LIMIT)),
        ],
        responses=HistoryOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        views = selectors.watch_history(
            user=signed_in_user(request), anime_id=optional_uuid_param(request, "anime_id")
        )
        page = paginate(request, views, cursor_ordering=None, default_limit=100)
        return Response(HistoryOutput(page.items, many=True).data)


class LibraryListView(APIView):
    permission_classes = READ

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=LibraryEntry.Status.values)],
        responses=LibraryEntryOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        wanted = request.query_params.get("status")
        if wanted and wanted not in LibraryEntry.Status.values:
            allowed = ", ".join(LibraryEntry.Status.values)
            raise BadRequest(f"Invalid value for 'status': use one of {allowed}")
        entries = selectors.library_list(user=signed_in_user(request), status=wanted)
        page = paginate(request, entries, cursor_ordering=None, default_limit=100)
        return Response(LibraryEntryOutput(page.items, many=True).data)


class LibraryEntryView(APIView):
    permission_classes = WRITE

    @extend_schema(
        request=LibraryInput, responses={200: LibraryEntryOutput, 201: LibraryEntryOutput}
    )
    def put(self, request: Request, anime_id: str) -> Response:
        data = validated(LibraryInput, request)
        entry, created = services.library_entry_set(
            user=signed_in_user(request),
            anime_id=parse_uuid(anime_id, name="anime_id"),
            status=data["status"],
            score=data.get("score"),
            episodes_watched=data.get("episodes_watched"),
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(LibraryEntryOutput(entry).data, status=code)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, anime_id: str) -> Response:
        services.library_entry_remove(
            user=signed_in_user(request), anime_id=parse_uuid(anime_id, name="anime_id")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AniListImportView(PublicAPIView):
    authentication_classes = [OptionalSessionJWTAuthentication]

    @extend_schema(
        parameters=[AniListImportFilter],
        request=AniListImportInput,
        responses=AniListImportOutput,
    )
    def post(self, request: Request) -> Response:
        filtered(AniListImportFilter, request, status=400)
        data = validated(AniListImportInput, request)
        entries = [
            selectors.ImportEntry(
                anilist_id=item["media"].get("id"),
                mal_id=item["media"].get("idMal"),
                titles=tuple(
                    item["media"].get("title", {}).get(key) or ""
                    for key in ("english", "romaji", "native")
                ),
                list_status=group["status"],
            )
            for group in data.get("animes", [])
            for item in group["entries"]
        ]
        if not entries:
            raise BadRequest("No anime list provided")
        user = request.user if request.user and request.user.is_authenticated else None
        matches = services.anilist_import(entries=entries, user=cast("User | None", user))
        body = {
            "animes": [match for match in matches if match.anime is not None],
            "unmatched": [match for match in matches if match.anime is None],
            "imported": user is not None,
        }
        return Response(AniListImportOutput(body).data)
