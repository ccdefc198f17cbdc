"""Formerly created the session-purge schedule: a second definition of it.

Every schedule is defined once, in ``ingestion.schedules``, and created after every
``migrate``. Kept, empty, so the migration graph stays the same.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_roles"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations: list = []
