from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.models import Session, User
from library.api.notification_serializers import (
    NotificationSettingsInput,
    NotificationSettingsOutput,
)


class CredentialsInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


def _validated_password(password: str, email: str | None = None) -> str:
    try:
        validate_password(password, user=User(email=email or ""))
    except DjangoValidationError as exc:
        raise serializers.ValidationError(list(exc.messages)) from exc
    return password


class RegisterInput(CredentialsInput):
    password = serializers.CharField(min_length=8, max_length=128, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            _validated_password(attrs["password"], attrs["email"])
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"password": exc.detail}) from exc
        return attrs


class RefreshInput(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=512)


class LogoutInput(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=512, required=False, allow_blank=True)


class PasswordChangeInput(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(min_length=8, max_length=128, trim_whitespace=False)

    def validate_new_password(self, value: str) -> str:
        return _validated_password(value, self.context.get("email"))


class ProfileInput(serializers.Serializer):
    """A partial update: the fields sent are changed, the others kept."""

    avatar = serializers.URLField(max_length=500, allow_blank=True, allow_null=True, required=False)
    # The library app's follow settings (issue 13), shown and edited with the profile.
    notifications = NotificationSettingsInput(required=False)


class TokenPairOutput(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField(default="bearer")


class MeOutput(serializers.Serializer):
    id = serializers.UUIDField(source="user.id")
    email = serializers.EmailField(source="user.email")
    is_active = serializers.BooleanField(source="user.is_active")
    avatar = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="user.created_at")
    role = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField())
    notifications = NotificationSettingsOutput(help_text="new-episode notification settings")

    def get_avatar(self, profile: dict[str, Any]) -> str | None:
        return profile["user"].avatar or None


class SessionOutput(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = [
            "id",
            "created_at",
            "last_used_at",
            "expires_at",
            "ip_address",
            "user_agent",
            "current",
        ]

    def get_current(self, session: Session) -> bool:
        return str(session.id) == self.context.get("current_session")


class AdminUserOutput(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "is_active", "is_staff", "created_at", "roles"]

    def get_roles(self, user: User) -> list[str]:
        return sorted(group.name for group in user.groups.all())
