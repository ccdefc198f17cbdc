from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(**kwargs: Any) -> None:
    """Keep role groups in step with accounts.rbac after every ``migrate``.

    Model permissions of apps migrated after this one do not exist yet when our own
    post_migrate signal fires, so create them first (both steps are idempotent).
    """
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes

    from accounts.rbac import sync_roles

    using = kwargs.get("using", "default")
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0, using=using)
        create_permissions(app_config, verbosity=0, using=using)
    sync_roles()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import schema  # noqa: F401  (registers the OpenAPI auth extension)

        post_migrate.connect(
            _sync_roles_after_migrate, sender=self, dispatch_uid="accounts-sync-roles"
        )
