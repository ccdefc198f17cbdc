"""Project-wide invariants: migrations in step with models, user data never cascades."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from catalog.models import Anime


@pytest.mark.django_db
def test_models_and_migrations_are_in_step():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def _relations_reaching_anime() -> list[models.ForeignKey]:
    """Every FK whose deletion chain can start at an Anime row (Anime, Release, Episode...)."""
    reached: set[type[models.Model]] = {Anime}
    found: list[models.ForeignKey] = []
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            for field in model._meta.get_fields():
                if isinstance(field, models.ForeignKey) and field.related_model in reached:
                    if field not in found:
                        found.append(field)
                    if field.remote_field.on_delete is models.CASCADE and model not in reached:
                        reached.add(model)
                        changed = True
    return found


def test_no_cascade_from_anime_into_user_data():
    """Audit finding 9: deleting catalog rows must never delete users' favorites or progress.

    Any model outside the catalog app (library, accounts, ...) that points at a catalog row
    reachable from Anime must not use CASCADE.
    """
    relations = _relations_reaching_anime()
    assert relations, "the walk must at least see Release.anime"
    offenders = [
        f"{field.model._meta.label}.{field.name}"
        for field in relations
        if field.model._meta.app_label != "catalog"
        and field.remote_field.on_delete is models.CASCADE
    ]
    assert offenders == []


@pytest.mark.django_db
def test_openapi_schema_is_valid_and_warning_free(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
    assert "/auth/login" in (tmp_path / "s.yaml").read_text()
