from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django_q.models import OrmQ, Schedule

from ingestion.models import ParserSettings, SyncRun


class Command(BaseCommand):
    help = "Parser mode, schedules, queued jobs and the latest sync runs (read from the database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--runs", type=int, default=10)
        parser.add_argument("--log", type=int, metavar="RUN_ID", help="print the log of one run")

    def handle(self, *args: Any, runs: int, log: int | None, **options: Any) -> None:
        if log is not None:
            run = SyncRun.objects.filter(pk=log).first()
            if run is None:
                self.stderr.write(f"No run #{log}")
                return
            for line in reversed(run.log_lines.all()[:500]):
                self.stdout.write(
                    f"{line.created_at:%Y-%m-%d %H:%M:%S} {line.level:7} {line.message}"
                )
            return
        settings_row = ParserSettings.load()
        self.stdout.write(
            f"Mode: {settings_row.mode}; autoupdate: "
            f"{'on' if settings_row.enable_autoupdate else 'off'} every "
            f"{settings_row.update_interval_minutes} min; dry run by default: "
            f"{settings_row.dry_run_default}"
        )
        if settings_row.emergency_stopped_at:
            self.stdout.write(
                f"Emergency stop at {settings_row.emergency_stopped_at:%Y-%m-%d %H:%M}"
            )
        self.stdout.write(f"Queued jobs: {OrmQ.objects.count()}")
        self.stdout.write("Schedules:")
        for schedule in Schedule.objects.order_by("name"):
            self.stdout.write(
                f"  {schedule.name:32} next run {schedule.next_run:%Y-%m-%d %H:%M} UTC"
            )
        self.stdout.write(f"Latest {runs} runs:")
        for run in SyncRun.objects.order_by("-created_at")[:runs]:
            self.stdout.write(
                f"  #{run.pk:<5} {run.kind:9} {run.status:9} {run.trigger:8} "
                f"{run.created_at:%Y-%m-%d %H:%M} +{run.created} ~{run.updated} "
                f"={run.unchanged} !{run.failed} {run.error_summary[:60]}"
            )
