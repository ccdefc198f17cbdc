from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import CommandError, CommandParser

from catalog.models import Anime
from ingestion.management.commands._sync import SyncCommand
from ingestion.models import SyncRun


class Command(SyncCommand):
    help = "Sync episodes and player links from Kodik (all anime, --ongoing, or --anime)."
    kind = SyncRun.Kind.EPISODES

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--anime", help="comma-separated Kitsu anime UUIDs or Shikimori ids")
        group.add_argument("--ongoing", action="store_true", help="only ongoing anime")
        group.add_argument(
            "--recent", action="store_true", help="what Kodik updated since the last run (/list)"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        target = "ongoing" if opts["ongoing"] else "recent" if opts["recent"] else "all"
        if opts["anime"]:
            ids = []
            for item in (part.strip() for part in opts["anime"].split(",") if part.strip()):
                lookup = {"shikimori_id": int(item)} if item.isdigit() else {"pk": _uuid(item)}
                anime = Anime.objects.filter(**lookup).values_list("pk", flat=True).first()
                if anime is None:
                    raise CommandError(f"No anime {item}")
                ids.append(str(anime))
            target = ",".join(ids)
        self.run_sync(target=target, options={}, dry_run=opts["dry_run"], queue=opts["queue"])


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is neither a UUID nor a Shikimori id") from exc
