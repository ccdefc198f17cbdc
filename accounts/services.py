"""Account writes: registration, sessions (login, refresh rotation, logout), passwords, roles.

Every service owns its transaction. Refresh tokens are ``<session id hex>.<secret>``; only
SHA-256(secret) is stored and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import status
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import LegacyRefreshToken, Session, User
from accounts.rbac import DEFAULT_ROLE, ROLES, STAFF_ROLES
from kitsu.errors import ApiError, BadRequest


class AuthError(ApiError):
    """401 AUTH_ERROR: the frontend refreshes, then logs out."""

    status_code = status.HTTP_401_UNAUTHORIZED
    headers = {"WWW-Authenticate": "Bearer"}


class SessionRevoked(ApiError):
    """403 PERMISSION_DENIED on refresh: the frontend logs out (contract A.4)."""

    status_code = status.HTTP_403_FORBIDDEN


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    session: Session


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None
    user_agent: str

    @classmethod
    def of(cls, request: HttpRequest) -> ClientInfo:
        return cls(
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _access_token(session: Session) -> str:
    token = AccessToken.for_user(session.user)
    token["sid"] = str(session.id)
    return str(token)


def _issue(session: Session) -> TokenPair:
    """Give ``session`` a fresh refresh secret (caller holds the row or just created it)."""
    secret = secrets.token_urlsafe(32)
    session.refresh_token_hash = _digest(secret)
    return TokenPair(_access_token(session), f"{session.id.hex}.{secret}", session)


def _parse_refresh(token: str) -> tuple[uuid.UUID, str]:
    session_hex, _, secret = token.partition(".")
    try:
        return uuid.UUID(hex=session_hex), secret
    except ValueError as exc:
        raise AuthError("Invalid token") from exc


def session_create(*, user: User, client: ClientInfo) -> TokenPair:
    now = timezone.now()
    session = Session(
        user=user,
        expires_at=now + settings.REFRESH_TOKEN_LIFETIME,
        last_used_at=now,
        ip_address=client.ip,
        user_agent=client.user_agent,
    )
    pair = _issue(session)
    session.save()
    return pair


def user_register(*, email: str, password: str, client: ClientInfo) -> TokenPair:
    """Create a user with the ``user`` role and its first session."""
    email = email.strip().lower()
    try:
        with transaction.atomic():
            if User.objects.filter(email=email).exists():
                raise BadRequest(None, message="Email already registered")
            user = User.objects.create_user(email=email, password=password)
            user.groups.add(Group.objects.get(name=DEFAULT_ROLE))
            return session_create(user=user, client=client)
    except IntegrityError as exc:  # a concurrent registration of the same address won
        raise BadRequest(None, message="Email already registered") from exc


def user_login(*, request: HttpRequest, email: str, password: str) -> TokenPair:
    """Check the password (Django upgrades legacy bcrypt hashes to Argon2 here) and open a
    session. Inactive and unknown users get the same answer as a wrong password."""
    user = authenticate(request, username=email.strip().lower(), password=password)
    if user is None:
        raise AuthError("Invalid email or password")
    with transaction.atomic():
        return session_create(user=user, client=ClientInfo.of(request))


def session_refresh(*, refresh_token: str, client: ClientInfo) -> TokenPair:
    """Rotate: the presented token becomes invalid and a new pair is issued.

    A token that names a live session but does not match its current secret is a rotated
    (stolen or replayed) token: the whole session is revoked and the caller gets 403.
    A token of the old backend (no ``.``; imported by ``import_legacy``) is accepted once.
    """
    if "." not in refresh_token:
        return _legacy_refresh(refresh_token=refresh_token, client=client)
    session_id, secret = _parse_refresh(refresh_token)
    reused = False
    with transaction.atomic():
        session = (
            Session.objects.select_for_update().select_related("user").filter(id=session_id).first()
        )
        if session is None:
            raise AuthError("Invalid token")
        if session.revoked_at is not None:
            raise SessionRevoked("Session revoked")
        if not hmac.compare_digest(session.refresh_token_hash, _digest(secret)):
            session.revoke("refresh token reuse")
            reused = True
        else:
            if session.expires_at <= timezone.now():
                raise AuthError("Token has expired")
            if not session.user.is_active:
                raise AuthError("User is inactive")
            pair = _issue(session)
            session.last_used_at = timezone.now()
            session.ip_address = client.ip
            session.user_agent = client.user_agent
            session.save(
                update_fields=["refresh_token_hash", "last_used_at", "ip_address", "user_agent"]
            )
    if reused:  # raised after the commit, so the revocation sticks
        raise SessionRevoked("Refresh token reuse detected; session revoked")
    return pair


def _legacy_refresh(*, refresh_token: str, client: ClientInfo) -> TokenPair:
    """An old backend's refresh token (stored as its SHA-256 hex): still valid and never used
    -> a new Kitsu session. Unknown, expired or already used -> 401; presenting it a second
    time also ends the session it became (the same theft rule as a rotated Kitsu token)."""
    replayed = False
    with transaction.atomic():
        legacy = (
            LegacyRefreshToken.objects.select_for_update()
            .select_related("user")
            .filter(token_hash=_digest(refresh_token))
            .first()
        )
        if legacy is None:
            raise AuthError("Invalid token")
        if legacy.used_at is not None:
            if legacy.session_id is not None:
                sessions_revoke(
                    user=legacy.user, reason="legacy token reuse", session_id=legacy.session_id
                )
            replayed = True
        else:
            if legacy.expires_at <= timezone.now():
                raise AuthError("Token has expired")
            if not legacy.user.is_active:
                raise AuthError("User is inactive")
            pair = session_create(user=legacy.user, client=client)
            legacy.used_at = timezone.now()
            legacy.session = pair.session
            legacy.save(update_fields=["used_at", "session"])
    if replayed:  # raised after the commit, so the revocation sticks
        raise AuthError("Invalid token")
    return pair


def session_logout(*, refresh_token: str) -> None:
    """Revoke the session of ``refresh_token``; unknown or stale tokens are ignored."""
    if "." not in refresh_token:  # an old backend's token: it can no longer be used
        with transaction.atomic():
            LegacyRefreshToken.objects.filter(
                token_hash=_digest(refresh_token), used_at__isnull=True
            ).update(used_at=timezone.now())
        return
    try:
        session_id, secret = _parse_refresh(refresh_token)
    except AuthError:
        return
    with transaction.atomic():
        session = Session.objects.select_for_update().filter(id=session_id).first()
        if session is None or session.revoked_at is not None:
            return
        if hmac.compare_digest(session.refresh_token_hash, _digest(secret)):
            session.revoke("logout")


def sessions_revoke(
    *, user: User, reason: str, session_id: uuid.UUID | None = None, keep: uuid.UUID | None = None
) -> int:
    """Revoke one session of ``user`` (``session_id``) or all of them except ``keep``."""
    with transaction.atomic():
        sessions = Session.objects.filter(user=user, revoked_at__isnull=True)
        if session_id is not None:
            sessions = sessions.filter(id=session_id)
        if keep is not None:
            sessions = sessions.exclude(id=keep)
        return sessions.update(revoked_at=timezone.now(), revoked_reason=reason)


def password_change(
    *, user: User, current_password: str, new_password: str, current_session: uuid.UUID | None
) -> None:
    """Set a new password and sign out every other session."""
    if not user.check_password(current_password):
        raise BadRequest("Current password is incorrect")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        sessions_revoke(user=user, reason="password changed", keep=current_session)


def user_update(*, user: User, avatar: str) -> User:
    with transaction.atomic():
        user.avatar = avatar
        user.save(update_fields=["avatar"])
    return user


def staff_flag_sync(*, user: User) -> None:
    """Editorial roles open the Django admin: is_staff follows the roles held."""
    roles = set(user.groups.values_list("name", flat=True))
    is_staff = bool(roles & STAFF_ROLES) or user.is_superuser
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


def role_grant(*, user: User, role: str) -> None:
    """Give ``role``; editorial roles also open the Django admin (is_staff)."""
    if role not in ROLES:
        raise BadRequest(f"Unknown role {role!r}; roles: {', '.join(ROLES)}")
    with transaction.atomic():
        user.groups.add(Group.objects.get(name=role))
        staff_flag_sync(user=user)


def role_revoke(*, user: User, role: str) -> None:
    if role not in ROLES:
        raise BadRequest(f"Unknown role {role!r}; roles: {', '.join(ROLES)}")
    with transaction.atomic():
        user.groups.remove(Group.objects.get(name=role))
        staff_flag_sync(user=user)


def sessions_purge(*, keep_days: int = 7) -> int:
    """Delete sessions that expired or were revoked more than ``keep_days`` ago (revoked rows
    are kept that long so a replayed token still gets 403, not 401)."""
    cutoff = timezone.now() - timedelta(days=keep_days)
    with transaction.atomic():
        deleted, _ = Session.objects.filter(expires_at__lt=cutoff).delete()
        revoked, _ = Session.objects.filter(revoked_at__lt=cutoff).delete()
    return deleted + revoked
