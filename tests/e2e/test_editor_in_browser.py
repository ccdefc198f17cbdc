"""An editor's day in a real browser (Debian's Chromium driven by Playwright) against a live
Kitsu server: sign in to the admin, find an anime by its Russian title, lock its description,
publish it, and see the audit entries. A screenshot lands in test-artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from accounts.models import AuditEntry, User
from accounts.services import role_grant
from catalog.models import Anime
from tests.factories import AnimeFactory, EpisodeFactory, PlaybackSourceFactory, ReleaseFactory

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "editor-password-1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("production_hashers"),
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium (the test command installs it)"
    ),
]


def test_editor_locks_and_publishes_an_anime_found_by_its_russian_title(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    editor = User.objects.create_user(email="editor@example.com", password=PASSWORD)
    role_grant(user=editor, role="editor")
    anime = AnimeFactory(
        title="Frieren: Beyond Journey's End",
        title_ru="Провожающая в последний путь Фрирен",
        description="A mage outlives her party.",
        poster_url="https://img.example/f.jpg",
        state="draft",
    )
    PlaybackSourceFactory(episode=EpisodeFactory(release=ReleaseFactory(anime=anime)))
    AnimeFactory(title="Naruto", title_ru="Наруто", state="draft")
    ARTIFACTS.mkdir(exist_ok=True)
    # Playwright's sync API runs an event loop in this thread; the ORM calls below happen
    # while it is idle.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:

            def submit(action) -> None:
                # Every step is a full page load: wait for it, never for a selector that the
                # previous page may already have.
                with page.expect_navigation():
                    action()

            page.goto(f"{live_server.url}/admin/login/")
            page.fill("#id_username", "editor@example.com")
            page.fill("#id_password", PASSWORD)
            submit(lambda: page.click("input[type=submit]"))
            assert page.url == f"{live_server.url}/admin/"

            page.goto(f"{live_server.url}/admin/catalog/anime/")
            page.fill("#searchbar", "Фрирен")
            submit(lambda: page.press("#searchbar", "Enter"))
            results = page.locator("#result_list tbody tr")
            assert results.count() == 1
            submit(lambda: results.first.locator("th a").click())

            page.check("#lock-form input[value=description]")
            page.fill("#lock-reason", "final copy")
            submit(lambda: page.click("#lock-submit"))
            assert "Locked description" in page.inner_text("ul.messagelist")

            submit(lambda: page.click("#transition-pending"))
            assert page.inner_text("#anime-state") == "pending"
            submit(lambda: page.click("#transition-published"))
            assert page.inner_text("#anime-state") == "published"
            history = page.inner_text("#audit-history")
            assert "anime.lock" in history
            assert "anime.update" in history
            assert "final copy" in history
            page.screenshot(path=str(ARTIFACTS / "editor-locks-and-publishes.png"), full_page=True)
        finally:
            browser.close()

    anime.refresh_from_db()
    assert anime.state == Anime.State.PUBLISHED
    assert anime.locked_fields == ["description"]
    actions = list(
        AuditEntry.objects.filter(entity_id=str(anime.pk)).values_list("action", "actor")
    )
    assert actions == [("anime.update", editor.pk)] * 2 + [("anime.lock", editor.pk)]
