"""Output of ``GET /anime/{id}/related`` (its own module: the card/detail serializers are
not touched)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.models import Anime, AnimeRelation


class RelatedAnimeCardOutput(serializers.ModelSerializer):
    poster = serializers.SerializerMethodField()
    title_original = serializers.SerializerMethodField()

    class Meta:
        model = Anime
        fields = [
            "id",
            "shikimori_id",
            "title",
            "title_original",
            "kind",
            "status",
            "year",
            "poster",
        ]

    def get_poster(self, anime: Anime) -> str | None:
        return anime.poster_url or None

    def get_title_original(self, anime: Anime) -> str | None:
        return anime.title_original or None


class RelatedAnimeOutput(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=AnimeRelation.Kind.choices)
    anime = RelatedAnimeCardOutput()
