"""Formerly created the roles by importing live code (accounts.rbac).

Roles are synced from ``accounts.rbac`` after every ``migrate`` (post_migrate, see
accounts.apps). Kept, empty, so the migration graph stays the same.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_sessions_and_rbac"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations: list = []
