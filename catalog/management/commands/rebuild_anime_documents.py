"""Build every missing or cleared anime document now (catalog.documents), e.g. after a large
import; otherwise reads and the after-commit batch rebuild them as they are needed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from catalog import documents


class Command(BaseCommand):
    help = "Rebuild the stored card/detail JSON of every public anime whose document is stale."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        rebuilt = documents.rebuild_all(batch_size=max(1, batch_size))
        self.stdout.write(f"{rebuilt} anime documents rebuilt")
