"""/api/admin/parser/* (contract B.5.2): shapes, RBAC per role, audit entries."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry
from ingestion.models import ParserSettings, SyncLogLine, SyncRun
from tests.conftest import role_client

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/admin/parser/dashboard", None),
    ("get", "/api/admin/parser/settings", None),
    ("post", "/api/admin/parser/settings", {"enable_autoupdate": True}),
    ("post", "/api/admin/parser/mode", {"mode": "auto", "reason": "go"}),
    ("post", "/api/admin/parser/emergency-stop", {"reason": "stop"}),
    ("get", "/api/admin/parser/logs", None),
]
# role -> expected status per endpoint above (B.6 B: admin lacks admin.parser.emergency).
MATRIX = {
    None: (401,) * 6,
    "user": (403,) * 6,
    "editor": (403,) * 6,
    "moderator": (403,) * 6,
    "support": (403,) * 6,
    "admin": (200, 200, 200, 200, 403, 200),
    "super_admin": (200,) * 6,
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_permission_matrix(role):
    client = role_client(role)[1]
    observed = tuple(
        getattr(client, method)(path, body, format="json").status_code
        for method, path, body in ENDPOINTS
    )
    assert observed == MATRIX[role]


def test_settings_round_trip_forces_stage_only_and_is_audited():
    client = role_client("super_admin", "super_admin@example.com")[1]
    current = client.get("/api/admin/parser/settings").json()
    assert current["mode"] == "manual"
    assert current["stage_only"] is True
    sent = {
        **current,
        "autopublish_enabled": True,
        "stage_only": False,
        "allowed_translation_types": ["voice"],
        "blacklist_titles": ["Boruto"],
        "update_interval_minutes": 5,
    }
    saved = client.post("/api/admin/parser/settings", sent, format="json").json()
    assert saved["autopublish_enabled"] is False
    assert saved["stage_only"] is True
    assert saved["update_interval_minutes"] == 30
    assert saved["blacklist_titles"] == ["Boruto"]
    entry = AuditEntry.objects.get(action="parser_settings.update")
    assert entry.actor.email == "super_admin@example.com"
    assert entry.before["blacklist_titles"] == []
    assert entry.after["blacklist_titles"] == ["Boruto"]
    assert entry.user_agent == "kitsu-tests"
    assert (
        client.post(
            "/api/admin/parser/settings", {"update_interval_minutes": "soon"}, format="json"
        ).status_code
        == 422
    )


def test_mode_and_emergency_stop():
    client = role_client("super_admin")[1]
    assert client.post(
        "/api/admin/parser/mode", {"mode": "auto", "reason": "night"}, format="json"
    ).json() == {
        "status": "success",
        "mode": "auto",
    }
    assert (
        client.post("/api/admin/parser/mode", {"mode": "turbo"}, format="json").status_code == 422
    )
    running = SyncRun.objects.create(
        kind="catalog", source="shikimori", trigger="admin", status="running"
    )
    assert client.post("/api/admin/parser/emergency-stop", {}, format="json").status_code == 422
    stopped = client.post("/api/admin/parser/emergency-stop", {"reason": "bad data"}, format="json")
    assert stopped.json() == {"status": "stopped", "mode": "manual"}
    assert ParserSettings.objects.get().mode == "manual"
    running.refresh_from_db()
    assert running.stop_requested
    actions = list(AuditEntry.objects.order_by("created_at").values_list("action", "reason"))
    assert actions == [("parser.mode_change", "night"), ("parser.emergency_stop", "bad data")]


def test_dashboard_and_logs():
    client = role_client("super_admin")[1]
    run = SyncRun.objects.create(kind="catalog", source="shikimori", trigger="admin")
    SyncLogLine.objects.create(run=run, level="info", message="page 1")
    SyncLogLine.objects.create(run=run, level="error", message="boom")
    dashboard = client.get("/api/admin/parser/dashboard").json()
    assert dashboard["jobs_last_24h"] == 1
    assert dashboard["errors_count"] == 1
    assert [s["code"] for s in dashboard["sources"]] == ["shikimori", "kodik", "stream"]
    logs = client.get("/api/admin/parser/logs?limit=10").json()
    assert [line["message"] for line in logs] == ["boom", "page 1"]
    assert set(logs[0]) == {"id", "job_id", "level", "message", "created_at"}
    assert [
        line["message"] for line in client.get("/api/admin/parser/logs?level=error").json()
    ] == ["boom"]
    assert client.get("/api/admin/parser/logs?from_date=garbage").status_code == 200
    assert client.get("/api/admin/parser/logs?from_date=2999-01-01T00:00:00").json() == []
    assert client.get("/api/admin/parser/logs?limit=501").status_code == 422


def test_audit_entries_are_append_only():
    role_client("super_admin")[1].post("/api/admin/parser/mode", {"mode": "auto"}, format="json")
    entry = AuditEntry.objects.get()
    entry.reason = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
