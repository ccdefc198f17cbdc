"""Bearer authentication: a simplejwt access token whose session is still active.

The access token carries ``sid`` (its session). One query loads the session and its user
together, so a logout or a revoked session stops its access tokens at once, at no extra
query over plain JWT authentication (which loads the user anyway).
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.tokens import AccessToken, Token

from accounts.models import Session, User


def signed_in_user(request: Request) -> User:
    """The authenticated user of a view that requires authentication."""
    return cast("User", request.user)


class SessionJWTAuthentication(JWTAuthentication):
    def authenticate_header(self, request: Request) -> str:
        return "Bearer"  # makes DRF answer 401, never 403, to a missing or bad token

    def get_validated_token(self, raw_token: bytes) -> Token:
        try:
            return AccessToken(raw_token)  # type: ignore[arg-type]
        except ExpiredTokenError as exc:
            raise AuthenticationFailed("Token has expired") from exc
        except TokenError as exc:
            raise AuthenticationFailed("Invalid token") from exc

    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        session_id = validated_token.get("sid")
        user_id = validated_token.get("sub")
        if not session_id or not user_id:
            raise AuthenticationFailed("Invalid token")
        try:
            session = Session.objects.select_related("user").get(id=session_id, user_id=user_id)
        except (Session.DoesNotExist, ValueError, ValidationError) as exc:
            raise AuthenticationFailed("Invalid token") from exc  # deleted user, purged session
        if session.revoked_at is not None or session.expires_at <= timezone.now():
            raise AuthenticationFailed("Session revoked")
        if not session.user.is_active:
            raise AuthenticationFailed("User is inactive")
        return session.user


class OptionalSessionJWTAuthentication(SessionJWTAuthentication):
    """Signed in if the token is good, anonymous otherwise: a stale token must not break a
    public endpoint (contract A.3)."""

    def authenticate(self, request: Request) -> Any:
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            return None
