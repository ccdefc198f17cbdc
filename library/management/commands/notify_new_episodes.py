from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from library.notifications import new_episodes_notify, notifications_purge


class Command(BaseCommand):
    help = (
        "Notify followers of newly playable episodes (the job qcluster runs after each "
        "episode/calendar sync and on a schedule); --purge also deletes expired notifications."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--purge",
            action="store_true",
            help="also delete notifications older than NOTIFICATIONS_RETENTION_DAYS",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = new_episodes_notify()
        self.stdout.write(self.style.SUCCESS(f"New episodes: {report}."))
        if options["purge"]:
            self.stdout.write(f"Purged {notifications_purge()} expired notifications.")
