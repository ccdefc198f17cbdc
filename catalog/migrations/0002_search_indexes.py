"""PostgreSQL-only search support: pg_trgm and the two GIN indexes behind anime_search.

The full-text index is built from the same ``SearchVector`` expression the selector queries,
so the planner can use it. On SQLite (embedded mode) these operations do nothing: search there
falls back to a substring match.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import TrigramExtension
from django.contrib.postgres.search import SearchVector
from django.db import migrations

FTS_INDEX = "anime_search_fts"
TRGM_INDEX = "anime_search_trgm"


def _indexes():
    return [
        GinIndex(SearchVector("search_document", config="simple"), name=FTS_INDEX),
        GinIndex(fields=["search_document"], name=TRGM_INDEX, opclasses=["gin_trgm_ops"]),
    ]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    anime = apps.get_model("catalog", "Anime")
    for index in _indexes():
        schema_editor.add_index(anime, index)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    anime = apps.get_model("catalog", "Anime")
    for index in _indexes():
        schema_editor.remove_index(anime, index)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
