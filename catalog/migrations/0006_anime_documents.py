"""The anime read model (catalog.models.AnimeDocument) and the triggers that keep it correct.

Every write that can change what a card or a detail shows clears the affected documents in the
same statement's transaction, whatever issued it (ORM save, ``update()``, ``bulk_create``,
``bulk_update``, m2m ``add``/``remove``, raw SQL, ``TRUNCATE``):

- ``catalog_anime``: insert creates an empty document; update clears it; delete removes it;
- ``catalog_anime_genres`` / ``catalog_anime_studios`` / ``catalog_release``: any row change
  clears the documents of the anime on either side of it;
- ``catalog_genre`` / ``catalog_studio``: update or delete clears the documents of the anime
  linked to them (a rename shows on every card).

PostgreSQL: statement-level triggers with transition tables (one UPDATE per statement, not per
row, so a bulk import of 10,000 rows costs one statement). SQLite (embedded mode): the same
rules as row-level triggers. Existing anime get an empty document, built on first read or by
``manage.py rebuild_anime_documents``.
"""

import django.db.models.deletion
from django.db import migrations, models

DOC = "catalog_animedocument"
CLEAR = f"UPDATE {DOC} SET version = version + 1, card = NULL, detail = NULL"

# table -> (SQL selecting the affected anime ids from a row set named {rows}, events)
LINKED = {
    "catalog_anime_genres": ("SELECT anime_id FROM {rows}", ("INSERT", "UPDATE", "DELETE")),
    "catalog_anime_studios": ("SELECT anime_id FROM {rows}", ("INSERT", "UPDATE", "DELETE")),
    "catalog_release": ("SELECT anime_id FROM {rows}", ("INSERT", "UPDATE", "DELETE")),
    "catalog_genre": (
        "SELECT anime_id FROM catalog_anime_genres WHERE genre_id IN (SELECT id FROM {rows})",
        ("UPDATE", "DELETE"),
    ),
    "catalog_studio": (
        "SELECT anime_id FROM catalog_anime_studios WHERE studio_id IN (SELECT id FROM {rows})",
        ("UPDATE", "DELETE"),
    ),
}
TABLES = ["catalog_anime", *LINKED]


def _pg_function(table: str) -> str:
    if table == "catalog_anime":
        body = f"""
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {DOC} (anime_id, version) SELECT id, 0 FROM new_rows
      ON CONFLICT (anime_id) DO UPDATE SET version = {DOC}.version + 1, card = NULL, detail = NULL;
  ELSIF TG_OP = 'UPDATE' THEN
    {CLEAR} WHERE anime_id IN (SELECT id FROM old_rows UNION SELECT id FROM new_rows);
    INSERT INTO {DOC} (anime_id, version) SELECT id, 0 FROM new_rows ON CONFLICT DO NOTHING;
  ELSIF TG_OP = 'DELETE' THEN
    DELETE FROM {DOC} WHERE anime_id IN (SELECT id FROM old_rows);
  ELSE
    DELETE FROM {DOC};
  END IF;"""
    else:
        select, _ = LINKED[table]
        old, new = select.format(rows="old_rows"), select.format(rows="new_rows")
        body = f"""
  IF TG_OP = 'INSERT' THEN
    {CLEAR} WHERE anime_id IN ({new});
  ELSIF TG_OP = 'UPDATE' THEN
    {CLEAR} WHERE anime_id IN ({old} UNION {new});
  ELSIF TG_OP = 'DELETE' THEN
    {CLEAR} WHERE anime_id IN ({old});
  ELSE
    {CLEAR};
  END IF;"""
    return (
        f"CREATE OR REPLACE FUNCTION {table}_animedoc() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN{body}\n  RETURN NULL;\nEND $$;"
    )


def _pg_statements(table: str) -> list[str]:
    events = ("INSERT", "UPDATE", "DELETE") if table == "catalog_anime" else LINKED[table][1]
    referencing = {
        "INSERT": "REFERENCING NEW TABLE AS new_rows",
        "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "REFERENCING OLD TABLE AS old_rows",
    }
    statements = [_pg_function(table)]
    for event in (*events, "TRUNCATE"):
        statements.append(
            f"CREATE TRIGGER {table}_animedoc_{event.lower()} AFTER {event} ON {table} "
            f"{referencing.get(event, '')} FOR EACH STATEMENT EXECUTE FUNCTION {table}_animedoc()"
        )
    return statements


def _sqlite_statements(table: str) -> list[str]:
    statements = []
    if table == "catalog_anime":
        bodies = {
            "INSERT": f"INSERT OR IGNORE INTO {DOC} (anime_id, version) VALUES (NEW.id, 0); "
            f"{CLEAR} WHERE anime_id = NEW.id AND card IS NOT NULL;",
            "UPDATE": f"{CLEAR} WHERE anime_id IN (OLD.id, NEW.id); "
            f"INSERT OR IGNORE INTO {DOC} (anime_id, version) VALUES (NEW.id, 0);",
            "DELETE": f"DELETE FROM {DOC} WHERE anime_id = OLD.id;",
        }
    else:
        select, events = LINKED[table]
        # Row-level: the row set is the one row, OLD or NEW.
        def ids(ref: str) -> str:
            if select.startswith("SELECT anime_id FROM {rows}"):
                return f"SELECT {ref}.anime_id"
            return select.replace("SELECT id FROM {rows}", f"SELECT {ref}.id")

        bodies = {
            "INSERT": f"{CLEAR} WHERE anime_id IN ({ids('NEW')});",
            "UPDATE": f"{CLEAR} WHERE anime_id IN ({ids('OLD')} UNION {ids('NEW')});",
            "DELETE": f"{CLEAR} WHERE anime_id IN ({ids('OLD')});",
        }
        bodies = {event: body for event, body in bodies.items() if event in events}
    for event, body in bodies.items():
        statements.append(
            f"CREATE TRIGGER {table}_animedoc_{event.lower()} AFTER {event} ON {table} "
            f"FOR EACH ROW BEGIN {body} END"
        )
    return statements


def _trigger_names(table: str) -> list[str]:
    events = ("INSERT", "UPDATE", "DELETE") if table == "catalog_anime" else LINKED[table][1]
    return [f"{table}_animedoc_{event.lower()}" for event in (*events, "TRUNCATE")]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in {"postgresql", "sqlite"}:
        raise RuntimeError(f"anime document triggers: no implementation for {vendor}")
    for table in TABLES:
        statements = _pg_statements(table) if vendor == "postgresql" else _sqlite_statements(table)
        for statement in statements:
            schema_editor.execute(statement)
    schema_editor.execute(f"INSERT INTO {DOC} (anime_id, version) SELECT id, 0 FROM catalog_anime")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        for name in _trigger_names(table):
            on = f" ON {table}" if vendor == "postgresql" else ""
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
        if vendor == "postgresql":
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_animedoc()")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_anime_relation_graph"),
    ]

    operations = [
        migrations.CreateModel(
            name="AnimeDocument",
            fields=[
                (
                    "anime",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="document",
                        serialize=False,
                        to="catalog.anime",
                    ),
                ),
                ("version", models.BigIntegerField(default=0)),
                ("card", models.TextField(null=True)),
                ("detail", models.TextField(null=True)),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("card__isnull", True)),
                        fields=["anime"],
                        name="animedocument_stale",
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
