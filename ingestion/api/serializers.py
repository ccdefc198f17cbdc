"""Filter, input and output shapes of the schedule, player and parser-admin endpoints. Output
serializers read the selectors' rows (``ingestion.selectors``), so the schema and the body
cannot drift.

Fields named like a Serializer attribute (``data``, ``label``) are fine at run time: the
SerializerMetaclass pops declared fields off the class. Only the stubs object (type: ignore).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import AiringSlot
from ingestion import player
from ingestion.models import ParserSettings, SyncLogLine

# --- Public schedule and player (contract A.11, A.12, B.4.1-B.4.3) -------------------------

_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@extend_schema_field(OpenApiTypes.STR)
class ScheduleDateField(serializers.Field):
    """``YYYY-MM-DD`` or the frontend's ``M/D/YYYY``."""

    default_error_messages = {"invalid": "use YYYY-MM-DD or M/D/YYYY"}

    def to_internal_value(self, data: Any) -> date:
        value = str(data).strip()
        try:
            if match := _US_DATE.match(value):
                month, day, year = (int(g) for g in match.groups())
                return date(year, month, day)
            return date.fromisoformat(value)
        except ValueError:
            self.fail("invalid")


class ScheduleFilter(serializers.Serializer):
    date = ScheduleDateField(required=False, help_text="default: today (UTC)")


class EpisodeFilter(serializers.Serializer):
    animeEpisodeId = serializers.CharField(help_text="an episode id from GET /episodes")


class EpisodeSourcesFilter(EpisodeFilter):
    server = serializers.CharField(required=False, help_text="a serverName; default: the first")
    category = serializers.ChoiceField(choices=player.CATEGORIES, default="sub")


class ScheduledAnimeOutput(serializers.Serializer):
    """One ``AiringSlot`` with its anime; ``now`` in the context."""

    id = serializers.UUIDField(source="anime_id")
    time = serializers.SerializerMethodField(help_text="HH:MM, UTC")
    name = serializers.CharField(source="anime.title")
    jname = serializers.SerializerMethodField()
    airingTimestamp = serializers.SerializerMethodField(help_text="milliseconds since the epoch")
    secondsUntilAiring = serializers.SerializerMethodField()
    episode = serializers.IntegerField()

    def get_time(self, slot: AiringSlot) -> str:
        return slot.airs_at.astimezone(UTC).strftime("%H:%M")

    def get_jname(self, slot: AiringSlot) -> str | None:
        return slot.anime.title_original or slot.anime.title_ja or None

    def get_airingTimestamp(self, slot: AiringSlot) -> int:
        return int(slot.airs_at.timestamp() * 1000)

    def get_secondsUntilAiring(self, slot: AiringSlot) -> int:
        now: datetime = self.context["now"]
        return max(0, int((slot.airs_at - now).total_seconds()))


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


class ParserSettingsInput(serializers.Serializer):
    mode = serializers.ChoiceField(choices=ParserSettings.Mode.choices, required=False)
    stage_only = serializers.BooleanField(required=False)
    autopublish_enabled = serializers.BooleanField(required=False)
    enable_autoupdate = serializers.BooleanField(required=False)
    update_interval_minutes = serializers.IntegerField(min_value=1, required=False)
    dry_run_default = serializers.BooleanField(required=False)
    allowed_translation_types = serializers.ListField(
        child=serializers.ChoiceField(choices=["voice", "sub", "subtitles"]), required=False
    )
    allowed_translations = serializers.ListField(child=serializers.CharField(), required=False)
    allowed_qualities = serializers.ListField(child=serializers.CharField(), required=False)
    preferred_translation_priority = serializers.ListField(
        child=serializers.CharField(), required=False
    )
    preferred_quality_priority = serializers.ListField(
        child=serializers.CharField(), required=False
    )
    blacklist_titles = serializers.ListField(child=serializers.CharField(), required=False)
    blacklist_external_ids = serializers.ListField(child=serializers.CharField(), required=False)


class ModeInput(serializers.Serializer):
    mode = serializers.ChoiceField(choices=ParserSettings.Mode.choices)
    reason = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class EmergencyStopInput(serializers.Serializer):
    reason = serializers.CharField()


@extend_schema_field(OpenApiTypes.DATETIME)
class LenientDateTimeField(serializers.Field):
    """An ISO date-time, or None: the contract says invalid dates are ignored."""

    def to_internal_value(self, data: Any) -> datetime | None:
        try:
            parsed = parse_datetime(str(data)) if data else None
        except ValueError:
            return None
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed


class ParserLogsFilter(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100)
    # Not a choice: an unknown level or source matches nothing, as on the old backend.
    level = serializers.CharField(required=False, help_text=", ".join(SyncLogLine.Level.values))
    source = serializers.CharField(required=False)  # type: ignore[assignment]
    from_date = LenientDateTimeField(required=False)
    to_date = LenientDateTimeField(required=False)


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
    job_id = serializers.IntegerField(source="run_id")
    level = serializers.ChoiceField(choices=SyncLogLine.Level.choices)
    message = serializers.CharField()
    created_at = serializers.DateTimeField()
