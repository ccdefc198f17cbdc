from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedules(**kwargs: Any) -> None:
    from ingestion.schedules import schedules_ensure

    schedules_ensure()


class IngestionConfig(AppConfig):
    name = "ingestion"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        # After every migrate (and test flush): the schedules match the code. Never at web
        # start-up: creating schedules is not a web worker's business (audit finding 1.2).
        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="ingestion-schedules")
