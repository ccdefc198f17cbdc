"""Create the ingestion schedules (catalog daily, calendar hourly, episode autoupdate)."""

from django.db import migrations


def create(apps, schema_editor):
    from ingestion.schedules import schedules_ensure

    schedules_ensure(apps.get_model("django_q", "Schedule"), interval=60)


def drop(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__startswith="ingestion.").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ingestion", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, drop)]
