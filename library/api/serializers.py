from __future__ import annotations

from rest_framework import serializers

from catalog.api.serializers import BlankAsNullField
from catalog.models import Anime
from kitsu.api import DB_INT_MAX
from library.models import COMPLETED_PERCENT, EpisodeView, Favorite, LibraryEntry, WatchProgress
from library.selectors import ANILIST_STATUS_CHOICES


class AnimeEmbedOutput(serializers.ModelSerializer):
    poster = BlankAsNullField(source="poster_url")

    class Meta:
        model = Anime
        fields = ["id", "title", "poster", "kind", "status"]


class FavoriteInput(serializers.Serializer):
    anime_id = serializers.UUIDField()


class FavoriteOutput(serializers.ModelSerializer):
    anime = AnimeEmbedOutput(read_only=True)

    class Meta:
        model = Favorite
        fields = ["id", "anime_id", "created_at", "anime"]


class ProgressInput(serializers.Serializer):
    anime_id = serializers.UUIDField()
    episode = serializers.IntegerField()
    position_seconds = serializers.FloatField(required=False, allow_null=True)
    progress_percent = serializers.FloatField(required=False, allow_null=True)
    # When the client observed this position (a tab may post late); never later than now.
    last_watched_at = serializers.DateTimeField(required=False, allow_null=True)


class ProgressOutput(serializers.ModelSerializer):
    class Meta:
        model = WatchProgress
        fields = [
            "id",
            "anime_id",
            "episode",
            "position_seconds",
            "progress_percent",
            "created_at",
            "last_watched_at",
        ]


class ContinueAnimeOutput(AnimeEmbedOutput):
    class Meta(AnimeEmbedOutput.Meta):
        fields = ["id", "title", "poster"]


class ContinueOutput(serializers.Serializer):
    """Item of ``GET /watch/continue`` (a ``selectors.ContinueItem``): ``ProgressOutput``'s
    fields, the anime, and the episode to play next when the current one is finished."""

    id = serializers.UUIDField(source="progress.id")
    anime_id = serializers.UUIDField(source="progress.anime_id")
    episode = serializers.IntegerField(source="progress.episode")
    position_seconds = serializers.IntegerField(source="progress.position_seconds")
    progress_percent = serializers.FloatField(source="progress.progress_percent")
    created_at = serializers.DateTimeField(source="progress.created_at")
    last_watched_at = serializers.DateTimeField(source="progress.last_watched_at")
    anime = ContinueAnimeOutput(source="progress.anime")
    next_episode = serializers.IntegerField(allow_null=True)


class HistoryOutput(serializers.ModelSerializer):
    completed = serializers.SerializerMethodField()

    class Meta:
        model = EpisodeView
        fields = [
            "anime_id",
            "episode",
            "position_seconds",
            "progress_percent",
            "completed",
            "first_watched_at",
            "last_watched_at",
        ]

    def get_completed(self, view: EpisodeView) -> bool:
        return view.progress_percent >= COMPLETED_PERCENT


class LibraryInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=LibraryEntry.Status.choices)
    score = serializers.IntegerField(min_value=1, max_value=10, required=False, allow_null=True)
    episodes_watched = serializers.IntegerField(
        min_value=0, max_value=DB_INT_MAX, required=False, allow_null=True
    )


class LibraryEntryOutput(serializers.ModelSerializer):
    anime = AnimeEmbedOutput(read_only=True)

    class Meta:
        model = LibraryEntry
        fields = [
            "anime_id",
            "status",
            "score",
            "episodes_watched",
            "created_at",
            "updated_at",
            "anime",
        ]


class AniListTitle(serializers.Serializer):
    english = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    romaji = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    native = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class AniListMedia(serializers.Serializer):
    id = serializers.IntegerField(max_value=DB_INT_MAX, required=False, allow_null=True)
    idMal = serializers.IntegerField(max_value=DB_INT_MAX, required=False, allow_null=True)
    bannerImage = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    title = AniListTitle(required=False)


class AniListEntry(serializers.Serializer):
    media = AniListMedia()


class AniListList(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ANILIST_STATUS_CHOICES)
    entries = AniListEntry(many=True)


class AniListImportInput(serializers.Serializer):
    animes = AniListList(many=True, required=False)


class AniListImportFilter(serializers.Serializer):
    provider = serializers.ChoiceField(choices=["anilist"], default="anilist")


class AniListMatchedOutput(serializers.Serializer):
    """A matched ``library.selectors.ImportMatch``."""

    id = serializers.UUIDField(source="anime.id")
    title = serializers.CharField(source="anime.title")
    thumbnail = BlankAsNullField(source="anime.poster_url")
    status = serializers.CharField(source="label", help_text="the AniList list status, simplified")
    library_status = serializers.ChoiceField(choices=LibraryEntry.Status.choices)
    matched_by = serializers.CharField(help_text='"mal_id" or "title"')
    anilist_id = serializers.IntegerField(source="entry.anilist_id", allow_null=True)


class AniListUnmatchedOutput(serializers.Serializer):
    """An unmatched ``library.selectors.ImportMatch``."""

    anilist_id = serializers.IntegerField(source="entry.anilist_id", allow_null=True)
    mal_id = serializers.IntegerField(source="entry.mal_id", allow_null=True)
    title = serializers.CharField(source="entry_title", allow_null=True)
    status = serializers.CharField(source="label")


class AniListImportOutput(serializers.Serializer):
    animes = AniListMatchedOutput(many=True)
    unmatched = AniListUnmatchedOutput(many=True)
    imported = serializers.BooleanField(help_text="false for an anonymous preview")
