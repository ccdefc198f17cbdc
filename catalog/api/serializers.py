"""Output shapes of the public catalog (contract B.2 plus the additive fields of A.7)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.models import Anime, Episode, Genre, Release, Studio
from catalog.selectors import anime_problems


class GenreOutput(serializers.ModelSerializer):
    class Meta:
        model = Genre
        fields = ["id", "name", "name_ru", "slug", "kind"]


class GenreWithCountOutput(GenreOutput):
    anime_count = serializers.IntegerField(read_only=True)

    class Meta(GenreOutput.Meta):
        fields = [*GenreOutput.Meta.fields, "anime_count"]


class StudioOutput(serializers.ModelSerializer):
    class Meta:
        model = Studio
        fields = ["id", "name", "slug"]


class BlankAsNullField(serializers.CharField):
    """Text columns store "" for unknown; the API says null (contract B.2.2)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)  # documents the null this field answers
        super().__init__(**kwargs)

    def to_representation(self, value: str) -> str | None:  # type: ignore[override]
        return value or None


class AnimeCardOutput(serializers.ModelSerializer):
    """Item of ``GET /anime`` and ``GET /search/anime``."""

    title_original = BlankAsNullField()
    title_ru = BlankAsNullField()
    title_en = BlankAsNullField()
    season = BlankAsNullField()
    poster = BlankAsNullField(source="poster_url")
    score = serializers.FloatField()
    genres = GenreOutput(many=True, read_only=True)

    class Meta:
        model = Anime
        fields = [
            "id",
            "title",
            "title_original",
            "title_ru",
            "title_en",
            "year",
            "season",
            "status",
            "kind",
            "poster",
            "score",
            "episodes_total",
            "episodes_aired",
            "genres",
        ]


class ReleaseOutput(serializers.ModelSerializer):
    class Meta:
        model = Release
        fields = ["id", "anime_id", "title", "kind", "year", "status", "ordering"]


class ReleaseDetailOutput(ReleaseOutput):
    class Meta(ReleaseOutput.Meta):
        fields = [*ReleaseOutput.Meta.fields, "created_at"]


class AnimeDetailOutput(AnimeCardOutput):
    """``GET /anime/{id}``: the card plus description, dates, studios and releases."""

    description = BlankAsNullField()
    title_ja = BlankAsNullField()
    franchise = BlankAsNullField()
    duration = serializers.IntegerField(source="duration_minutes", allow_null=True)
    studios = StudioOutput(many=True, read_only=True)
    releases = ReleaseOutput(many=True, read_only=True)

    class Meta(AnimeCardOutput.Meta):
        fields = [
            *AnimeCardOutput.Meta.fields,
            "title_ja",
            "synonyms",
            "description",
            "aired_on",
            "released_on",
            "duration",
            "rating",
            "franchise",
            "next_episode_at",
            "shikimori_id",
            "mal_id",
            "studios",
            "releases",
            "created_at",
            "updated_at",
        ]


class EpisodeOutput(serializers.ModelSerializer):
    title = BlankAsNullField()

    class Meta:
        model = Episode
        fields = ["id", "release_id", "number", "title", "air_date"]


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice column that stores "" for unknown; the API says null."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: str) -> str | None:  # type: ignore[override]
        return value or None


class AdminAnimeItemOutput(serializers.Serializer):
    """Item of ``GET /api/admin/anime`` (contract B.5.1): an anime from
    ``catalog.selectors.admin_anime_list`` (annotated with ``has_video``).

    ``source`` and ``errors`` are fields (SerializerMetaclass pops them off the class), not the
    Serializer attributes the stubs see: hence the type: ignore."""

    id = serializers.UUIDField()
    title = serializers.CharField()
    poster_url = BlankAsNullField()
    state = serializers.ChoiceField(choices=Anime.State.choices)
    source = serializers.ChoiceField(choices=Anime.Source.choices)  # type: ignore[assignment]
    year = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=Anime.Status.choices)
    is_locked = serializers.BooleanField()
    locked_fields = serializers.ListField(child=serializers.CharField())
    has_video = serializers.BooleanField()
    errors_count = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    created_by = serializers.UUIDField(source="created_by_id", allow_null=True)
    updated_by = serializers.UUIDField(source="updated_by_id", allow_null=True)

    def get_errors_count(self, anime: Anime) -> int:
        return len(anime_problems(anime, has_video=anime.has_video))  # type: ignore[attr-defined]


class AdminAnimeListOutput(serializers.Serializer):
    items = AdminAnimeItemOutput(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class AdminAnimeDetailOutput(AdminAnimeItemOutput):
    """``GET /api/admin/anime/{id}``: the item plus the editable texts, lock and deletion
    (``catalog.selectors.admin_anime_get``)."""

    title_ru = BlankAsNullField()
    title_en = BlankAsNullField()
    title_original = BlankAsNullField()
    description = BlankAsNullField()
    season = BlankAsNullChoiceField(choices=Anime.Season.choices)
    genres = serializers.SerializerMethodField()
    locked_by = serializers.UUIDField(source="locked_by_id", allow_null=True)
    locked_reason = BlankAsNullField()
    locked_at = serializers.DateTimeField(allow_null=True)
    is_deleted = serializers.SerializerMethodField()
    deleted_at = serializers.DateTimeField(allow_null=True)
    deleted_by = serializers.UUIDField(source="deleted_by_id", allow_null=True)
    delete_reason = BlankAsNullField()
    errors = serializers.SerializerMethodField()  # type: ignore[assignment]

    def get_genres(self, anime: Anime) -> list[str]:
        return [genre.name for genre in anime.genres.all()]

    def get_is_deleted(self, anime: Anime) -> bool:
        return anime.deleted_at is not None

    def get_errors(self, anime: Anime) -> list[str]:
        return anime_problems(anime, has_video=anime.has_video)  # type: ignore[attr-defined]


class AdminAnimePatchOutput(serializers.Serializer):
    success = serializers.BooleanField()
    anime = AdminAnimeDetailOutput()
    audit_log_id = serializers.UUIDField()
    warnings = serializers.ListField(child=serializers.CharField())
