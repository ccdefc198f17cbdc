"""Shared by the sync commands: one code path with the scheduled task (run_create +
run_execute), a progress line on a terminal, a summary, and a non-zero exit on failure."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ingestion.models import SyncRun
from ingestion.runs import run_create, run_enqueue
from ingestion.services import run_execute


class SyncCommand(BaseCommand):
    kind: str = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="fetch and compare, write nothing"
        )
        parser.add_argument(
            "--queue", action="store_true", help="enqueue for qcluster instead of running here"
        )

    def run_sync(self, *, target: str, options: dict[str, Any], dry_run: bool, queue: bool) -> None:
        spec: dict[str, Any] = {
            "kind": self.kind,
            "trigger": SyncRun.Trigger.COMMAND,
            "target": target,
            "options": options,
            "dry_run": dry_run,
        }
        if queue:
            run = run_enqueue(**spec)
            self.stdout.write(f"Queued sync run #{run.pk}; follow it with `ingestion_status`.")
            return
        run = run_create(**spec)
        interactive = self.stdout.isatty()

        def progress(current: SyncRun) -> None:
            if interactive:
                self.stdout.write(
                    f"\r{self.kind} #{current.pk}: {current.pages} pages | created "
                    f"{current.created} updated {current.updated} unchanged {current.unchanged} "
                    f"failed {current.failed}",
                    ending="",
                )
                self.stdout.flush()

        run = run_execute(run.pk, progress=progress)
        if interactive:
            self.stdout.write("")
        summary = (
            f"{self.kind} sync #{run.pk} {run.status}{' (dry run)' if run.dry_run else ''}: "
            f"created {run.created}, updated {run.updated}, unchanged {run.unchanged}, "
            f"failed {run.failed}, pages {run.pages}"
        )
        if run.status == SyncRun.Status.SUCCEEDED:
            self.stdout.write(self.style.SUCCESS(summary))
            return
        raise CommandError(f"{summary}. {run.error_summary}".strip())
