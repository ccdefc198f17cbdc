"""Create the roles of contract B.6 B as groups (kept in sync afterwards by post_migrate)."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from accounts.rbac import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_sessions_and_rbac"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
