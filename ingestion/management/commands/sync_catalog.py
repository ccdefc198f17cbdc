from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import CommandError, CommandParser

from ingestion.management.commands._sync import SyncCommand
from ingestion.models import SyncRun


class Command(SyncCommand):
    help = "Sync the catalog from Shikimori (all pages by default)."
    kind = SyncRun.Kind.CATALOG

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--pages", type=int, help="how many list pages (50 anime each)")
        parser.add_argument("--start-page", type=int, default=1)
        parser.add_argument("--ids", help="comma-separated Shikimori ids (details refetched)")
        parser.add_argument("--since", help="YYYY-MM-DD: anime that started airing since then")
        parser.add_argument("--status", choices=["anons", "ongoing", "released"])

    def handle(self, *args: Any, **opts: Any) -> None:
        options: dict[str, Any] = {"start_page": opts["start_page"]}
        if opts["pages"] is not None:
            if opts["pages"] < 1:
                raise CommandError("--pages must be at least 1")
            options["pages"] = opts["pages"]
        if opts["ids"]:
            try:
                options["ids"] = [int(i) for i in opts["ids"].split(",") if i.strip()]
            except ValueError as exc:
                raise CommandError("--ids takes comma-separated numbers") from exc
        if opts["since"]:
            try:
                options["since"] = date.fromisoformat(opts["since"]).isoformat()
            except ValueError as exc:
                raise CommandError("--since takes a date: YYYY-MM-DD") from exc
        if opts["status"]:
            options["status"] = opts["status"]
        target = "ids" if opts["ids"] else "all"
        self.run_sync(target=target, options=options, dry_run=opts["dry_run"], queue=opts["queue"])
