"""No stale or ambiguous player links: an episode sync makes an anime's Kodik sources what
Kodik lists now, demo data is the demo provider's own, and server names stay unique."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import call_command

from catalog.demo import DEMO_CATALOG_PATH
from catalog.models import Anime, Episode, PlaybackSource, Translation
from library.models import WatchProgress
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FRIEREN = 52991  # Kodik (the fake) has AniLibria.TV (610), AniDUB (609), Субтитры (869)


def sync(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def takedown(upstream: Any, **spec: Any) -> None:
    httpx.post(
        f"{upstream.base_url}/_control/kodik", json={"shikimori_id": FRIEREN, **spec}
    ).raise_for_status()


def kodik_sources(anime: Anime) -> set[tuple[int, str, str]]:
    return set(
        PlaybackSource.objects.filter(
            episode__release__anime=anime, translation__provider=Translation.Provider.KODIK
        ).values_list("episode__number", "translation__external_id", "url")
    )


def listed_by_kodik(upstream: Any) -> set[tuple[int, str, str]]:
    """What the fake Kodik lists for Frieren now, read from its own /search answer."""
    answer = httpx.get(
        f"{upstream.base_url}/search",
        params={
            "token": upstream.kodik_token,
            "shikimori_id": FRIEREN,
            "with_episodes_data": "true",
        },
    ).json()
    return {
        (int(number), str(result["translation"]["id"]), "https:" + episode["link"])
        for result in answer["results"]
        for season in result["seasons"].values()
        for number, episode in season["episodes"].items()
    }


def servers(api: Any, episode: Episode) -> dict[str, list[dict[str, Any]]]:
    response = api.get("/api/episode/servers", {"animeEpisodeId": str(episode.pk)})
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    return {c: data[c] for c in ("sub", "dub", "raw")}


@pytest.fixture
def frieren(upstream: Any, tmp_path: Path) -> Anime:
    """Frieren from the demo catalog (published, demo translations), then synced from Kodik."""
    data = json.loads(DEMO_CATALOG_PATH.read_text())
    data["anime"] = [a for a in data["anime"] if a["shikimori_id"] == FRIEREN]
    (tmp_path / "demo.json").write_text(json.dumps(data))
    sync("load_demo_catalog", "--path", str(tmp_path / "demo.json"))
    anime = Anime.objects.get(shikimori_id=FRIEREN)
    assert anime.state == Anime.State.PUBLISHED
    sync("sync_episodes", "--anime", str(FRIEREN))
    return anime


def test_demo_translations_are_the_demo_providers_not_kodiks(frieren):
    demo = Translation.objects.filter(sources__episode__release__anime=frieren).distinct()
    providers = {t.provider for t in demo}
    assert providers == {Translation.Provider.DEMO, Translation.Provider.KODIK}
    assert not Translation.objects.filter(
        provider=Translation.Provider.KODIK, external_id__startswith="demo"
    ).exists()
    assert not Translation.objects.filter(
        provider=Translation.Provider.DEMO, external_id__regex=r"^\d+$"
    ).exists()  # no demo id poses as a Kodik translation id


def test_sync_retires_what_kodik_stopped_listing_and_keeps_the_rest(upstream, frieren):
    assert kodik_sources(frieren) == listed_by_kodik(upstream)
    user = UserFactory()
    progress = WatchProgress.objects.create(
        user=user, anime=frieren, episode=28, position_seconds=600, progress_percent=40
    )
    demo_before = set(
        PlaybackSource.objects.filter(
            episode__release__anime=frieren, translation__provider=Translation.Provider.DEMO
        ).values_list("pk", "url")
    )
    episodes_before = set(Episode.objects.filter(release__anime=frieren).values_list("pk"))
    # AniDUB is taken down; AniLibria.TV loses the link of its last episode.
    takedown(upstream, remove_translations=[609], season_episodes={"610": [27]})

    assert "updated 1" in sync("sync_episodes", "--anime", str(FRIEREN))
    now_listed = listed_by_kodik(upstream)
    assert {t for _, t, _ in now_listed} == {"610", "869"}
    assert kodik_sources(frieren) == now_listed  # equal, not a superset
    assert (28, "610") not in {(n, t) for n, t, _ in kodik_sources(frieren)}
    # Other providers' sources, episodes and user data are untouched.
    assert (
        set(
            PlaybackSource.objects.filter(
                episode__release__anime=frieren, translation__provider=Translation.Provider.DEMO
            ).values_list("pk", "url")
        )
        == demo_before
    )
    assert set(Episode.objects.filter(release__anime=frieren).values_list("pk")) == episodes_before
    progress.refresh_from_db()
    assert (progress.episode, progress.position_seconds) == (28, 600)

    # A re-run over unchanged data writes nothing.
    stamps = dict(
        PlaybackSource.objects.filter(episode__release__anime=frieren).values_list(
            "pk", "updated_at"
        )
    )
    assert "created 0, updated 0, unchanged 1" in sync("sync_episodes", "--anime", str(FRIEREN))
    assert (
        dict(
            PlaybackSource.objects.filter(episode__release__anime=frieren).values_list(
                "pk", "updated_at"
            )
        )
        == stamps
    )


def test_a_retired_link_is_no_longer_served(api, upstream, frieren):
    last = Episode.objects.get(release__anime=frieren, release__ordering=1, number=28)
    names = [s["serverName"] for c in servers(api, last).values() for s in c]
    takedown(upstream, remove_translations=[609], season_episodes={"610": [27]})
    sync("sync_episodes", "--anime", str(FRIEREN))
    after = servers(api, last)
    urls = []
    for category in after.values():
        for server in category:
            response = api.get(
                "/api/episode/sources",
                {"animeEpisodeId": str(last.pk), "server": server["serverName"]},
            )
            assert response.status_code == 200, response.content
            urls.append(response.json()["data"]["sources"][0]["url"])
    assert len(names) > len(urls)
    assert not any("kodikplayer.com" in url and "/seria/529911" in url for url in urls)
    assert all(
        url.startswith(("https://player.kitsu-demo.invalid", "https://kodikplayer.com"))
        for url in urls
    )


def test_server_names_are_unique_and_stable_when_translations_share_a_name(api, frieren):
    first, last = (
        Episode.objects.filter(release__anime=frieren).order_by("release__ordering", "number")[i]
        for i in (0, 27)
    )
    data = servers(api, first)
    names = [s["serverName"] for c in data.values() for s in c]
    assert len(names) == len(set(names)), names
    # Demo and Kodik both have an "AniLibria.TV" voice-over: Kodik's keeps the plain name.
    kodik_anilibria = Translation.objects.get(provider="kodik", external_id="610")
    by_id = {s["serverId"]: s["serverName"] for s in data["dub"]}
    assert by_id[kodik_anilibria.pk] == "AniLibria.TV"
    assert "AniLibria.TV (2)" in by_id.values()
    # The same names for every episode, and every name picks its own translation's link.
    assert servers(api, last) == data
    urls = set()
    for name in names:
        response = api.get(
            "/api/episode/sources", {"animeEpisodeId": str(first.pk), "server": name}
        )
        assert response.status_code == 200
        urls.add(response.json()["data"]["sources"][0]["url"])
    assert len(urls) == len(names)
