"""New-episode notifications through HTTP and the job's management command (issue 13)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from catalog.models import Anime
from library.models import Favorite, LibraryEntry, Notification, NotificationSettings
from tests.conftest import assert_constant_queries, count_queries, role_client
from tests.factories import (
    AnimeFactory,
    EpisodeFactory,
    PlaybackSourceFactory,
    ReleaseFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def notify() -> str:
    out = StringIO()
    call_command("notify_new_episodes", stdout=out)
    return out.getvalue()


def playable(anime: Anime, *numbers: int, ordering: int = 1) -> None:
    """Episodes ``numbers`` of ``anime`` (release ``ordering``), each with a source."""
    release = anime.releases.filter(ordering=ordering).first() or ReleaseFactory(
        anime=anime, ordering=ordering
    )
    for number in numbers:
        PlaybackSourceFactory(episode=EpisodeFactory(release=release, number=number))


def follow(user: Any, anime: Anime, *, favorite: bool = False, status: str | None = None) -> None:
    if favorite:
        Favorite.objects.create(user=user, anime=anime)
    if status:
        LibraryEntry.objects.create(user=user, anime=anime, status=status)


def set_mode(user: Any, mode: str) -> None:
    NotificationSettings.objects.update_or_create(user=user, defaults={"follow_mode": mode})


@pytest.fixture
def show() -> Anime:
    anime = AnimeFactory(title="Airing show", status=Anime.Status.ONGOING)
    playable(anime, 1, 2)
    return anime


def test_first_sight_is_silent_then_each_new_episode_notifies_each_follower_once(show):
    fan, client = role_client()
    follow(fan, show, favorite=True)
    assert "1 watermarks initialised" in notify()
    assert client.get("/notifications").json() == []
    playable(show, 3)
    assert "1 notifications" in notify()
    assert "0 notifications" in notify()  # a second run adds nothing
    body = client.get("/notifications").json()
    assert [(n["anime_id"], n["episode_number"], n["read"]) for n in body] == [
        (str(show.pk), 3, False)
    ]
    assert body[0]["anime"]["title"] == "Airing show"
    assert body[0]["anime"]["genres"] == []  # the catalog card, embedded
    playable(show, 4, 5)  # two at once: one notification each
    notify()
    assert [n["episode_number"] for n in client.get("/notifications").json()] == [5, 4, 3]
    playable(show, 7)  # 6 is not playable yet (a late dub): only 7 is announced
    notify()
    assert client.get("/notifications").json()[0]["episode_number"] == 7
    assert Notification.objects.filter(episode_number=6).count() == 0


def test_a_jump_notifies_the_newest_episodes_only(show):
    fan, _client = role_client()
    follow(fan, show, favorite=True)
    notify()
    playable(show, *range(3, 103))
    notify()
    numbers = sorted(Notification.objects.filter(user=fan).values_list("episode_number", flat=True))
    assert numbers == list(range(78, 103))  # MAX_EPISODES_PER_RUN = 25


def test_episodes_without_sources_and_later_releases(show):
    fan, _ = role_client()
    follow(fan, show, favorite=True)
    notify()
    EpisodeFactory(release=show.releases.get(), number=3)  # listed, not playable yet
    notify()
    assert not Notification.objects.exists()
    playable(show, 1, ordering=2)  # season 2 episode 1 = episode 4 of the anime
    notify()
    assert list(Notification.objects.values_list("episode_number", flat=True)) == [4]


FOLLOW_CASES = [
    # (follow mode, favorite?, library status, notified?)
    ("default", True, None, True),
    ("default", False, "watching", True),
    ("default", False, "rewatching", True),
    ("default", False, "planned", True),
    ("default", False, "completed", False),
    ("default", False, "dropped", False),
    ("favorites", True, None, True),
    ("favorites", False, "watching", False),
    ("watching", False, "watching", True),
    ("watching", False, "planned", False),
    ("watching", True, None, False),
    ("off", True, "watching", False),
]


def test_follow_settings_are_honoured(show):
    notify()
    users = []
    for mode, favorite, status, expected in FOLLOW_CASES:
        user = UserFactory()
        if mode != "default" or favorite:  # half the default users have no settings row
            set_mode(user, mode)
        follow(user, show, favorite=favorite, status=status)
        users.append((user, expected))
    both = UserFactory()
    follow(both, show, favorite=True, status="watching")  # two reasons, one notification
    inactive = UserFactory(is_active=False)
    follow(inactive, show, favorite=True)
    playable(show, 3)
    notify()
    notified = set(Notification.objects.values_list("user_id", flat=True))
    assert {u.pk for u, expected in users if expected} | {both.pk} == notified
    assert Notification.objects.filter(user=both).count() == 1


def test_hidden_anime_produce_none_and_hiding_hides_without_deleting(show):
    fan, client = role_client()
    follow(fan, show, favorite=True)
    notify()
    playable(show, 3)
    notify()
    assert client.get("/notifications/unread-count").json() == {"unread": 1}
    Anime.objects.filter(pk=show.pk).update(state=Anime.State.ARCHIVED)
    assert client.get("/notifications").json() == []
    assert client.get("/notifications/unread-count").json() == {"unread": 0}
    playable(show, 4)  # arrives while hidden: never notified, not even once republished
    notify()
    Anime.objects.filter(pk=show.pk).update(state=Anime.State.PUBLISHED)
    notify()
    assert [n["episode_number"] for n in client.get("/notifications").json()] == [3]
    Anime.objects.filter(pk=show.pk).update(deleted_at=timezone.now())
    assert client.get("/notifications/unread-count").json() == {"unread": 0}
    assert Notification.objects.count() == 1


def _notified(fan: Any, count: int) -> list[int]:
    anime = AnimeFactory()
    Notification.objects.bulk_create(
        Notification(user=fan, anime=anime, episode_number=n, available_at=timezone.now())
        for n in range(1, count + 1)
    )
    rows = Notification.objects.filter(user=fan, anime=anime).order_by("id")
    return list(rows.values_list("id", flat=True))


def test_unread_count_mark_read_and_the_unread_filter():
    fan, client = role_client()
    other, _ = role_client()
    ids = _notified(fan, 4)
    foreign = _notified(other, 1)
    assert client.get("/notifications/unread-count").json() == {"unread": 4}
    response = client.post("/notifications/read", {"ids": ids[:2] + foreign}, format="json")
    assert response.status_code == 200
    assert response.json() == {"marked": 2, "unread": 2}
    assert Notification.objects.get(pk=foreign[0]).read_at is None  # not the caller's
    unread = client.get("/notifications?unread=true").json()
    assert sorted(n["id"] for n in unread) == ids[2:]
    assert len(client.get("/notifications?unread=false").json()) == 4
    assert client.post("/notifications/read", {"ids": ids}, format="json").json() == {
        "marked": 2,
        "unread": 0,
    }


def test_mark_read_up_to_a_time():
    fan, client = role_client()
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        old = _notified(fan, 2)
    cutoff = timezone.now() - timedelta(hours=1)
    _notified(fan, 1)
    response = client.post("/notifications/read", {"up_to": cutoff.isoformat()}, format="json")
    assert response.json() == {"marked": 2, "unread": 1}
    assert set(Notification.objects.filter(read_at__isnull=False).values_list("id", flat=True)) == (
        set(old)
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": []},
        {"ids": ["x"]},
        {"ids": [0]},
        {"ids": [2**63]},
        {"ids": [1], "up_to": "2026-01-01T00:00:00Z"},
        {"up_to": "yesterday"},
        {"ids": list(range(1, 1002))},
    ],
)
def test_bad_mark_read_bodies_are_4xx_in_the_envelope(body):
    _, client = role_client()
    response = client.post("/notifications/read", body, format="json")
    assert response.status_code in (400, 422)
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_bad_list_parameters():
    _, client = role_client()
    for query in ("unread=maybe", "cursor=bogus", "limit=0", "cursor=&offset=3"):
        response = client.get(f"/notifications?{query}")
        assert response.status_code in (400, 422), query
        assert "error" in response.json()


def test_delete_a_notification():
    fan, client = role_client()
    other, _ = role_client()
    mine = _notified(fan, 2)
    theirs = _notified(other, 1)
    assert client.delete(f"/notifications/{mine[0]}").status_code == 204
    assert client.delete(f"/notifications/{mine[0]}").status_code == 404
    assert client.delete(f"/notifications/{theirs[0]}").status_code == 404
    for bad in ("abc", "-1", "0", str(2**63), "١"):
        response = client.delete(f"/notifications/{bad}")
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert list(Notification.objects.filter(user=fan).values_list("id", flat=True)) == mine[1:]
    assert Notification.objects.filter(pk=theirs[0]).exists()


def test_endpoints_need_a_signed_in_user():
    _, anonymous = role_client(None)
    for method, path in [
        ("get", "/notifications"),
        ("get", "/notifications/unread-count"),
        ("post", "/notifications/read"),
        ("delete", "/notifications/1"),
        ("post", "/users/me/calendar-token"),
    ]:
        response = getattr(anonymous, method)(path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "AUTH_ERROR"


def test_cursor_pagination_newest_first():
    fan, client = role_client()
    ids = _notified(fan, 5)
    first = client.get("/notifications?cursor=&limit=2")
    assert [n["id"] for n in first.json()] == [ids[4], ids[3]]
    next_link = first.headers["Link"].split(";")[0].strip("<>")
    second = client.get(next_link)
    assert [n["id"] for n in second.json()] == [ids[2], ids[1]]


def test_list_query_count_does_not_grow_with_rows():
    fan, client = role_client()

    def add(n: int) -> None:
        for _ in range(n):
            _notified(fan, 1)

    assert_constant_queries(add, lambda: client.get("/notifications"))
    assert_constant_queries(add, lambda: client.get("/notifications?cursor="))


def test_unread_count_is_one_count_query():
    fan, client = role_client()
    _notified(fan, 30)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/notifications/unread-count").json() == {"unread": 30}
    ours = [q["sql"] for q in captured.captured_queries if "library_notification" in q["sql"]]
    assert len(ours) == 1
    assert ours[0].startswith("SELECT COUNT(*)")
    # The rest is the session check and the role's permissions, as on every endpoint.
    assert len(captured) == count_queries(lambda: client.get("/favorites?limit=1"))


def test_the_schedules_run_the_job_and_purge_old_notifications(settings, show):
    fan, _ = role_client()
    follow(fan, show, favorite=True)
    job = Schedule.objects.get(name="library.notify_new_episodes")
    assert job.schedule_type == Schedule.MINUTES
    async_task(job.func, sync=True)  # as qcluster runs it, inline
    playable(show, 3)
    async_task(job.func, sync=True)
    assert Notification.objects.filter(user=fan).count() == 1

    settings.NOTIFICATIONS_RETENTION_DAYS = 10
    with time_machine.travel(timezone.now() - timedelta(days=11)):
        old = _notified(fan, 3)
    with time_machine.travel(timezone.now() - timedelta(days=9)):
        kept = _notified(fan, 1)
    purge = Schedule.objects.get(name="library.purge_notifications")
    assert purge.schedule_type == Schedule.DAILY
    async_task(purge.func, sync=True)
    remaining = set(Notification.objects.values_list("id", flat=True))
    assert not remaining & set(old)
    assert set(kept) <= remaining
    assert len(remaining) == 2  # kept + the episode-3 notification


def test_settings_on_users_me():
    user, client = role_client()
    me = client.get("/users/me").json()
    assert me["notifications"] == {"follow_mode": "default", "calendar_url": None}
    response = client.patch(
        "/users/me", {"notifications": {"follow_mode": "favorites"}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["notifications"]["follow_mode"] == "favorites"
    assert NotificationSettings.objects.get(user=user).follow_mode == "favorites"
    client.patch("/users/me", {"avatar": "https://img.example/a.png"}, format="json")
    me = client.get("/users/me").json()
    assert (me["avatar"], me["notifications"]["follow_mode"]) == (
        "https://img.example/a.png",
        "favorites",
    )
    for bad in ({"notifications": {"follow_mode": "loud"}}, {"notifications": "off"}):
        response = client.patch("/users/me", bad, format="json")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert client.get("/users/me").json()["avatar"] == "https://img.example/a.png"


def test_the_schema_lists_the_new_endpoints(api):
    paths = api.get("/api/schema/?format=json").json()["paths"]
    for path in (
        "/notifications",
        "/notifications/unread-count",
        "/notifications/read",
        "/notifications/{notification_id}",
        "/users/me/calendar.ics",
        "/users/me/calendar-token",
    ):
        assert path in paths, path
    assert "text/calendar" in paths["/users/me/calendar.ics"]["get"]["responses"]["200"]["content"]
    me = api.get("/api/schema/?format=json").json()["components"]["schemas"]["MeOutput"]
    assert "notifications" in me["properties"]
