"""Ingestion state in PostgreSQL: parser settings (one row), sync runs and their log lines.

Everything an operator needs to see about syncs lives in these tables, so any process (web
worker, qcluster worker, the admin) reads the same truth (audit finding 1.1).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


def _both_translation_types() -> list[str]:
    return ["voice", "subtitles"]


class ParserSettings(models.Model):
    """Contract B.7. A single row (pk=1), created lazily by ``ParserSettings.load``."""

    class Mode(models.TextChoices):
        MANUAL = "manual", "Manual: syncs run only when started by hand"
        AUTO = "auto", "Auto: scheduled syncs run"

    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.MANUAL)
    stage_only = models.BooleanField(default=True)
    autopublish_enabled = models.BooleanField(default=False)
    enable_autoupdate = models.BooleanField(default=False)
    update_interval_minutes = models.PositiveIntegerField(default=60)
    dry_run_default = models.BooleanField(default=False)
    allowed_translation_types = models.JSONField(default=_both_translation_types)
    allowed_translations = models.JSONField(default=list, blank=True)
    allowed_qualities = models.JSONField(default=list, blank=True)
    preferred_translation_priority = models.JSONField(default=list, blank=True)
    preferred_quality_priority = models.JSONField(default=list, blank=True)
    blacklist_titles = models.JSONField(default=list, blank=True)
    blacklist_external_ids = models.JSONField(default=list, blank=True)
    emergency_stopped_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "parser settings"

    def __str__(self) -> str:
        return f"Parser settings ({self.mode})"

    @classmethod
    def load(cls) -> ParserSettings:
        """The settings row, created with the defaults on first use."""
        row, _ = cls.objects.get_or_create(pk=1)
        return row


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        CATALOG = "catalog", "Catalog (Shikimori)"
        CALENDAR = "calendar", "Airing calendar (Shikimori)"
        EPISODES = "episodes", "Episodes (Kodik)"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        COMMAND = "command", "Management command"
        ADMIN = "admin", "Admin"
        API = "api", "Admin API"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        STOPPED = "stopped", "Stopped"
        SKIPPED = "skipped", "Skipped"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.CharField(max_length=16)  # shikimori | kodik
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    target = models.CharField(max_length=200, default="all", help_text="all, ongoing, ids...")
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    dry_run = models.BooleanField(default=False)
    stop_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    error_summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="syncrun_status_recent"),
            models.Index(fields=["kind", "-created_at"], name="syncrun_kind_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} sync #{self.pk} ({self.status})"

    @property
    def changes(self) -> int:
        return self.created + self.updated

    FINAL = (Status.SUCCEEDED, Status.FAILED, Status.STOPPED, Status.SKIPPED)
    _COUNTERS = ("created", "updated", "unchanged", "failed", "pages")

    def start(self) -> None:
        """Running from now, counters from zero (a redelivered run starts over)."""
        self.status = self.Status.RUNNING
        self.started_at = timezone.now()
        for name in self._COUNTERS:
            setattr(self, name, 0)
        self.save(update_fields=["status", "started_at", *self._COUNTERS])

    def finish(self, status: str, summary: str = "") -> None:
        """Record the outcome with the counters the run reached."""
        self.status = status
        self.finished_at = timezone.now()
        self.error_summary = summary
        self.save(update_fields=["status", "finished_at", "error_summary", *self._COUNTERS])


class SyncLogLine(models.Model):
    class Level(models.TextChoices):
        DEBUG = "debug", "Debug"
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="log_lines")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO)
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"[{self.level}] {self.message[:80]}"
