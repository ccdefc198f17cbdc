"""Output shapes of the schedule, player and parser-admin endpoints. The views build their
bodies as dicts and pass them through these, so the schema and the body cannot drift.

Fields named like a Serializer attribute (``data``, ``label``) are fine at run time: the
SerializerMetaclass pops declared fields off the class. Only the stubs object (type: ignore).
"""

from __future__ import annotations

from rest_framework import serializers

from ingestion.models import ParserSettings, SyncLogLine

# --- Public schedule and player (contract A.11, A.12, B.4.1-B.4.3) -------------------------


class ScheduledAnimeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    time = serializers.CharField(help_text="HH:MM, UTC")
    name = serializers.CharField()
    jname = serializers.CharField(allow_null=True)
    airingTimestamp = serializers.IntegerField(help_text="milliseconds since the epoch")
    secondsUntilAiring = serializers.IntegerField()
    episode = serializers.IntegerField()


class ScheduleDataOutput(serializers.Serializer):
    scheduledAnimes = ScheduledAnimeOutput(many=True)


class ScheduleOutput(serializers.Serializer):
    data = ScheduleDataOutput()  # type: ignore[assignment]


class EpisodeServerOutput(serializers.Serializer):
    serverId = serializers.IntegerField()
    serverName = serializers.CharField()


class EpisodeServersDataOutput(serializers.Serializer):
    episodeId = serializers.CharField()
    episodeNo = serializers.CharField()
    # One list per player.CATEGORIES.
    sub = EpisodeServerOutput(many=True)
    dub = EpisodeServerOutput(many=True)
    raw = EpisodeServerOutput(many=True)


class EpisodeServersOutput(serializers.Serializer):
    data = EpisodeServersDataOutput()  # type: ignore[assignment]


class StreamTrackOutput(serializers.Serializer):
    file = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    kind = serializers.CharField()
    default = serializers.BooleanField()


class SkipRangeOutput(serializers.Serializer):
    start = serializers.IntegerField()
    end = serializers.IntegerField()


class PlayableSourceOutput(serializers.Serializer):
    url = serializers.CharField()
    type = serializers.CharField(help_text='"iframe" for Kodik, else the stream type (hls...)')
    isM3U8 = serializers.BooleanField(required=False, help_text="stream sources only")


class EpisodeSourcesDataOutput(serializers.Serializer):
    headers = serializers.DictField(child=serializers.CharField())
    tracks = StreamTrackOutput(many=True)
    intro = SkipRangeOutput()
    outro = SkipRangeOutput()
    sources = PlayableSourceOutput(many=True)
    anilistID = serializers.IntegerField(allow_null=True)
    malID = serializers.IntegerField(allow_null=True)


class EpisodeSourcesOutput(serializers.Serializer):
    data = EpisodeSourcesDataOutput()  # type: ignore[assignment]


# --- Parser admin (contract B.5.2) ---------------------------------------------------------


class ParserSourceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    enabled = serializers.BooleanField()


class ParserDashboardOutput(serializers.Serializer):
    sources = ParserSourceOutput(many=True)
    anime_external_count = serializers.IntegerField()
    unmapped_anime_count = serializers.IntegerField()
    episodes_external_count = serializers.IntegerField()
    jobs_last_24h = serializers.IntegerField()
    errors_count = serializers.IntegerField()


def _strings() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField())


class ParserSettingsOutput(serializers.Serializer):
    """``ingestion.services.parser_settings_snapshot``."""

    mode = serializers.ChoiceField(choices=ParserSettings.Mode.choices)
    stage_only = serializers.BooleanField()
    autopublish_enabled = serializers.BooleanField()
    enable_autoupdate = serializers.BooleanField()
    update_interval_minutes = serializers.IntegerField()
    dry_run_default = serializers.BooleanField()
    allowed_translation_types = _strings()
    allowed_translations = _strings()
    allowed_qualities = _strings()
    preferred_translation_priority = _strings()
    preferred_quality_priority = _strings()
    blacklist_titles = _strings()
    blacklist_external_ids = _strings()


class ParserModeOutput(serializers.Serializer):
    status = serializers.CharField()
    mode = serializers.ChoiceField(choices=ParserSettings.Mode.choices)


class ParserLogLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    job_id = serializers.IntegerField()
    level = serializers.ChoiceField(choices=SyncLogLine.Level.choices)
    message = serializers.CharField()
    created_at = serializers.DateTimeField()
