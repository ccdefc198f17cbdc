from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.models import User

PASSWORD = "correct horse battery"


def register(api: APIClient, email: str = "ann@example.com", password: str = PASSWORD) -> Any:
    return api.post("/auth/register", {"email": email, "password": password}, format="json")


def login(
    api: APIClient, email: str = "ann@example.com", password: str = PASSWORD, **extra: Any
) -> Any:
    return api.post("/auth/login", {"email": email, "password": password}, format="json", **extra)


def bearer(access_token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}


@pytest.fixture
def make_user(db):
    def make(email: str = "ann@example.com", role: str | None = "user", **fields: Any) -> User:
        user = User.objects.create_user(email=email, password=PASSWORD, **fields)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def tokens(api, make_user) -> dict[str, str]:
    make_user()
    response = login(api)
    assert response.status_code == 200
    return response.json()
