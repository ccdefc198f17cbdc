from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.rbac import ROLES
from accounts.services import role_grant, role_revoke


class Command(BaseCommand):
    help = "Grant a role to a user (or take it away with --revoke)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("role", choices=sorted(ROLES))
        parser.add_argument("--revoke", action="store_true", help="take the role away instead")

    def handle(self, *args: Any, email: str, role: str, revoke: bool, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with e-mail {email}")
        (role_revoke if revoke else role_grant)(user=user, role=role)
        roles = ", ".join(sorted(user.groups.values_list("name", flat=True))) or "none"
        verb = "Revoked" if revoke else "Granted"
        self.stdout.write(self.style.SUCCESS(f"{verb} {role} for {user.email}; roles: {roles}"))
