"""Player data for an episode: Kodik translations from Kitsu's own rows, plus the stream
provider's servers and HLS sources when it is configured and the anime is mapped.

Server names are the frontend's join key (it remembers the name as the preferred
translation): unique across sub/dub/raw and the same for every episode of an anime, even when
two translations share a name (``translation_server_names``). Kodik servers are named after
their translation; stream servers "<server> (<category>)".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from catalog.models import Episode, PlaybackSource, Translation
from ingestion.http import UpstreamError
from ingestion.records import StreamEpisode, StreamServers
from ingestion.sources import stream_source

logger = logging.getLogger(__name__)

CATEGORIES = ("sub", "dub", "raw")
_CATEGORY_OF_KIND = {
    Translation.Kind.SUBTITLES: "sub",
    Translation.Kind.VOICE: "dub",
    Translation.Kind.RAW: "raw",
}


@dataclass
class Server:
    name: str
    server_id: int
    category: str
    iframe_url: str = ""  # Kodik
    stream_episode_id: str = ""  # stream provider
    stream_server: str = ""


@dataclass
class EpisodeServers:
    episode: Episode
    servers: list[Server] = field(default_factory=list)

    def by_category(self) -> dict[str, list[dict[str, Any]]]:
        lists: dict[str, list[dict[str, Any]]] = {c: [] for c in CATEGORIES}
        for server in self.servers:
            lists[server.category].append({"serverId": server.server_id, "serverName": server.name})
        return lists


def _stream_servers(episode: Episode) -> tuple[StreamEpisode, StreamServers] | None:
    """The stream provider's episode and its servers, or None when the provider is off, the
    anime is not mapped or the provider has no such episode."""
    anime = episode.release.anime
    source = stream_source()
    if source is None or not anime.stream_id:
        return None
    episodes = source.episodes(anime.stream_id)
    found = next((e for e in episodes if e.number == episode.number), None)
    if found is None:
        return None
    return found, source.servers(found.episode_id)


def translation_server_names(anime_id: Any) -> dict[int, str]:
    """Translation pk -> its server name, for every translation with a source in the anime.

    Computed over the whole anime, so every episode names a translation alike:
    * a name two kinds share ("X" voice and "X" subtitles) gets the category: "X (dub)";
    * translations that still share a name (two providers' "AniDUB", two Kodik teams with one
      title) are told apart by order: Kodik's first, then by age (pk), the first keeps the
      name and the others get " (2)", " (3)"..., so adding a translation never renames one
      the frontend already remembers.
    """
    used = list(
        Translation.objects.filter(sources__episode__release__anime=anime_id)
        .distinct()
        .values_list("pk", "name", "kind", "provider")
    )
    kinds_by_name: dict[str, set[str]] = {}
    for _, name, kind, _ in used:
        kinds_by_name.setdefault(name, set()).add(kind)
    groups: dict[str, list[tuple[bool, int]]] = {}
    for pk, name, kind, provider in used:
        if len(kinds_by_name[name]) > 1:
            name = f"{name} ({_CATEGORY_OF_KIND[Translation.Kind(kind)]})"
        groups.setdefault(name, []).append((provider != Translation.Provider.KODIK, pk))
    names: dict[int, str] = {}
    taken = set(groups)
    for name, members in groups.items():
        for index, (_, pk) in enumerate(sorted(members)):
            if index == 0:
                names[pk] = name
                continue
            number = index + 1
            while f"{name} ({number})" in taken:
                number += 1
            names[pk] = f"{name} ({number})"
            taken.add(names[pk])
    return names


def episode_servers(episode: Episode) -> EpisodeServers:
    """Local Kodik servers, and stream servers when available. A failing stream provider
    only costs its own servers when there are local ones; with none, the error propagates."""
    result = EpisodeServers(episode)
    sources = PlaybackSource.objects.filter(episode=episode).select_related("translation")
    names = translation_server_names(episode.release.anime_id)
    for source in sorted(sources, key=lambda s: names[s.translation_id].casefold()):
        translation = source.translation
        result.servers.append(
            Server(
                name=names[translation.pk],
                server_id=translation.pk,
                category=_CATEGORY_OF_KIND[Translation.Kind(translation.kind)],
                iframe_url=source.url,
            )
        )
    try:
        stream = _stream_servers(episode)
        if stream is not None:
            stream_episode, servers = stream
            for category in CATEGORIES:
                for server in getattr(servers, category):
                    result.servers.append(
                        Server(
                            name=f"{server.name} ({category})",
                            server_id=server.server_id,
                            category=category,
                            stream_episode_id=stream_episode.episode_id,
                            stream_server=server.name,
                        )
                    )
    except UpstreamError as exc:
        if not result.servers:
            raise
        logger.warning("stream provider unavailable for episode %s: %s", episode.pk, exc)
    return result


def pick_server(servers: EpisodeServers, *, name: str | None, category: str) -> Server | None:
    """The named server in the category; else the category's first; else the first sub."""
    in_category = [s for s in servers.servers if s.category == category]
    if name:
        named = [s for s in in_category if s.name == name] or [
            s for s in servers.servers if s.name == name
        ]
        if named:
            return named[0]
    if in_category:
        return in_category[0]
    subs = [s for s in servers.servers if s.category == "sub"]
    return subs[0] if subs else None


def server_sources(server: Server, *, category: str, mal_id: int | None) -> dict[str, Any]:
    if server.iframe_url:
        return {
            "headers": {},
            "tracks": [],
            "intro": {"start": 0, "end": 0},
            "outro": {"start": 0, "end": 0},
            "sources": [{"url": server.iframe_url, "type": "iframe"}],
            "anilistID": None,
            "malID": mal_id,
        }
    stream = stream_source()
    if stream is None:
        raise UpstreamError("stream", "the stream provider is not configured")
    data = stream.sources(server.stream_episode_id, server=server.stream_server, category=category)
    return {
        "headers": data.headers,
        "tracks": [
            {"file": s.url, "label": s.lang, "kind": "captions", "default": s.default}
            for s in data.subtitles
        ],
        "intro": {"start": data.intro[0], "end": data.intro[1]},
        "outro": {"start": data.outro[0], "end": data.outro[1]},
        "sources": [{"url": s.url, "type": s.type, "isM3U8": s.is_m3u8} for s in data.sources],
        "anilistID": data.anilist_id,
        "malID": data.mal_id or mal_id,
    }
