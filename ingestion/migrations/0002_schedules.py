"""Formerly created the ingestion schedules by importing live code.

Schedules have one owner now: ``ingestion.schedules.schedules_ensure``, run after every
``migrate`` (post_migrate) and by ``manage.py ensure_schedules``. Kept, empty, so the
migration graph stays the same for databases that applied it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ingestion", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations: list = []
