from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Create a superuser without prompts (deployments, the demo). Idempotent: an existing "
        "user is left alone unless --reset-password is given. The password comes from "
        "--password or the KITSU_ADMIN_PASSWORD environment variable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", default=None)
        parser.add_argument("--reset-password", action="store_true")

    def handle(
        self, *args: Any, email: str, password: str | None, reset_password: bool, **options: Any
    ) -> None:
        password = password or os.environ.get("KITSU_ADMIN_PASSWORD")
        if not password:
            raise CommandError("Give --password or set KITSU_ADMIN_PASSWORD")
        if settings.PRODUCTION and len(password) < 12:
            raise CommandError("Use a password of at least 12 characters in production")
        users = get_user_model().objects
        user = users.filter(email__iexact=email).first()
        if user is None:
            users.create_superuser(email=email, password=password)
            self.stdout.write(self.style.SUCCESS(f"Created admin {email.lower()}"))
        elif reset_password:
            user.set_password(password)
            user.save(update_fields=["password"])
            self.stdout.write(self.style.SUCCESS(f"Password of {user.email} reset"))
        else:
            self.stdout.write(f"Admin {user.email} exists; left unchanged")
