from __future__ import annotations

from typing import Any

from ingestion.management.commands._sync import SyncCommand
from ingestion.models import SyncRun


class Command(SyncCommand):
    help = "Sync the airing calendar from Shikimori (times stored in UTC)."
    kind = SyncRun.Kind.CALENDAR

    def handle(self, *args: Any, **opts: Any) -> None:
        self.run_sync(target="all", options={}, dry_run=opts["dry_run"], queue=opts["queue"])
