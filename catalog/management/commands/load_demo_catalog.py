from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.demo import DEMO_CATALOG_PATH, demo_catalog_load


class Command(BaseCommand):
    help = "Load the demo catalog shipped in catalog/demo/ (idempotent: safe to run again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", type=Path, default=DEMO_CATALOG_PATH)

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        if not path.is_file():
            raise CommandError(f"No demo catalog at {path}")
        started = time.perf_counter()
        try:
            report = demo_catalog_load(path=path)
        except (KeyError, ValueError) as exc:
            raise CommandError(f"{path} is not a valid demo catalog: {exc!r}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalog loaded in {time.perf_counter() - started:.1f}s: "
                f"anime {report.anime_created} created, {report.anime_updated} updated, "
                f"{report.anime_unchanged} unchanged; {report.episodes} episodes, "
                f"{report.sources} playback sources, {report.airing_slots} airing slots"
            )
        )
