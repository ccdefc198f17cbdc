"""``manage.py import_legacy --source postgres://...``: the cut-over import (docs/cutover.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ingestion.legacy.importer import PARTS, import_legacy


class Command(BaseCommand):
    help = (
        "Import the old FastAPI backend's database (read-only) into Kitsu: users, roles, "
        "anime, releases, episodes, favorites, watch progress, refresh tokens, parser "
        "settings, audit log. Idempotent; --dry-run writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            default="",
            help="the old database's URL (default: the LEGACY_DATABASE_URL setting)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would change, write nothing"
        )
        parser.add_argument(
            "--only",
            default=",".join(PARTS),
            help=f"comma-separated subset of: {', '.join(PARTS)}",
        )
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--report", default="", help="also write the report as JSON here")

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["source"] or settings.LEGACY_DATABASE_URL
        if not url:
            raise CommandError("Give --source postgres://... or set LEGACY_DATABASE_URL")
        parts = [p.strip() for p in options["only"].split(",") if p.strip()]
        unknown = sorted(set(parts) - set(PARTS))
        if unknown or not parts:
            raise CommandError(f"--only takes {', '.join(PARTS)}; got {', '.join(unknown)}")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        interactive = self.stdout.isatty()

        def progress(table: str, done: int, total: int) -> None:
            if interactive:
                width = 30
                filled = width * done // total if total else width
                bar = "#" * filled + "." * (width - filled)
                self.stdout.write(f"\r{table:<16}[{bar}] {done}/{total}", ending="")
                if done >= total:
                    self.stdout.write("")
                self.stdout.flush()

        try:
            report = import_legacy(
                url=url,
                parts=parts,
                dry_run=options["dry_run"],
                batch_size=options["batch_size"],
                progress=progress,
            )
        except psycopg.Error as exc:  # the old database (Kitsu's errors come wrapped by Django)
            raise CommandError(f"Reading the old database failed: {exc}") from exc
        if options["dry_run"]:
            self.stdout.write(self.style.WARNING("Dry run: nothing was written."))
        for line in report.lines():
            self.stdout.write(line)
        if options["report"]:
            Path(options["report"]).write_text(json.dumps(report.as_dict(), indent=2))
