"""The personal airing calendar: an RFC 5545 feed behind a rotatable secret (issue 13)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from icalendar import Calendar

from catalog.models import AiringSlot, Anime
from library.models import Favorite, LibraryEntry, NotificationSettings
from tests.conftest import role_client
from tests.factories import AiringSlotFactory, AnimeFactory

pytestmark = pytest.mark.django_db


def subscribe(client: Any) -> str:
    """The feed's path and query, from ``POST /users/me/calendar-token``."""
    response = client.post("/users/me/calendar-token")
    assert response.status_code == 200, response.content
    url = response.json()["calendar_url"]
    assert url.startswith("http://testserver/users/me/calendar.ics?token=")
    return url.removeprefix("http://testserver")


def events(body: bytes) -> dict[str, Any]:
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def world() -> dict[str, Any]:
    now = timezone.now()
    fan, client = role_client()
    liked = AnimeFactory(title="Liked", duration_minutes=23)
    watching = AnimeFactory(title="Watching")
    planned = AnimeFactory(title="Planned")
    dropped = AnimeFactory(title="Dropped")
    hidden = AnimeFactory(title="Hidden", state=Anime.State.DRAFT)
    stranger = AnimeFactory(title="Not followed")
    Favorite.objects.create(user=fan, anime=liked)
    Favorite.objects.create(user=fan, anime=hidden)
    for anime, status in ((watching, "watching"), (planned, "planned"), (dropped, "dropped")):
        LibraryEntry.objects.create(user=fan, anime=anime, status=status)
    slots = {
        "liked": AiringSlotFactory(anime=liked, episode=5, airs_at=now + timedelta(days=2)),
        "liked_later": AiringSlotFactory(anime=liked, episode=6, airs_at=now + timedelta(days=9)),
        "watching": AiringSlotFactory(
            anime=watching, episode=1, airs_at=now + timedelta(hours=3), duration_seconds=1440
        ),
        "planned": AiringSlotFactory(anime=planned, episode=2, airs_at=now + timedelta(days=29)),
    }
    # Not in the feed: past, beyond 30 days, not followed, hidden, dropped.
    AiringSlotFactory(anime=liked, episode=4, airs_at=now - timedelta(hours=1))
    AiringSlotFactory(anime=watching, episode=9, airs_at=now + timedelta(days=31))
    AiringSlotFactory(anime=stranger, episode=1, airs_at=now + timedelta(days=1))
    AiringSlotFactory(anime=hidden, episode=1, airs_at=now + timedelta(days=1))
    AiringSlotFactory(anime=dropped, episode=1, airs_at=now + timedelta(days=1))
    return {"fan": fan, "client": client, "slots": slots, "liked": liked}


def test_the_feed_lists_the_followed_anime_next_30_days(world, api):
    path = subscribe(world["client"])
    response = api.get(path)  # no Authorization: calendar apps cannot send one
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    found = events(response.content)
    slots = world["slots"]
    expected = {f"airing-{s.anime_id}-{s.episode}@kitsu.calendar": s for s in slots.values()}
    assert set(found) == set(expected)
    for uid, slot in expected.items():
        event = found[uid]
        start = event.decoded("DTSTART")
        assert start.tzinfo is not None
        assert start.utcoffset() == timedelta(0)
        assert start == slot.airs_at.replace(microsecond=0) or start == slot.airs_at
        assert str(event["SUMMARY"]) == f"{slot.anime.title} — episode {slot.episode}"
    liked = found[f"airing-{world['liked'].pk}-5@kitsu.calendar"]
    assert liked.decoded("DTEND") - liked.decoded("DTSTART") == timedelta(minutes=23)
    watching = found[f"airing-{slots['watching'].anime_id}-1@kitsu.calendar"]
    assert watching.decoded("DTEND") - watching.decoded("DTSTART") == timedelta(minutes=24)
    assert b"\r\n" in response.content  # RFC 5545 line endings


def test_uids_are_stable_and_a_moved_slot_keeps_its_uid(world, api):
    path = subscribe(world["client"])
    first = events(api.get(path).content)
    slot = world["slots"]["liked"]
    AiringSlot.objects.filter(pk=slot.pk).update(airs_at=slot.airs_at + timedelta(hours=1))
    second = events(api.get(path).content)
    assert set(first) == set(second)
    uid = f"airing-{slot.anime_id}-5@kitsu.calendar"
    assert second[uid].decoded("DTSTART") - first[uid].decoded("DTSTART") == timedelta(hours=1)


def test_follow_mode_shapes_the_feed(world, api):
    path = subscribe(world["client"])
    NotificationSettings.objects.filter(user=world["fan"]).update(follow_mode="favorites")
    assert {str(e["SUMMARY"]).split(" —")[0] for e in events(api.get(path).content).values()} == {
        "Liked"
    }
    NotificationSettings.objects.filter(user=world["fan"]).update(follow_mode="watching")
    assert {str(e["SUMMARY"]).split(" —")[0] for e in events(api.get(path).content).values()} == {
        "Watching"
    }
    NotificationSettings.objects.filter(user=world["fan"]).update(follow_mode="off")
    assert events(api.get(path).content) == {}


def test_conditional_get_etag_and_last_modified(world, api):
    path = subscribe(world["client"])
    first = api.get(path)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"')
    assert modified.endswith("GMT")
    again = api.get(path, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert api.get(path, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert api.get(path).content == first.content  # unchanged data, identical bytes
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        AiringSlotFactory(
            anime=world["liked"], episode=7, airs_at=timezone.now() + timedelta(days=3)
        )
        changed = api.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed["Last-Modified"] != modified
    assert api.get(path, HTTP_IF_MODIFIED_SINCE=modified).status_code == 200


def test_rotation_kills_the_old_url_and_unknown_tokens_are_plain_404s(world, api):
    old = subscribe(world["client"])
    assert api.get(old).status_code == 200
    new = subscribe(world["client"])
    assert new != old
    assert api.get(new).status_code == 200
    gone = api.get(old)
    unknown = api.get("/users/me/calendar.ics?token=nope")
    missing = api.get("/users/me/calendar.ics")
    for response in (gone, unknown, missing, api.get("/users/me/calendar.ics?token=" + "x" * 500)):
        assert response.status_code == 404
        assert response.json() == gone.json()  # one answer: no hint whether anyone had it
    me = world["client"].get("/users/me").json()
    assert me["notifications"]["calendar_url"].endswith(new)


def test_a_deactivated_user_feed_is_gone(world, api):
    path = subscribe(world["client"])
    world["fan"].is_active = False
    world["fan"].save(update_fields=["is_active"])
    assert api.get(path).status_code == 404


def test_the_feed_answers_calendar_apps_accept_header(world, api):
    path = subscribe(world["client"])
    assert api.get(path, HTTP_ACCEPT="text/calendar").status_code == 200
    missing = api.get("/users/me/calendar.ics?token=nope", HTTP_ACCEPT="text/calendar")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"


def test_times_are_utc(world, api):
    path = subscribe(world["client"])
    body = api.get(path).content.decode()
    starts = [line for line in body.splitlines() if line.startswith("DTSTART")]
    assert len(starts) == 4
    assert all(line.endswith("Z") for line in starts), starts
