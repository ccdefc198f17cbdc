"""The personal airing calendar as an RFC 5545 document (built with ``icalendar``).

Pure functions: slots in, bytes out. The body is a function of the events and of the feed's
revision time only, so an unchanged calendar gives the same bytes (and the same ETag) on
every poll.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from catalog.models import AiringSlot

PRODID = "-//Kitsu//Airing calendar//EN"
UID_DOMAIN = "kitsu.calendar"
DEFAULT_DURATION = timedelta(minutes=24)  # a TV episode, when neither side knows better
REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    anime_id: str
    episode: int


def feed_events(slots: Sequence[AiringSlot]) -> list[FeedEvent]:
    """One event per (anime, episode). The UID depends on those two only, so a moved slot is
    the same event at a new time for the subscribing calendar app."""
    events = []
    for slot in slots:
        anime = slot.anime
        if slot.duration_seconds:
            duration = timedelta(seconds=slot.duration_seconds)
        elif anime.duration_minutes:
            duration = timedelta(minutes=anime.duration_minutes)
        else:
            duration = DEFAULT_DURATION
        starts_at = slot.airs_at.astimezone(UTC)
        events.append(
            FeedEvent(
                uid=f"airing-{anime.pk}-{slot.episode}@{UID_DOMAIN}",
                starts_at=starts_at,
                ends_at=starts_at + duration,
                summary=f"{anime.title} — episode {slot.episode}",
                anime_id=str(anime.pk),
                episode=slot.episode,
            )
        )
    return events


def feed_digest(events: Sequence[FeedEvent]) -> str:
    """What the feed says, hashed: the ETag, and how the revision time notices a change."""
    digest = hashlib.sha256()
    for event in events:
        line = f"{event.uid}|{event.starts_at.isoformat()}|{event.ends_at.isoformat()}|"
        digest.update(f"{line}{event.summary}\n".encode())
    return digest.hexdigest()[:32]


def feed_render(events: Sequence[FeedEvent], *, revised_at: datetime) -> bytes:
    """The VCALENDAR; ``revised_at`` (when the events last changed) is every DTSTAMP."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", "Kitsu: airing")  # RFC 7986
    calendar.add("x-wr-calname", "Kitsu: airing")  # what Google and Apple Calendar read
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    stamp = revised_at.astimezone(UTC).replace(microsecond=0)
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.starts_at)
        event.add("dtend", item.ends_at)
        event.add("summary", item.summary)
        event.add("transp", "TRANSPARENT")  # an airing does not make the user busy
        event.add("categories", ["Anime"])
        calendar.add_component(event)
    return bytes(calendar.to_ical())
