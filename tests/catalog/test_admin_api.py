"""/api/admin/anime (contract B.5.1): transitions, locks (423), deleted (410), audit, RBAC."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from catalog.models import Anime
from tests.conftest import role_client
from tests.factories import AnimeFactory, EpisodeFactory, PlaybackSourceFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def complete_anime(**fields) -> Anime:
    anime = AnimeFactory(description="A story.", poster_url="https://img.example/p.jpg", **fields)
    PlaybackSourceFactory(episode=EpisodeFactory(release=ReleaseFactory(anime=anime)))
    return anime


def patch(client, anime, body):
    return client.patch(f"/api/admin/anime/{anime.pk}", body, format="json")


ALLOWED = [
    ("draft", "pending"),
    ("draft", "broken"),
    ("draft", "archived"),
    ("pending", "published"),
    ("pending", "draft"),
    ("pending", "broken"),
    ("pending", "archived"),
    ("published", "archived"),
    ("published", "broken"),
    ("broken", "draft"),
    ("broken", "pending"),
    ("broken", "archived"),
    ("archived", "draft"),
]
STATES = ["draft", "pending", "published", "broken", "archived"]


@pytest.mark.parametrize(("source", "target"), [(a, b) for a in STATES for b in STATES if a != b])
def test_every_transition_allowed_or_refused(source, target):
    editor = role_client("super_admin")[1]
    anime = complete_anime(state=source)
    response = patch(editor, anime, {"state": target, "reason": "review"})
    if (source, target) in ALLOWED:
        assert response.status_code == 200, response.json()
        assert response.json()["anime"]["state"] == target
    else:
        assert response.status_code == 400
        assert "transition" in response.json()["error"]["details"]
        anime.refresh_from_db()
        assert anime.state == source


def test_publishing_needs_video_and_problems_break_a_published_anime():
    editor = role_client("editor")[1]
    bare = AnimeFactory(state="pending", description="x", poster_url="https://img.example/p.jpg")
    refused = patch(editor, bare, {"state": "published"})
    assert refused.status_code == 400
    assert "video" in refused.json()["error"]["details"]
    published = complete_anime(state="published")
    response = patch(editor, published, {"description": "", "reason": "cleanup"})
    body = response.json()
    assert body["anime"]["state"] == "broken"
    assert body["warnings"]
    assert "Missing description" in body["warnings"][0]
    assert body["anime"]["errors"] == ["Missing description"]


def test_update_is_audited_atomically_with_before_and_after():
    editor = role_client("editor")[1]
    anime = complete_anime(state="draft", title="Old")
    response = patch(editor, anime, {"title": "New", "title_ru": "Новое", "reason": "typo"})
    body = response.json()
    entry = AuditEntry.objects.get(pk=body["audit_log_id"])
    assert (entry.action, entry.entity_id, entry.reason) == ("anime.update", str(anime.pk), "typo")
    assert entry.before["title"] == "Old"
    assert entry.after["title"] == "New"
    assert entry.actor.groups.filter(name="editor").exists()
    anime.refresh_from_db()
    assert (anime.title, anime.source) == ("New", "manual")
    assert anime.updated_by_id == entry.actor_id
    # A refused change writes neither the change nor an audit entry.
    assert patch(editor, anime, {"state": "published"}).status_code == 400
    assert AuditEntry.objects.count() == 1


def test_locked_record_or_fields_are_423_except_for_unlockers():
    anime = complete_anime(state="draft")
    anime.locked_fields = ["description"]
    anime.save()
    editor = role_client("editor")[1]
    assert patch(editor, anime, {"description": "x"}).status_code == 423
    assert patch(editor, anime, {"title": "Fine"}).status_code == 200
    anime.is_locked = True
    anime.save()
    assert patch(editor, anime, {"title": "Nope"}).status_code == 423
    assert patch(role_client("super_admin")[1], anime, {"title": "Override"}).status_code == 200


def test_deleted_is_410_and_other_errors():
    editor = role_client("editor")[1]
    gone = complete_anime(deleted_at=timezone.now())
    assert patch(editor, gone, {"title": "x"}).status_code == 410
    assert patch(editor, complete_anime(), {}).json()["error"]["details"] == "No fields to update"
    assert (
        editor.patch(f"/api/admin/anime/{uuid.uuid4()}", {"title": "x"}, format="json").status_code
        == 404
    )
    assert patch(editor, complete_anime(), {"state": "flying"}).status_code == 422


def test_list_shape_filters_sorting_and_deleted_rows():
    viewer = role_client("support")[1]
    video = complete_anime(state="published", title="B")
    AnimeFactory(state="draft", title="A")
    complete_anime(state="draft", title="C", deleted_at=timezone.now())
    body = viewer.get("/api/admin/anime?sort_by=title&sort_order=asc").json()
    assert body["total"] == 2
    assert [i["title"] for i in body["items"]] == ["A", "B"]
    item = body["items"][1]
    assert item["id"] == str(video.pk)
    assert item["has_video"] is True
    assert item["errors_count"] == 0
    assert {"state", "source", "is_locked", "locked_fields", "poster_url"} <= item.keys()
    assert viewer.get("/api/admin/anime?state=draft").json()["total"] == 1
    assert viewer.get("/api/admin/anime?has_video=true").json()["total"] == 1
    assert viewer.get("/api/admin/anime?state=bogus").status_code == 400
    assert viewer.get("/api/admin/anime?sort_by=score").status_code == 400
    detail = viewer.get(f"/api/admin/anime/{video.pk}").json()
    assert detail["is_deleted"] is False
    assert detail["errors"] == []


def test_list_query_count_is_constant(django_assert_num_queries):
    viewer = role_client("support")[1]
    for _ in range(3):
        complete_anime()

    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert viewer.get("/api/admin/anime?limit=100").status_code == 200
        return len(captured)

    three = queries()
    for _ in range(27):
        complete_anime()
    assert queries() == three


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        (None, 401, 401),
        ("user", 403, 403),  # a plain user never reads drafts or deleted rows
        ("support", 200, 403),
        ("editor", 200, 200),
        ("moderator", 200, 200),
        ("admin", 200, 200),
        ("super_admin", 200, 200),
    ],
)
def test_permission_matrix(role, read, write):
    client = role_client(role)[1]
    anime = complete_anime(state="draft")
    assert client.get("/api/admin/anime").status_code == read
    assert client.get(f"/api/admin/anime/{anime.pk}").status_code == read
    assert patch(client, anime, {"title": "x"}).status_code == write


def test_a_failing_audit_write_rolls_the_change_back(monkeypatch):
    editor = role_client("editor")[1]
    anime = complete_anime(state="draft", title="Before")

    def broken_audit(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr("catalog.services.audit_record", broken_audit)
    response = patch(editor, anime, {"title": "After"})
    assert response.status_code == 500
    anime.refresh_from_db()
    assert anime.title == "Before"
