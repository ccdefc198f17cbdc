"""Output shapes of the public catalog (contract B.2 plus the additive fields of A.7)."""

from __future__ import annotations

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
