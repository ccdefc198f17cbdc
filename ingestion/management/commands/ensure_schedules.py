from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ingestion.schedules import schedules_ensure


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules of ingestion (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = schedules_ensure()
        self.stdout.write(self.style.SUCCESS(f"Schedules in place ({created} created)."))
