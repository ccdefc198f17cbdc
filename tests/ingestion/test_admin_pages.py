"""Ingestion pages of the Django admin: runs and logs, settings, mode, emergency stop, run now."""

from __future__ import annotations

import pytest
from django.test import Client
from django_q.models import OrmQ

from accounts.models import AuditEntry
from ingestion.models import ParserSettings, SyncLogLine, SyncRun
from tests.conftest import staff_browser

pytestmark = pytest.mark.django_db


def browser(role: str) -> Client:
    return staff_browser(role)[1]


def act(client: Client, action: str):
    row = ParserSettings.load()
    return client.post(
        "/admin/ingestion/parsersettings/",
        {"action": action, "_selected_action": [str(row.pk)]},
        follow=True,
    )


def test_operator_buttons_go_through_audited_services(django_capture_on_commit_callbacks):
    admin = browser("admin")
    assert admin.get("/admin/ingestion/parsersettings/").status_code == 200
    act(admin, "switch_to_auto")
    assert ParserSettings.objects.get().mode == "auto"
    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin, "run_calendar_now")
    assert "Queued" in str(next(iter(response.context["messages"])))
    run = SyncRun.objects.get()
    assert (run.kind, run.trigger, run.status) == ("calendar", "admin", "queued")
    assert OrmQ.objects.count() == 1
    act(admin, "emergency_stop_action")
    run.refresh_from_db()
    assert ParserSettings.objects.get().mode == "manual"
    assert run.status == SyncRun.Status.STOPPED
    actions = list(AuditEntry.objects.order_by("created_at").values_list("action", flat=True))
    assert actions == ["parser.mode_change", "parser.emergency_stop"]


# Real transactions: the settings service is a durable action, which a TestCase's wrapping
# transaction would not check (the admin's own atomic around the form would break it).
@pytest.mark.django_db(transaction=True)
def test_settings_form_saves_through_the_service():
    admin = browser("admin")
    row = ParserSettings.load()
    page = admin.get(f"/admin/ingestion/parsersettings/{row.pk}/change/")
    assert page.status_code == 200
    data = {
        "enable_autoupdate": "on",
        "update_interval_minutes": "5",
        "dry_run_default": "",
        "allowed_translation_types": '["voice"]',
        "allowed_translations": "[]",
        "allowed_qualities": "[]",
        "preferred_translation_priority": "[]",
        "preferred_quality_priority": "[]",
        "blacklist_titles": '["Boruto"]',
        "blacklist_external_ids": "[]",
    }
    response = admin.post(f"/admin/ingestion/parsersettings/{row.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    row.refresh_from_db()
    assert (row.enable_autoupdate, row.update_interval_minutes) == (True, 30)  # clamped
    assert row.blacklist_titles == ["Boruto"]
    assert AuditEntry.objects.get().action == "parser_settings.update"


def test_runs_and_logs_are_readable_and_support_cannot_operate():
    run = SyncRun.objects.create(kind="catalog", source="shikimori", trigger="admin")
    SyncLogLine.objects.create(run=run, level="error", message="page 3: shikimori 503")
    support = browser("support")
    assert support.get("/admin/ingestion/syncrun/").status_code == 200
    page = support.get(f"/admin/ingestion/syncrun/{run.pk}/change/")
    assert b"page 3: shikimori 503" in page.content
    assert support.get("/admin/accounts/auditentry/").status_code == 200
    settings_page = support.get(
        f"/admin/ingestion/parsersettings/{ParserSettings.load().pk}/change/"
    )
    assert b'name="_save"' not in settings_page.content
    act(support, "switch_to_auto")
    assert ParserSettings.objects.get().mode == "manual"
    editor = browser("editor")
    assert editor.get("/admin/ingestion/parsersettings/").status_code == 403
