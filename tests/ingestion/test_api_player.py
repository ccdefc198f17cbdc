"""GET /api/episode/servers and /api/episode/sources from Kitsu's own data (+ stream)."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Anime, Episode, Translation
from tests.factories import (
    AnimeFactory,
    EpisodeFactory,
    PlaybackSourceFactory,
    ReleaseFactory,
    TranslationFactory,
)
from tests.ingestion.conftest import fault, reset

pytestmark = pytest.mark.django_db


def servers(api, episode_id) -> dict:
    response = api.get("/api/episode/servers", {"animeEpisodeId": str(episode_id)})
    assert response.status_code == 200, response.content
    return response.json()["data"]


@pytest.fixture
def episode_with_kodik():
    anime = AnimeFactory(mal_id=52991)
    release = ReleaseFactory(anime=anime)
    first, second = (
        EpisodeFactory(release=release, number=1),
        EpisodeFactory(release=release, number=2),
    )
    voice = TranslationFactory(name="AniLibria.TV", kind=Translation.Kind.VOICE)
    subs = TranslationFactory(name="Crunchyroll", kind=Translation.Kind.SUBTITLES)
    same_name_subs = TranslationFactory(name="AniLibria.TV", kind=Translation.Kind.SUBTITLES)
    for episode in (first, second):
        for translation in (voice, subs, same_name_subs):
            PlaybackSourceFactory(
                episode=episode,
                translation=translation,
                url=f"https://kodikplayer.com/seria/{episode.number}/{translation.pk}/720p",
            )
    return first, second


def test_kodik_translations_are_servers_with_unique_stable_names(api, episode_with_kodik):
    first, second = episode_with_kodik
    data = servers(api, first.pk)
    assert data["episodeId"] == str(first.pk)
    assert data["episodeNo"] == "1"
    names = [s["serverName"] for c in ("sub", "dub", "raw") for s in data[c]]
    assert sorted(names) == ["AniLibria.TV (dub)", "AniLibria.TV (sub)", "Crunchyroll"]
    assert len(set(names)) == len(names)
    assert [s["serverName"] for s in data["dub"]] == ["AniLibria.TV (dub)"]
    again = servers(api, second.pk)
    assert {c: [s["serverName"] for s in again[c]] for c in ("sub", "dub", "raw")} == {
        c: [s["serverName"] for s in data[c]] for c in ("sub", "dub", "raw")
    }


def test_sources_give_the_kodik_iframe(api, episode_with_kodik):
    first, _ = episode_with_kodik
    response = api.get(
        "/api/episode/sources",
        {"animeEpisodeId": str(first.pk), "server": "Crunchyroll", "category": "sub"},
    )
    data = response.json()["data"]
    assert data["sources"][0]["type"] == "iframe"
    assert "/seria/1/" in data["sources"][0]["url"]
    assert data["malID"] == 52991
    fallback = api.get("/api/episode/sources", {"animeEpisodeId": str(first.pk), "category": "dub"})
    assert fallback.json()["data"]["sources"][0]["url"].startswith("https://kodikplayer.com/")


def test_unknown_episode_and_bad_parameters(api, episode_with_kodik):
    for value in (str(uuid.uuid4()), "steinsgate-3?ep=213"):
        response = api.get("/api/episode/servers", {"animeEpisodeId": value})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"
    for path in ("/api/episode/servers", "/api/episode/sources"):
        for params in ({}, {"animeEpisodeId": ""}):
            missing = api.get(path, params)
            assert missing.status_code == 400, (path, params)
            assert "'animeEpisodeId'" in missing.json()["error"]["details"]
    first, _ = episode_with_kodik
    bad = api.get("/api/episode/sources", {"animeEpisodeId": str(first.pk), "category": "xx"})
    assert bad.status_code == 400
    hidden = Episode.objects.get(pk=first.pk).release.anime
    Anime.objects.filter(pk=hidden.pk).update(state="draft")
    assert api.get("/api/episode/servers", {"animeEpisodeId": str(first.pk)}).status_code == 404


def _synced_mapped_anime(upstream) -> Episode:
    """An anime that Kodik and the stream provider both carry, synced, mapped, published."""
    fake = next(a for a in upstream.catalog.ordered() if a.stream is not None and a.kodik)
    call_command("sync_catalog", "--ids", str(fake.id), stdout=StringIO())
    call_command("sync_episodes", "--anime", str(fake.id), stdout=StringIO())
    anime = Anime.objects.get(shikimori_id=fake.id)
    anime.stream_id = fake.stream.slug
    anime.state = Anime.State.PUBLISHED
    anime.save()
    return (
        Episode.objects.filter(release__anime=anime).order_by("release__ordering", "number").first()
    )


def test_stream_servers_and_hls_sources_when_configured_and_mapped(api, upstream):
    episode = _synced_mapped_anime(upstream)
    data = servers(api, episode.pk)
    stream_names = [s["serverName"] for s in data["sub"] if s["serverName"].endswith("(sub)")]
    assert stream_names, data
    response = api.get(
        "/api/episode/sources",
        {"animeEpisodeId": str(episode.pk), "server": stream_names[0], "category": "sub"},
    )
    assert response.status_code == 200, response.content
    sources = response.json()["data"]
    assert sources["sources"][0]["type"] == "hls"
    assert sources["sources"][0]["url"].endswith(".m3u8")
    assert sources["intro"]["end"] >= sources["intro"]["start"]


def test_stream_failures_are_502_or_504_never_passed_through(api, upstream, settings):
    episode = _synced_mapped_anime(upstream)
    stream_name = next(
        s["serverName"]
        for s in servers(api, episode.pk)["sub"]
        if s["serverName"].endswith("(sub)")
    )
    params = {"animeEpisodeId": str(episode.pk), "server": stream_name, "category": "sub"}
    fault(upstream, path_prefix="/api/v2/hianime/episode/sources", mode="503", count=5)
    failed = api.get("/api/episode/sources", params)
    assert failed.status_code == 502
    assert failed.json()["error"]["code"] == "INTERNAL_ERROR"
    assert "stream" in failed.json()["error"]["details"]
    reset(upstream)
    settings.UPSTREAM_TIMEOUT = 0.3
    fault(upstream, path_prefix="/api/v2/hianime/episode/sources", mode="slow", seconds=2, count=5)
    assert api.get("/api/episode/sources", params).status_code == 504
    # The Kodik servers are local: a dead stream provider only costs its own servers.
    reset(upstream)
    fault(upstream, path_prefix="/api/v2/hianime", mode="500", count=10)
    degraded = servers(api, episode.pk)
    assert all(
        not s["serverName"].endswith(("(sub)", "(dub)", "(raw)")) or "AniLibria" in s["serverName"]
        for c in ("sub", "dub", "raw")
        for s in degraded[c]
    )
