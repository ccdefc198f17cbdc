"""Public catalog endpoints (contract B.2, A.7, A.8). Thin: parse, one selector, serialize."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import documents, selectors
from catalog.api.relations import RelatedAnimeOutput
from catalog.api.serializers import (
    AnimeCardOutput,
    AnimeDetailOutput,
    EpisodeOutput,
    GenreWithCountOutput,
    ReleaseDetailOutput,
    ReleaseOutput,
)
from catalog.cache import cached_catalog_read, json_response
from catalog.relations import anime_related_list
from kitsu.api import PublicAPIView, error_response, int_range, optional_uuid_param, parse_uuid
from kitsu.errors import BadRequest, Unprocessable
from kitsu.pagination import offset_params, paginate

_PAGE_PARAMS = [
    OpenApiParameter("limit", int_range(1, settings.API_MAX_LIMIT), description="default 20"),
    OpenApiParameter("offset", int_range(0, settings.API_MAX_OFFSET), description="default 0"),
    OpenApiParameter(
        "cursor", str, description='Keyset paging: send empty to start, then follow Link rel="next"'
    ),
]
_NOT_FILTERS = {"limit", "offset", "cursor", "ordering"}
SEARCH_MAX_LENGTH = 200


class AnimeListView(PublicAPIView):
    @extend_schema(
        parameters=[
            *_PAGE_PARAMS,
            OpenApiParameter("ordering", str, enum=list(selectors.ANIME_ORDERINGS)),
            OpenApiParameter("kind", str, many=True),
            OpenApiParameter("status", str, many=True),
            OpenApiParameter("year", int),
            OpenApiParameter("year_from", int),
            OpenApiParameter("year_to", int),
            OpenApiParameter("season", str),
            OpenApiParameter("genre", str, description="slug or id; comma-separated = all of"),
            OpenApiParameter("studio", str, description="slug or id"),
            OpenApiParameter("score_min", float),
        ],
        responses=AnimeCardOutput(many=True),
    )
    @cached_catalog_read
    def get(self, request: Request) -> HttpResponse:
        filters = request.query_params.copy()  # a QueryDict: repeated ?kind=tv&kind=ova work
        for key in _NOT_FILTERS:
            filters.pop(key, None)
        page_query, ordering = selectors.anime_list(
            filters=filters, ordering=request.query_params.get("ordering", "newest")
        )
        page = paginate(request, page_query, cursor_ordering=ordering.cursor)
        cards = documents.cards_from_dicts(page.items)
        return json_response(documents.json_array(cards), headers=page.headers)


class AnimeDetailView(PublicAPIView):
    @extend_schema(responses=AnimeDetailOutput)
    @cached_catalog_read
    def get(self, request: Request, anime_id: str) -> HttpResponse:
        document = selectors.anime_detail_document(anime_id=parse_uuid(anime_id, name="anime_id"))
        return json_response(document.encode())


class AnimeSearchView(PublicAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                {"type": "string", "minLength": 2, "maxLength": SEARCH_MAX_LENGTH},
                required=True,
                description="at least 2 characters besides surrounding spaces",
            ),
            *_PAGE_PARAMS[:2],
        ],
        responses=AnimeCardOutput(many=True),
    )
    @cached_catalog_read
    def get(self, request: Request) -> HttpResponse:
        query = request.query_params.get("q")
        if query is None:
            raise BadRequest("Query parameter 'q' is required")
        query = query.strip()
        if len(query) < 2:
            raise BadRequest("Query parameter 'q' must be at least 2 characters")
        if len(query) > SEARCH_MAX_LENGTH:
            raise BadRequest(f"Query parameter 'q' must be at most {SEARCH_MAX_LENGTH} characters")
        if "cursor" in request.query_params:
            raise BadRequest("Invalid value for 'cursor': search results are ranked, use offset")
        limit, offset = offset_params(request)
        cards = selectors.anime_search_cards(query=query, limit=limit, offset=offset)
        return json_response(documents.json_array(cards))


class ReleaseListView(PublicAPIView):
    @extend_schema(
        parameters=[*_PAGE_PARAMS, OpenApiParameter("anime_id", OpenApiTypes.UUID)],
        responses=ReleaseOutput(many=True),
    )
    @cached_catalog_read
    def get(self, request: Request) -> Response:
        releases = selectors.release_list(anime_id=optional_uuid_param(request, "anime_id"))
        page = paginate(request, releases, cursor_ordering=("-created_at", "-id"))
        return Response(ReleaseOutput(page.items, many=True).data, headers=page.headers)


class ReleaseDetailView(PublicAPIView):
    @extend_schema(responses=ReleaseDetailOutput)
    @cached_catalog_read
    def get(self, request: Request, release_id: str) -> Response:
        release = selectors.release_get(release_id=parse_uuid(release_id, name="release_id"))
        return Response(ReleaseDetailOutput(release).data)


class EpisodeListView(PublicAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("release_id", OpenApiTypes.UUID),
            OpenApiParameter("anime_id", OpenApiTypes.UUID, description="instead of release_id"),
        ],
        # 404: the release or anime of the query is not public.
        responses={200: EpisodeOutput(many=True), 404: error_response(404)},
    )
    @cached_catalog_read
    def get(self, request: Request) -> Response:
        release_id = optional_uuid_param(request, "release_id")
        anime_id = optional_uuid_param(request, "anime_id")
        if release_id is None and anime_id is None:
            raise Unprocessable(
                [{"loc": ["query", "release_id"], "msg": "Field required", "type": "missing"}]
            )
        episodes = selectors.episode_list(release_id=release_id, anime_id=anime_id)
        return Response(EpisodeOutput(episodes, many=True).data)


class GenreListView(PublicAPIView):
    @extend_schema(responses=GenreWithCountOutput(many=True))
    @cached_catalog_read
    def get(self, request: Request) -> Response:
        return Response(GenreWithCountOutput(selectors.genre_list(), many=True).data)


class AnimeRelatedView(PublicAPIView):
    """``GET /anime/{id}/related``: the franchise graph from Shikimori (public anime only)."""

    @extend_schema(responses={200: RelatedAnimeOutput(many=True), 404: error_response(404)})
    @cached_catalog_read
    def get(self, request: Request, anime_id: str) -> Response:
        anime = selectors.anime_public_get(anime_id=parse_uuid(anime_id, name="anime_id"))
        return Response(RelatedAnimeOutput(anime_related_list(anime=anime), many=True).data)
