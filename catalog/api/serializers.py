"""Output shapes of the public catalog (contract B.2 plus the additive fields of A.7)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.models import Anime, Episode, Genre, Release, Studio


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


class AdminAnimeItemOutput(serializers.Serializer):
    """Item of ``GET /api/admin/anime`` (contract B.5.1), built by ``admin_views._item``.

    ``source`` and ``errors`` are fields (SerializerMetaclass pops them off the class), not the
    Serializer attributes the stubs see: hence the type: ignore."""

    id = serializers.UUIDField()
    title = serializers.CharField()
    poster_url = serializers.CharField(allow_null=True)
    state = serializers.ChoiceField(choices=Anime.State.choices)
    source = serializers.ChoiceField(choices=Anime.Source.choices)  # type: ignore[assignment]
    year = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=Anime.Status.choices)
    is_locked = serializers.BooleanField()
    locked_fields = serializers.ListField(child=serializers.CharField())
    has_video = serializers.BooleanField()
    errors_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    created_by = serializers.UUIDField(allow_null=True)
    updated_by = serializers.UUIDField(allow_null=True)


class AdminAnimeListOutput(serializers.Serializer):
    items = AdminAnimeItemOutput(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class AdminAnimeDetailOutput(AdminAnimeItemOutput):
    """``GET /api/admin/anime/{id}``: the item plus the editable texts, lock and deletion."""

    title_ru = serializers.CharField(allow_null=True)
    title_en = serializers.CharField(allow_null=True)
    title_original = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    season = serializers.ChoiceField(choices=Anime.Season.choices, allow_null=True)
    genres = serializers.ListField(child=serializers.CharField())
    locked_by = serializers.UUIDField(allow_null=True)
    locked_reason = serializers.CharField(allow_null=True)
    locked_at = serializers.DateTimeField(allow_null=True)
    is_deleted = serializers.BooleanField()
    deleted_at = serializers.DateTimeField(allow_null=True)
    deleted_by = serializers.UUIDField(allow_null=True)
    delete_reason = serializers.CharField(allow_null=True)
    errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]


class AdminAnimePatchOutput(serializers.Serializer):
    success = serializers.BooleanField()
    anime = AdminAnimeDetailOutput()
    audit_log_id = serializers.UUIDField()
    warnings = serializers.ListField(child=serializers.CharField())
