from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tests.conftest import staff_browser
from tests.factories import (
    AnimeFactory,
    EpisodeFactory,
    GenreFactory,
    PlaybackSourceFactory,
    ReleaseFactory,
    StudioFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="admin@example.com", password="pw"))
    return client


def test_outsider_has_no_admin_access():
    client = Client()
    client.force_login(User.objects.create_user(email="user@example.com", password="pw"))
    response = client.get("/admin/catalog/anime/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_changelist_search_finds_any_title_variant(admin_client):
    frieren = AnimeFactory(
        title="Frieren: Beyond Journey's End", title_ru="Провожающая в последний путь Фрирен"
    )
    AnimeFactory(title="Naruto")
    for term in ("Фрирен", "frieren", "ПОСЛЕДНИЙ ПУТЬ"):
        response = admin_client.get("/admin/catalog/anime/", {"q": term})
        assert response.status_code == 200
        shown = list(response.context["cl"].result_list)
        assert shown == [frieren], term


def test_changelist_filters(admin_client):
    draft = AnimeFactory(state="draft", kind="movie")
    AnimeFactory(state="published", kind="tv")
    response = admin_client.get("/admin/catalog/anime/", {"state__exact": "draft"})
    assert list(response.context["cl"].result_list) == [draft]
    response = admin_client.get("/admin/catalog/anime/", {"kind__exact": "movie"})
    assert list(response.context["cl"].result_list) == [draft]


def _changelist_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url", ["/admin/catalog/anime/", "/admin/catalog/release/", "/admin/catalog/episode/"]
)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, url):
    def add_rows(count: int) -> None:
        for _ in range(count):
            EpisodeFactory(release=ReleaseFactory(anime=AnimeFactory()))

    add_rows(3)
    with_three = _changelist_queries(admin_client, url)
    add_rows(27)
    assert _changelist_queries(admin_client, url) == with_three


def test_change_pages_render_with_inlines(admin_client):
    anime = AnimeFactory(genres=[GenreFactory()], studios=[StudioFactory()])
    release = ReleaseFactory(anime=anime, title="Season one")
    episode = EpisodeFactory(release=release, number=1)
    PlaybackSourceFactory(episode=episode)
    page = admin_client.get(f"/admin/catalog/anime/{anime.pk}/change/")
    assert page.status_code == 200
    assert b"Season one" in page.content
    assert admin_client.get(f"/admin/catalog/release/{release.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/catalog/episode/{episode.pk}/change/").status_code == 200


def test_saving_in_the_admin_updates_what_search_finds(admin_client, api):
    anime = _complete(title="Old title")  # stays published: no problems
    data = _anime_form(
        {
            "title": "Mushishi",
            "title_ru": "Мастер Муси",
            "description": "Story",
            "poster_url": "https://img.example/p.jpg",
            "score": "8.6",
            "episodes_total": "26",
            "episodes_aired": "26",
            "state": "published",
            "source": "manual",
        }
    )
    response = admin_client.post(f"/admin/catalog/anime/{anime.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    found = api.get("/search/anime", {"q": "мастер муси"}).json()
    assert [item["id"] for item in found] == [str(anime.pk)]
    assert api.get("/search/anime", {"q": "old title"}).json() == []


def test_sync_episodes_action_queues_a_durable_job(
    admin_client, django_capture_on_commit_callbacks
):
    from django_q.models import OrmQ

    from ingestion.models import SyncRun

    synced, manual = AnimeFactory(), AnimeFactory(shikimori_id=None)
    with django_capture_on_commit_callbacks(execute=True):  # the job is queued on commit
        response = admin_client.post(
            "/admin/catalog/anime/",
            {"action": "sync_episodes_now", "_selected_action": [str(synced.pk), str(manual.pk)]},
            follow=True,
        )
    assert response.status_code == 200
    run = SyncRun.objects.get()
    assert (run.kind, run.trigger, run.status, run.target) == (
        "episodes",
        "admin",
        "queued",
        str(synced.pk),
    )
    assert b"Queued" in response.content
    # The job is a row in PostgreSQL: it waits for qcluster and survives any web restart.
    assert OrmQ.objects.count() == 1


def _changelist_ids(client: Client, **params: str) -> set:
    response = client.get("/admin/catalog/anime/", params)
    assert response.status_code == 200
    return {anime.pk for anime in response.context["cl"].result_list}


def _anime_form(fields: dict[str, str]) -> dict[str, str]:
    """POST data of the anime change form: ``fields`` plus the required rest, no releases."""
    return {
        "synonyms": "[]",
        "kind": "tv",
        "status": "released",
        "rating": "pg_13",
        **fields,
        "releases-TOTAL_FORMS": "0",
        "releases-INITIAL_FORMS": "0",
        "releases-MIN_NUM_FORMS": "0",
        "releases-MAX_NUM_FORMS": "1000",
    }


def _complete(**fields) -> object:
    anime = AnimeFactory(description="Story", poster_url="https://img.example/p.jpg", **fields)
    PlaybackSourceFactory(episode=EpisodeFactory(release=ReleaseFactory(anime=anime)))
    return anime


def test_editorial_filters(admin_client):
    from django.utils import timezone

    good = _complete()
    no_video = AnimeFactory(description="Story", poster_url="https://img.example/p.jpg")
    locked = _complete(locked_fields=["title"])
    deleted = _complete(deleted_at=timezone.now())
    assert _changelist_ids(admin_client, has_video="no") == {no_video.pk}
    assert _changelist_ids(admin_client, has_problems="yes") == {no_video.pk}
    assert good.pk in _changelist_ids(admin_client, has_problems="no")
    assert _changelist_ids(admin_client, locked="yes") == {locked.pk}
    assert _changelist_ids(admin_client, deleted="yes") == {deleted.pk}


def _act(client: Client, action: str, *anime) -> object:
    return client.post(
        "/admin/catalog/anime/",
        {"action": action, "_selected_action": [str(a.pk) for a in anime]},
        follow=True,
    )


def test_bulk_publish_unpublish_archive_go_through_the_workflow(admin_client):
    from accounts.models import AuditEntry

    ready, bare = _complete(state="pending"), AnimeFactory(state="pending")
    response = _act(admin_client, "publish", ready, bare)
    messages = [str(m) for m in response.context["messages"]]
    assert "Published: 1 anime" in messages
    assert any("Not published" in m and "video" in m for m in messages)
    ready.refresh_from_db()
    bare.refresh_from_db()
    assert (ready.state, bare.state) == ("published", "pending")
    _act(admin_client, "unpublish", ready)
    ready.refresh_from_db()
    assert ready.state == "draft"
    _act(admin_client, "archive", ready)
    ready.refresh_from_db()
    assert ready.state == "archived"
    actions = AuditEntry.objects.filter(entity_id=str(ready.pk)).values_list("action", flat=True)
    assert list(actions) == ["anime.update"] * 4  # publish, archive+draft, archive


def test_bulk_lock_and_unlock_need_their_permissions(admin_client):
    anime = _complete()
    _act(admin_client, "lock_records", anime)
    anime.refresh_from_db()
    assert anime.is_locked
    _, client = staff_browser("editor")
    page = client.get("/admin/catalog/anime/")
    choices = [value for value, _ in page.context["action_form"].fields["action"].choices]
    assert "publish" in choices
    assert "unlock_records" not in choices  # editors hold neither anime.lock nor anime.unlock
    _act(client, "unlock_records", anime)
    anime.refresh_from_db()
    assert anime.is_locked
    _act(admin_client, "unlock_records", anime)
    anime.refresh_from_db()
    assert not anime.is_locked


def test_change_page_transitions_locks_and_history(admin_client):
    from accounts.models import AuditEntry

    anime = _complete(state="pending", title_ru="Провожающая")
    page = admin_client.get(f"/admin/catalog/anime/{anime.pk}/change/")
    assert b'id="transition-published"' in page.content
    assert b'id="audit-history"' in page.content
    admin_client.post(f"/admin/catalog/anime/{anime.pk}/transition/published/", {"reason": "ok"})
    anime.refresh_from_db()
    assert anime.state == "published"
    refused = admin_client.post(f"/admin/catalog/anime/{anime.pk}/transition/pending/", follow=True)
    assert any("transition" in str(m) for m in refused.context["messages"])
    admin_client.post(
        f"/admin/catalog/anime/{anime.pk}/lock/", {"fields": ["description"], "reason": "final"}
    )
    anime.refresh_from_db()
    assert anime.locked_fields == ["description"]
    assert anime.locked_reason == "final"
    history = admin_client.get(f"/admin/catalog/anime/{anime.pk}/change/").content.decode()
    assert "anime.lock" in history
    assert "final" in history
    assert list(
        AuditEntry.objects.filter(entity_id=str(anime.pk)).values_list("action", flat=True)
    ) == ["anime.lock", "anime.update"]
    admin_client.post(f"/admin/catalog/anime/{anime.pk}/unlock/")
    anime.refresh_from_db()
    assert anime.locked_fields == []
    assert (
        admin_client.get(f"/admin/catalog/anime/{anime.pk}/transition/archived/").status_code == 403
    )


def test_an_admin_save_of_a_published_anime_without_video_ends_broken_with_a_warning(
    admin_client,
):
    """The Django admin's form save follows the editorial rule the admin API follows."""
    from accounts.models import AuditEntry

    # Complete but for video: no episode has a player source.
    anime = AnimeFactory(
        state="published", description="Story", poster_url="https://img.example/p.jpg"
    )
    data = _anime_form(
        {
            "title": "Edited in the admin",
            "description": "Story",
            "poster_url": "https://img.example/p.jpg",
            "score": "8.0",
            "episodes_total": "1",
            "episodes_aired": "1",
            "source": "manual",
        }
    )
    response = admin_client.post(f"/admin/catalog/anime/{anime.pk}/change/", data, follow=True)
    assert response.status_code == 200
    anime.refresh_from_db()
    assert anime.title == "Edited in the admin"
    assert anime.state == "broken"
    shown = [str(message) for message in response.context["messages"]]
    assert any("State set to broken" in text and "video" in text for text in shown), shown
    entry = AuditEntry.objects.get(entity_id=str(anime.pk))
    assert (entry.before["state"], entry.after["state"]) == ("published", "broken")


def test_locked_fields_are_read_only_for_editors_and_saves_are_audited():
    from accounts.models import AuditEntry

    editor, client = staff_browser("editor")
    anime = _complete(state="draft", locked_fields=["description"])
    page = client.get(f"/admin/catalog/anime/{anime.pk}/change/")
    form_fields = page.context["adminform"].form.fields
    assert "description" not in form_fields
    assert "title" in form_fields
    assert b'id="lock-form"' in page.content  # editors protect fields...
    assert b'id="lock-record"' not in page.content  # ...but cannot lock records (no anime.lock)
    data = _anime_form(
        {
            "title": "Edited by editor",
            "score": "8.0",
            "episodes_total": "1",
            "episodes_aired": "1",
            "source": "manual",
            "description": "sneaky change",
        }
    )
    response = client.post(f"/admin/catalog/anime/{anime.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    anime.refresh_from_db()
    assert anime.title == "Edited by editor"
    assert anime.description == "Story"  # the locked field did not change
    entry = AuditEntry.objects.get(entity_id=str(anime.pk))
    assert (entry.action, entry.actor_id) == ("anime.update", editor.pk)
    assert entry.before["title"] != entry.after["title"]
    # Editors lock fields, not whole records.
    assert client.post(f"/admin/catalog/anime/{anime.pk}/lock/").status_code == 403
    client.post(f"/admin/catalog/anime/{anime.pk}/lock/", {"fields": ["title"], "reason": "mine"})
    anime.refresh_from_db()
    assert anime.locked_fields == ["description", "title"]


def test_support_is_read_only_in_the_admin():
    _, client = staff_browser("support")
    anime = _complete()
    assert client.get("/admin/catalog/anime/").status_code == 200
    page = client.get(f"/admin/catalog/anime/{anime.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(f"/admin/catalog/anime/{anime.pk}/transition/archived/").status_code == 403


def test_soft_delete_and_restore_keep_user_data_and_hard_delete_is_gone(admin_client):
    from library.models import Favorite

    anime = _complete(state="published")
    fan = User.objects.create_user(email="fan@example.com", password="pw")
    Favorite.objects.create(user=fan, anime=anime)
    page = admin_client.get("/admin/catalog/anime/")
    choices = [value for value, _ in page.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in choices
    assert admin_client.get(f"/admin/catalog/anime/{anime.pk}/delete/").status_code == 403
    _act(admin_client, "soft_delete", anime)
    anime.refresh_from_db()
    assert anime.deleted_at is not None
    assert Favorite.objects.filter(anime=anime).exists()
    _act(admin_client, "restore", anime)
    anime.refresh_from_db()
    assert anime.deleted_at is None


def test_long_releases_link_to_their_episodes_instead_of_inlining_them(admin_client):
    from catalog.models import Episode

    long_release = ReleaseFactory()
    Episode.objects.bulk_create(Episode(release=long_release, number=n) for n in range(1, 151))
    page = admin_client.get(f"/admin/catalog/release/{long_release.pk}/change/")
    assert page.status_code == 200
    assert b"150 episodes" in page.content
    assert not page.context["inline_admin_formsets"]
    listing = admin_client.get(f"/admin/catalog/episode/?release__id__exact={long_release.pk}")
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 150


def test_roles_assigned_in_the_admin_open_the_admin(admin_client):
    from django.contrib.auth.models import Group

    person = User.objects.create_user(email="new-editor@example.com", password="pw")
    editor_group = Group.objects.get(name="editor")
    page = admin_client.get(f"/admin/accounts/user/{person.pk}/change/")
    form = page.context["adminform"].form
    data = {
        "email": person.email,
        "avatar": "",
        "is_active": "on",
        "groups": [editor_group.pk],
        "sessions-TOTAL_FORMS": "0",
        "sessions-INITIAL_FORMS": "0",
        "sessions-MIN_NUM_FORMS": "0",
        "sessions-MAX_NUM_FORMS": "1000",
    }
    assert "groups" in form.fields
    response = admin_client.post(f"/admin/accounts/user/{person.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    person.refresh_from_db()
    assert person.is_staff
