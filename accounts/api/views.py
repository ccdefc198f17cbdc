"""Auth and account endpoints (contract A.2-A.6, B.1). Thin: validate, one service, respond."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.serializers import (
    AdminUserOutput,
    CredentialsInput,
    LogoutInput,
    MeOutput,
    PasswordChangeInput,
    ProfileInput,
    RefreshInput,
    RegisterInput,
    SessionOutput,
    TokenPairOutput,
)
from accounts.authentication import signed_in_user
from accounts.models import User
from accounts.permissions import require
from accounts.ratelimits import login_limits, refresh_limit, register_limit
from kitsu.api import PublicAPIView, error_response, parse_uuid, validated
from kitsu.errors import NotFound
from kitsu.pagination import paginate
from library import notification_selectors, notifications


def _tokens(pair: services.TokenPair, status_code: int = 200) -> Response:
    body = {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "bearer",
    }
    return Response(body, status=status_code)


class RegisterView(PublicAPIView):
    rate_limited = True  # documents 429 (kitsu.api.KitsuAutoSchema)

    @extend_schema(request=RegisterInput, responses={201: TokenPairOutput})
    def post(self, request: Request) -> Response:
        register_limit(request).hit(request)
        data = validated(RegisterInput, request)
        pair = services.user_register(
            email=data["email"], password=data["password"], client=services.ClientInfo.of(request)
        )
        return _tokens(pair, status.HTTP_201_CREATED)


class LoginView(PublicAPIView):
    rate_limited = True

    @extend_schema(
        request=CredentialsInput, responses={200: TokenPairOutput, 401: error_response(401)}
    )
    def post(self, request: Request) -> Response:
        data = validated(CredentialsInput, request)
        per_ip, per_account = login_limits(request, data["email"])
        per_ip.hit(request)
        per_account.hit(request)
        pair = services.user_login(request=request, email=data["email"], password=data["password"])
        per_account.refund()  # the limit counts failures only
        return _tokens(pair)


class RefreshView(PublicAPIView):
    rate_limited = True

    @extend_schema(
        request=RefreshInput,
        # 403: a revoked session, or a reused refresh token (which revokes it).
        responses={200: TokenPairOutput, 401: error_response(401), 403: error_response(403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(RefreshInput, request)
        limit = refresh_limit(request)
        limit.hit(request)
        pair = services.session_refresh(
            refresh_token=data["refresh_token"], client=services.ClientInfo.of(request)
        )
        limit.refund()  # only bad tokens count
        return _tokens(pair)


class LogoutView(PublicAPIView):
    """Always 204: the frontend ignores the answer and clears its store (contract B.1.4)."""

    @extend_schema(request=LogoutInput, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = LogoutInput(data=request.data)
        if serializer.is_valid() and serializer.validated_data.get("refresh_token"):
            services.session_logout(refresh_token=serializer.validated_data["refresh_token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def _current_session(request: Request) -> str | None:
    token: Any = request.auth
    return str(token["sid"]) if token is not None else None


def _me(request: Request, user: User) -> Response:
    profile = selectors.user_profile(user)
    # The library app's notification settings (issue 13) travel with the profile.
    profile["notifications"] = notification_selectors.notification_settings_get(user=user)
    return Response(MeOutput(profile, context={"request": request}).data)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeOutput)
    def get(self, request: Request) -> Response:
        return _me(request, signed_in_user(request))

    @extend_schema(request=ProfileInput, responses=MeOutput)
    def patch(self, request: Request) -> Response:
        data = validated(ProfileInput, request)
        user = signed_in_user(request)
        if "avatar" in data:
            user = services.user_update(user=user, avatar=data["avatar"] or "")
        if "notifications" in data:
            notifications.notification_settings_update(
                user=user, follow_mode=data["notifications"]["follow_mode"]
            )
        return _me(request, user)


class PasswordView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=PasswordChangeInput, responses={204: None})
    def post(self, request: Request) -> Response:
        data = validated(PasswordChangeInput, request, email=signed_in_user(request).email)
        current = _current_session(request)
        services.password_change(
            user=signed_in_user(request),
            current_password=data["current_password"],
            new_password=data["new_password"],
            current_session=uuid.UUID(current) if current else None,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SessionOutput(many=True))
    def get(self, request: Request) -> Response:
        sessions = selectors.user_sessions(signed_in_user(request))
        context = {"current_session": _current_session(request)}
        return Response(SessionOutput(sessions, many=True, context=context).data)

    @extend_schema(
        responses={204: None},
        description="Log out everywhere (every session).",
        operation_id="users_me_sessions_revoke_all",
    )
    def delete(self, request: Request) -> Response:
        services.sessions_revoke(user=signed_in_user(request), reason="logout everywhere")
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request: Request, session_id: str) -> Response:
        revoked = services.sessions_revoke(
            user=signed_in_user(request),
            reason="revoked by user",
            session_id=parse_uuid(session_id, name="session_id"),
        )
        if not revoked and not signed_in_user(request).sessions.filter(id=session_id).exists():
            raise NotFound("Session not found")
        return Response(status=status.HTTP_204_NO_CONTENT)


class AdminUserListView(APIView):
    permission_classes = [require("admin.users.view")]

    @extend_schema(responses=AdminUserOutput(many=True))
    def get(self, request: Request) -> Response:
        page = paginate(request, selectors.user_list(), cursor_ordering=("-created_at", "-id"))
        return Response(AdminUserOutput(page.items, many=True).data, headers=page.headers)
