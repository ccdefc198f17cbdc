"""Reads of issue 13: who follows what (the one place the follow rule lives), a user's
notifications, and the airing slots of their calendar feed.

Following: an anime is followed through a favorite or a library entry, narrowed by the user's
``NotificationSettings.follow_mode`` (no settings row = ``default``):

* ``default``: favorites, and library entries watching, rewatching or planned;
* ``favorites``: favorites only;
* ``watching``: library entries watching or rewatching only;
* ``off``: nothing (no notifications, an empty calendar).

Only active users follow, and only public anime show: a notification of an anime that is
unpublished or soft-deleted is hidden (not deleted) and reappears when it is republished.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User
from catalog.models import AiringSlot, Genre, public_anime
from library.models import Favorite, LibraryEntry, Notification, NotificationSettings

Mode = NotificationSettings.FollowMode
Status = LibraryEntry.Status

WATCHING_STATUSES = (Status.WATCHING, Status.REWATCHING)
DEFAULT_STATUSES = (*WATCHING_STATUSES, Status.PLANNED)
CALENDAR_DAYS = 30
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")

_VISIBLE = public_anime("anime__")


def _mode_in(*modes: str) -> Q:
    """The follow mode of the row's user (through ``user__``) is one of ``modes``."""
    rule = Q(user__notification_settings__follow_mode__in=modes)
    if Mode.DEFAULT in modes:
        rule |= Q(user__notification_settings__isnull=True)
    return rule


def anime_followers(*, anime_id: uuid.UUID) -> QuerySet[Favorite]:
    """The distinct ids (``user_id``) of the active users who follow ``anime_id``: a UNION
    of two index scans on ``anime_id``, so its cost follows the followers, not the users."""
    favorites = (
        Favorite.objects.filter(anime_id=anime_id, user__is_active=True)
        .filter(_mode_in(Mode.DEFAULT, Mode.FAVORITES))
        .values("user_id")
    )
    entries = (
        LibraryEntry.objects.filter(anime_id=anime_id, user__is_active=True)
        .filter(
            Q(status__in=DEFAULT_STATUSES) & _mode_in(Mode.DEFAULT)
            | Q(status__in=WATCHING_STATUSES) & _mode_in(Mode.WATCHING)
        )
        .values("user_id")
    )
    return favorites.union(entries)  # type: ignore[return-value]


def _followed_by(user: User, mode: str) -> Q:
    """Filter on ``anime`` rows' relations (``anime_id``) for the anime ``user`` follows."""
    favorites = Favorite.objects.filter(user=user).values("anime_id")
    if mode == Mode.OFF:
        return Q(pk__in=[])
    if mode == Mode.FAVORITES:
        return Q(anime_id__in=favorites)
    statuses = WATCHING_STATUSES if mode == Mode.WATCHING else DEFAULT_STATUSES
    entries = LibraryEntry.objects.filter(user=user, status__in=statuses).values("anime_id")
    if mode == Mode.WATCHING:
        return Q(anime_id__in=entries)
    return Q(anime_id__in=favorites) | Q(anime_id__in=entries)


def notification_settings_get(*, user: User) -> NotificationSettings:
    """The user's settings; an unsaved row with the defaults when there is none yet."""
    row = NotificationSettings.objects.filter(user=user).first()
    return row if row is not None else NotificationSettings(user=user)


def notification_settings_by_token(*, token: str) -> NotificationSettings | None:
    """The settings row whose calendar token is ``token`` (an active user's), else None."""
    if not _TOKEN.fullmatch(token):  # what calendar_token_rotate issues, nothing else
        return None
    return (
        NotificationSettings.objects.filter(calendar_token=token, user__is_active=True)
        .select_related("user")
        .first()
    )


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """Newest first, with the anime card's relations loaded in bulk."""
    notifications = Notification.objects.filter(_VISIBLE, user=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return (
        notifications.select_related("anime")
        .prefetch_related(Prefetch("anime__genres", queryset=Genre.objects.order_by("name")))
        .order_by("-created_at", "-id")
    )


def notification_unread_count(*, user: User) -> int:
    """One COUNT over the partial unread index (joined to the anime for the visibility rule):
    the endpoint is polled."""
    return Notification.objects.filter(_VISIBLE, user=user, read_at__isnull=True).count()


def calendar_slots(*, settings_row: NotificationSettings, now: datetime) -> list[AiringSlot]:
    """Airing slots of the next ``CALENDAR_DAYS`` days of the public anime the user follows,
    soonest first."""
    return list(
        AiringSlot.objects.filter(
            _VISIBLE,
            _followed_by(settings_row.user, settings_row.follow_mode),
            airs_at__gte=now,
            airs_at__lt=now + timedelta(days=CALENDAR_DAYS),
        )
        .select_related("anime")
        .order_by("airs_at", "anime_id", "episode")
    )
