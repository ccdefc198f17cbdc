"""The fake upstream HTTP server: Shikimori, Kodik and aniwatch-api on one 127.0.0.1 port.

URL layout (``base`` = ``http://127.0.0.1:<port>``; configure the clients with):

* Shikimori client base: ``base`` (the site root; the client appends ``/api/animes`` etc. and
  prefixes the site-relative image paths with it). Endpoints: ``GET /api/animes``,
  ``/api/animes/{id}`` (+ ``/related``, ``/screenshots``), ``/api/calendar``, ``/api/genres``,
  and ``POST /api/graphql`` (the ``animes`` query: fake_upstream/shikimori_graphql.py).
  Every ``/api/...`` call needs a non-empty ``User-Agent`` (403 otherwise).
* Kodik client base: ``base`` (the client appends ``/search``, ``/list``, ``/translations``).
  GET or POST; parameters from the query string and/or an urlencoded form body; ``token`` must
  equal ``FakeUpstream.kodik_token`` (default ``fake-kodik-token``).
* aniwatch-api client base: ``base + "/api/v2/hianime"``; ``/health`` answers ``daijoubu``
  both there and at the root.

Control API (never logged, never faulted), JSON bodies:

* ``POST /_control/faults`` ``{"path_prefix": "/api/animes", "mode": "429", "count": 1,
  "seconds": 1}`` makes the next ``count`` requests whose path starts with ``path_prefix`` fail.
  Modes: ``429`` (rack-attack: text/plain ``Retry later\\n``, no Retry-After),
  ``429_retry_after`` (same plus ``Retry-After: <seconds>``), ``500``, ``503``, ``slow`` (sleep
  ``seconds`` then answer normally), ``malformed`` (200 with the real body cut in half),
  ``timeout`` (sleep 30 s, then answer), ``kodik_error`` (200 ``{"error": <message>}``;
  optional ``"message"``, ``"status"``). ``GET /_control/faults`` lists the pending ones.
* ``POST /_control/reset`` clears faults and the request log.
* ``GET /_control/requests[?path_prefix=/api]`` returns the log, oldest first:
  ``[{"method","path","query","time","user_agent","body","status"}]`` (``time`` is epoch
  seconds when the request arrived; ``body`` is the decoded form/JSON body or "").
* ``POST /_control/mutate`` ``{"shikimori_id": 5, "fields": {"score": "7.11"}}``.
* ``POST /_control/kodik`` ``{"shikimori_id": 52991, "remove_translations": [609],
  "season_episodes": {"610": [27]}}``: takedowns (Kodik stops listing those translations of
  the anime; the others list that many episodes per season).
* ``POST /_control/catalog`` ``{"anime": N, "seed": 1}`` regenerates the catalog (drops
  mutations); ``GET /_control/catalog`` describes it.
* ``POST /_control/config`` ``{"kodik_token": "...", "kodik_token_error_status": 403,
  "require_user_agent": false, "shikimori_rate_limits": [[5, 1], [90, 60]]}``. The rate
  limits make Shikimori's endpoints behave like its rack-attack: fixed windows at a random
  phase, every request counted, ``429 Retry later`` over a limit (``[]`` turns them off;
  ``--shikimori-limits 5/1,90/60`` on the command line). The request log keeps each
  request's arrival time and status, so a test can check any sliding window.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import json
import random
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from fake_upstream.data import (
    TRANSLATION_BY_ID,
    TRANSLATIONS,
    FakeAnime,
    FakeCatalog,
    KodikMaterial,
)
from fake_upstream.shikimori_graphql import RELATION_TEXT, GraphQLApi, related_of

DEFAULT_KODIK_TOKEN = "fake-kodik-token"  # noqa: S105 (a fake, public on purpose)
STREAM_PREFIX = "/api/v2/hianime"
FAULT_MODES = frozenset(
    ("429", "429_retry_after", "500", "503", "slow", "malformed", "timeout", "kodik_error")
)
TIMEOUT_FAULT_SECONDS = 30.0
KODIK_TOKEN_ERROR = "Отсутствует или неверный токен"  # noqa: S105 (an error text)
SHIKIMORI_NOT_FOUND = {"message": "Страница не найдена", "code": 404}
JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
KODIK_SEARCH_KEYS = (
    "title",
    "title_orig",
    "id",
    "player_link",
    "shikimori_id",
    "kinopoisk_id",
    "imdb_id",
    "mdl_id",
    "worldart_animation_id",
    "worldart_cinema_id",
    "worldart_link",
)
STREAM_SERVERS = ("hd-1", "hd-2", "megacloud", "streamsb", "streamtape")
STREAM_SEARCH_PAGE = 40
SHIKIMORI_MAX_PAGE = 5000
LOG_LIMIT = 200_000
CACHE_LIMIT = 20_000


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_reply(status: int, payload: Any) -> Reply:
    return Reply(status, json.dumps(payload, ensure_ascii=False).encode())


def text_reply(status: int, text: str) -> Reply:
    return Reply(status, text.encode(), TEXT_TYPE)


@dataclass
class Request:
    method: str
    path: str
    query: str
    params: dict[str, str]  # query string merged with an urlencoded body (body wins)
    headers: Message
    body: bytes

    @property
    def user_agent(self) -> str:
        return (self.headers.get("User-Agent") or "").strip()

    def json_body(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        data = json.loads(self.body)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data


@dataclass
class Fault:
    path_prefix: str
    mode: str
    count: int
    seconds: float
    message: str = KODIK_TOKEN_ERROR
    status: int = 200


class _BadParam(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _is_true(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1", "yes", "on")


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _int(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise _BadParam(f'Invalid parameter "{name}" value "{raw}": Must be a number.') from None


class UpstreamState:
    """Everything the request handlers share. Handlers run concurrently (one thread per
    connection): the catalog object is swapped atomically, the small mutable parts under
    ``lock``, and response bytes are cached per catalog version."""

    def __init__(self, catalog: FakeCatalog, kodik_token: str) -> None:
        self.catalog = catalog
        self.kodik_token = kodik_token
        self.kodik_token_error_status = 200
        self.require_user_agent = True
        # Shikimori's rack-attack limits: (limit, seconds, phase) fixed windows; see
        # set_rate_limits.
        self.rate_windows: list[tuple[int, float, float]] = []
        self._rate_counts: dict[tuple[int, int], int] = {}
        self.lock = threading.Lock()
        self.faults: list[Fault] = []
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self.stopping = threading.Event()
        self.graphql = GraphQLApi()
        self._cache: dict[tuple[Any, ...], bytes] = {}
        self._cache_owner: tuple[int, int] = (id(catalog), catalog.version)
        self._anime_views: dict[tuple[Any, ...], list[FakeAnime]] = {}
        self._kodik_views: dict[tuple[Any, ...], tuple[list[KodikMaterial], list[Any]]] = {}

    # --- cache ----------------------------------------------------------------------------

    def _cache_get(self, catalog: FakeCatalog, key: tuple[Any, ...]) -> bytes | None:
        with self.lock:
            if self._cache_owner != (id(catalog), catalog.version):
                self._cache.clear()
                self._anime_views.clear()
                self._kodik_views.clear()
                self._cache_owner = (id(catalog), catalog.version)
            return self._cache.get(key)

    def _cache_put(self, catalog: FakeCatalog, key: tuple[Any, ...], body: bytes) -> None:
        with self.lock:
            if self._cache_owner != (id(catalog), catalog.version):
                return  # the catalog changed while this response was being built
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = body

    def cached_json(
        self, catalog: FakeCatalog, key: tuple[Any, ...], build: Callable[[], Any]
    ) -> Reply:
        body = self._cache_get(catalog, key)
        if body is None:
            body = json.dumps(build(), ensure_ascii=False).encode()
            self._cache_put(catalog, key, body)
        return Reply(200, body)

    # --- faults and log -------------------------------------------------------------------

    def add_fault(
        self,
        path_prefix: str = "/",
        mode: str = "500",
        count: int = 1,
        seconds: float = 1.0,
        message: str = KODIK_TOKEN_ERROR,
        status: int = 200,
    ) -> Fault:
        if mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {sorted(FAULT_MODES)}")
        if count < 1:
            raise ValueError("count must be >= 1")
        fault = Fault(path_prefix, mode, count, float(seconds), message, status)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault.path_prefix):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.log.clear()

    def requests(self, path_prefix: str = "") -> list[dict[str, Any]]:
        with self.lock:
            entries = list(self.log)
        return [dict(e) for e in entries if e["path"].startswith(path_prefix)]

    def set_rate_limits(self, windows: list[tuple[int, float]], phase: float | None = None) -> None:
        """Enforce Shikimori's limits like rack-attack: fixed windows (``limit`` requests per
        ``seconds``) that start at a random phase (or ``phase``) rather than on the clock's
        whole seconds, every request counted (throttled ones too), 429 over the limit."""
        with self.lock:
            self.rate_windows = [
                (
                    int(limit),
                    float(seconds),
                    random.uniform(0, float(seconds)) if phase is None else phase,
                )
                for limit, seconds in windows
            ]
            self._rate_counts.clear()

    def _throttled(self, now: float) -> bool:
        with self.lock:
            over = False
            for index, (limit, seconds, phase) in enumerate(self.rate_windows):
                key = (index, int((now - phase) // seconds))
                count = self._rate_counts.get(key, 0) + 1
                self._rate_counts[key] = count
                over = over or count > limit
            if len(self._rate_counts) > CACHE_LIMIT:
                self._rate_counts.clear()
            return over

    def set_catalog(self, anime: int, seed: int) -> FakeCatalog:
        self.catalog = FakeCatalog(anime, seed)
        return self.catalog

    # --- dispatch -------------------------------------------------------------------------

    def handle(self, req: Request) -> Reply:
        if req.path.startswith("/_control/"):
            return self._control(req)
        arrived = time.time()
        entry = {
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "time": arrived,
            "user_agent": req.headers.get("User-Agent"),
            "body": req.body.decode("utf-8", "replace"),
            "status": None,
        }
        with self.lock:
            self.log.append(entry)
        is_shikimori = req.path == "/api" or (
            req.path.startswith("/api/") and not req.path.startswith(STREAM_PREFIX)
        )
        if is_shikimori and self.rate_windows and self._throttled(arrived):
            entry["status"] = 429
            return text_reply(429, "Retry later\n")
        reply = self._faulted(req)
        entry["status"] = reply.status
        return reply

    def _faulted(self, req: Request) -> Reply:
        fault = self.take_fault(req.path)
        if fault is None:
            return self._route(req)
        mode = fault.mode
        if mode == "429":
            return text_reply(429, "Retry later\n")
        if mode == "429_retry_after":
            reply = text_reply(429, "Retry later\n")
            reply.headers.append(("Retry-After", str(max(0, round(fault.seconds)))))
            return reply
        if mode == "500":
            if req.path.startswith(STREAM_PREFIX):
                return json_reply(500, {"status": 500, "message": "Internal Server Error"})
            return Reply(
                500,
                b"<html><head><title>500 Internal Server Error</title></head>"
                b"<body><center><h1>500 Internal Server Error</h1></center></body></html>\n",
                "text/html",
            )
        if mode == "503":
            if req.path.startswith(STREAM_PREFIX):
                return json_reply(503, {"status": 503, "message": "Service Unavailable"})
            return json_reply(
                503,
                {"code": 503, "exception": "FakeUpstreamFault", "message": "injected 503"},
            )
        if mode == "kodik_error":
            return json_reply(fault.status, {"error": fault.message})
        if mode in ("slow", "timeout"):
            self.stopping.wait(fault.seconds if mode == "slow" else TIMEOUT_FAULT_SECONDS)
            return self._route(req)
        # malformed: a 200 whose JSON stops half-way.
        reply = self._route(req)
        cut = reply.body[: len(reply.body) // 2] or b"{"
        return Reply(200, cut, reply.content_type)

    def _route(self, req: Request) -> Reply:
        path = req.path
        try:
            if path == "/health" or path.startswith(STREAM_PREFIX):
                return self._stream(req)
            if path == "/api" or path.startswith("/api/"):
                return self._shikimori(req)
            if path in ("/search", "/list", "/translations", "/translations/v2"):
                return self._kodik(req)
        except _BadParam as exc:
            if path.startswith("/api/"):
                if req.method == "GET":
                    return json_reply(422, [exc.message])
                return json_reply(422, {"errors": [exc.message]})
            return json_reply(200, {"error": exc.message})
        return json_reply(404, {"message": "Not Found", "code": 404})

    # --- Shikimori ------------------------------------------------------------------------

    def _shikimori(self, req: Request) -> Reply:
        if self.require_user_agent and not req.user_agent:
            return json_reply(403, {"message": "User-Agent required", "code": 403})
        catalog = self.catalog
        if req.path == "/api/graphql":
            return self._shikimori_graphql(catalog, req)
        if req.method != "GET":
            return json_reply(404, SHIKIMORI_NOT_FOUND)
        parts = [p for p in req.path.split("/") if p][1:]  # drop "api"
        if parts == ["animes"]:
            return self._shikimori_list(catalog, req.params)
        if len(parts) in (2, 3) and parts[0] == "animes":
            anime = catalog.get(_shikimori_id(parts[1]))
            if anime is None:
                return json_reply(404, SHIKIMORI_NOT_FOUND)
            if len(parts) == 2:
                return self._shikimori_detail(catalog, anime)
            if parts[2] == "related":
                return json_reply(200, self._shikimori_related(catalog, anime))
            if parts[2] == "screenshots":
                detail = catalog.detail_json(anime, datetime.now(UTC))
                return json_reply(200, detail["screenshots"])
            return json_reply(404, SHIKIMORI_NOT_FOUND)
        if parts == ["calendar"]:
            return json_reply(200, catalog.calendar_json(datetime.now(UTC)))
        if parts == ["genres"]:
            return self.cached_json(catalog, ("genres",), catalog.genres_json)
        return json_reply(404, SHIKIMORI_NOT_FOUND)

    def _shikimori_graphql(self, catalog: FakeCatalog, req: Request) -> Reply:
        if req.method != "POST":
            return json_reply(404, SHIKIMORI_NOT_FOUND)
        try:
            body = req.json_body()
        except ValueError:
            return json_reply(400, {"errors": [{"message": "the body must be a JSON object"}]})
        host = req.headers.get("Host") or "127.0.0.1"

        def view(params: dict[str, str]) -> list[FakeAnime]:
            ids, exclude = _split(params["ids"]), _split(params["exclude_ids"])
            for raw in ids + exclude:
                if not raw.isdigit():
                    raise _BadParam(f'Invalid parameter "ids" value "{raw}"')
            key = (
                params["order"],
                tuple(ids),
                tuple(exclude),
                params["status"],
                params["kind"],
                params["search"],
            )
            return self._anime_view(catalog, key, ids, exclude, params)

        return json_reply(200, self.graphql.execute(catalog, body, host=host, view=view))

    def _shikimori_related(self, catalog: FakeCatalog, anime: FakeAnime) -> list[dict[str, Any]]:
        rows = []
        for kind, anime_id, manga_id in related_of(catalog, anime.id):
            target = catalog.get(anime_id) if anime_id is not None else None
            rows.append(
                {
                    "relation": RELATION_TEXT[kind],
                    "relation_russian": RELATION_TEXT[kind],
                    "anime": catalog.short_json(target) if target is not None else None,
                    "manga": {"id": manga_id, "name": f"{anime.name} (manga)"}
                    if manga_id is not None
                    else None,
                }
            )
        return rows

    def _shikimori_list(self, catalog: FakeCatalog, params: dict[str, str]) -> Reply:
        page = min(max(_int(params, "page", 1), 1), SHIKIMORI_MAX_PAGE)
        limit = min(max(_int(params, "limit", 1), 1), 50)
        ids = _split(params.get("ids"))
        exclude = _split(params.get("exclude_ids"))
        for raw in ids + exclude:
            if not raw.isdigit():
                raise _BadParam(f'Invalid parameter "ids" value "{raw}"')
        key = (
            "animes",
            page,
            limit,
            params.get("order", ""),
            tuple(ids),
            tuple(exclude),
            params.get("status", ""),
            params.get("kind", ""),
            params.get("search", ""),
        )

        def build() -> list[dict[str, Any]]:
            rows = self._anime_view(catalog, key[3:], ids, exclude, params)
            start = (page - 1) * limit
            return [catalog.short_json(a) for a in rows[start : start + limit]]

        return self.cached_json(catalog, key, build)

    def _anime_view(
        self,
        catalog: FakeCatalog,
        view_key: tuple[Any, ...],
        ids: list[str],
        exclude: list[str],
        params: dict[str, str],
    ) -> list[FakeAnime]:
        """The filtered, ordered anime behind ``/api/animes`` (built once per filter set, so
        paging through 20,000 anime costs one slice + serialization per page)."""
        self._cache_get(catalog, ())  # drops stale views when the catalog changed
        with self.lock:
            view = self._anime_views.get(view_key)
        if view is not None:
            return view
        rows: list[FakeAnime]
        if ids:
            wanted = sorted({int(i) for i in ids})
            rows = [a for i in wanted if (a := catalog.get(i)) is not None]
        else:
            rows = catalog.ordered()
        if exclude:
            excluded = {int(i) for i in exclude}
            rows = [a for a in rows if a.id not in excluded]
        rows = _list_filter(rows, "status", params.get("status"))
        rows = _list_filter(rows, "kind", params.get("kind"))
        search = (params.get("search") or "").strip().lower()
        if search:
            rows = [a for a in rows if search in a.name.lower() or search in a.russian.lower()]
        if params.get("order") == "id_desc":
            rows = rows[::-1]
        with self.lock:
            if self._cache_owner == (id(catalog), catalog.version):
                if len(self._anime_views) >= CACHE_LIMIT:
                    self._anime_views.clear()
                self._anime_views[view_key] = rows
        return rows

    def _shikimori_detail(self, catalog: FakeCatalog, anime: FakeAnime) -> Reply:
        if anime.has_schedule:  # next_episode_at moves with the clock
            return json_reply(200, catalog.detail_json(anime, datetime.now(UTC)))
        return self.cached_json(
            catalog, ("anime", anime.id), lambda: catalog.detail_json(anime, datetime.now(UTC))
        )

    # --- Kodik ----------------------------------------------------------------------------

    def _kodik(self, req: Request) -> Reply:
        params = req.params
        if params.get("token") != self.kodik_token:
            return json_reply(self.kodik_token_error_status, {"error": KODIK_TOKEN_ERROR})
        started = time.perf_counter()
        catalog = self.catalog
        if req.path == "/translations":
            return json_reply(200, [{"id": i, "title": t, "type": k} for i, t, k in TRANSLATIONS])
        if req.path == "/translations/v2":
            counts: dict[int, int] = {}
            for m in catalog.kodik_sorted():
                counts[m.translation_id] = counts.get(m.translation_id, 0) + 1
            results = [{"id": i, "title": t, "count": counts.get(i, 0)} for i, t, _ in TRANSLATIONS]
            return json_reply(200, {"time": "1ms", "total": len(results), "results": results})
        raw_limit = _int(params, "limit", 50)
        if raw_limit < 1:
            return json_reply(500, {"error": "Неверный параметр limit"})
        limit = min(raw_limit, 100)
        if req.path == "/search":
            return self._kodik_search(catalog, params, limit, started)
        return self._kodik_list(catalog, req, limit, started)

    def _kodik_search(
        self, catalog: FakeCatalog, params: dict[str, str], limit: int, started: float
    ) -> Reply:
        keys = [k for k in KODIK_SEARCH_KEYS if params.get(k)]
        if not keys:
            return json_reply(200, {"error": "Не указан хотя бы один параметр для поиска"})
        candidates: list[KodikMaterial]
        if params.get("shikimori_id"):
            candidates = []
            for raw in _split(params["shikimori_id"]):
                anime = catalog.get(int(raw)) if raw.isdigit() else None
                if anime is not None:
                    candidates.extend(anime.kodik)
        elif params.get("id"):
            wanted = params["id"]
            number = wanted.rsplit("-", 1)[-1]
            anime = catalog.get(int(number) // 10) if number.isdigit() else None
            candidates = [m for m in anime.kodik if m.kodik_id == wanted] if anime else []
        elif params.get("title") or params.get("title_orig"):
            needle = (params.get("title") or params.get("title_orig") or "").lower()
            candidates = [
                m
                for a in catalog.ordered()
                if needle in a.russian.lower()
                or needle in a.name.lower()
                or (a.english is not None and needle in a.english.lower())
                for m in a.kodik
            ]
        elif params.get("kinopoisk_id") or params.get("imdb_id"):
            kp, imdb = params.get("kinopoisk_id"), params.get("imdb_id")
            candidates = [
                m
                for a in catalog.ordered()
                if (kp and kp == str(1000000 + a.id) and a.id % 4 == 0)
                or (imdb and imdb == f"tt{20000000 + a.id}" and a.id % 5 == 0)
                for m in a.kodik
            ]
        else:
            candidates = []
        results = _kodik_filter(catalog, candidates, params)[:limit]
        flags = _kodik_flags(params)
        payload = {
            "time": _elapsed(started),
            "total": len(results),
            "results": [catalog.kodik_json(m, **flags) for m in results],
        }
        return json_reply(200, payload)

    def _kodik_list(self, catalog: FakeCatalog, req: Request, limit: int, started: float) -> Reply:
        params = req.params
        host = req.headers.get("Host") or "127.0.0.1"
        cache_key = ("kodik-list", host, tuple(sorted(params.items())), limit)
        body = self._cache_get(catalog, cache_key)
        if body is not None:
            return Reply(200, body)
        view_key = tuple(
            params.get(k, "")
            for k in ("types", "translation_id", "translation_type", "anime_kind", "anime_status")
        )
        materials, sort_keys = self._kodik_view(catalog, view_key, params)
        start = 0
        cursor = params.get("next")
        if cursor:
            anchor = _decode_cursor(cursor)
            start = bisect.bisect_right(sort_keys, anchor)
        page = materials[start : start + limit]
        base_params = [(k, v) for k, v in params.items() if k != "next"]
        base_url = f"http://{host}/list?"
        next_page = None
        if start + limit < len(materials):
            next_page = base_url + urlencode([*base_params, ("next", _encode_cursor(page[-1]))])
        prev_page = None
        if start > 0:
            prev_start = max(0, start - limit)
            prev_params = list(base_params)
            if prev_start > 0:
                prev_params.append(("next", _encode_cursor(materials[prev_start - 1])))
            prev_page = base_url + urlencode(prev_params)
        flags = _kodik_flags(params)
        payload = {
            "time": _elapsed(started),
            "total": len(materials),
            "prev_page": prev_page,
            "next_page": next_page,
            "results": [catalog.kodik_json(m, **flags) for m in page],
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._cache_put(catalog, cache_key, body)
        return Reply(200, body)

    def _kodik_view(
        self, catalog: FakeCatalog, view_key: tuple[Any, ...], params: dict[str, str]
    ) -> tuple[list[KodikMaterial], list[Any]]:
        self._cache_get(catalog, ())  # drops stale views when the catalog changed
        with self.lock:
            view = self._kodik_views.get(view_key)
        if view is None:
            materials = _kodik_filter(catalog, catalog.kodik_sorted(), params)
            view = (materials, [m.sort_key for m in materials])
            with self.lock:
                if self._cache_owner == (id(catalog), catalog.version):
                    self._kodik_views[view_key] = view
        return view

    # --- aniwatch-api ---------------------------------------------------------------------

    def _stream(self, req: Request) -> Reply:
        sub = "/health" if req.path == "/health" else req.path[len(STREAM_PREFIX) :]
        if sub == "/health":
            return text_reply(200, "daijoubu")
        if req.method != "GET":
            return json_reply(404, {"status": 404, "message": "Not Found"})
        catalog = self.catalog
        parts = [unquote(p) for p in sub.split("/") if p]
        params = req.params
        if parts == ["search"]:
            return self._stream_search(catalog, params)
        if len(parts) >= 2 and parts[0] == "anime":
            anime = catalog.by_stream_slug(parts[1])
            if anime is None:
                return _stream_error(404, "getAnimeAboutInfo", "Not Found")
            if len(parts) == 2:
                return _stream_ok(catalog.stream_info_json(anime))
            if parts[2:] == ["episodes"]:
                return _stream_ok(catalog.stream_episodes_json(anime))
            if parts[2:] == ["next-episode-schedule"]:
                return _stream_ok(_next_episode_schedule(anime))
        if parts in (["episode", "servers"], ["episode", "sources"]):
            scraper = "getEpisodeServers" if parts[1] == "servers" else "getAnimeEpisodeSources"
            episode_id = params.get("animeEpisodeId", "")
            slug, sep, ep = episode_id.partition("?ep=")
            if not sep or not ep.isdigit():
                return _stream_error(400, scraper, "invalid anime episode id")
            anime = catalog.by_stream_slug(slug)
            number = catalog.stream_episode_number(anime, int(ep)) if anime else None
            if anime is None or number is None:
                return _stream_error(404, scraper, "Not Found")
            if parts[1] == "servers":
                return _stream_ok(catalog.stream_servers_json(anime, number))
            server = params.get("server") or "hd-1"
            category = params.get("category") or "sub"
            if server not in STREAM_SERVERS or category not in ("sub", "dub", "raw"):
                return _stream_error(400, scraper, "invalid server or category")
            has_category = category == "sub" or (
                category == "dub" and anime.stream is not None and anime.stream.has_dub
            )
            if server not in ("hd-1", "hd-2", "megacloud") or not has_category:
                return _stream_error(500, scraper, "Couldn't find server. Try another server")
            return _stream_ok(catalog.stream_sources_json(anime, number, server, category))
        return json_reply(404, {"status": 404, "message": "Not Found"})

    def _stream_search(self, catalog: FakeCatalog, params: dict[str, str]) -> Reply:
        query = (params.get("q") or "").strip()
        if not query:
            return _stream_error(400, "searchAnime", "invalid search query")
        page = max(1, _int(params, "page", 1))
        needle = query.lower()
        matches = [
            a
            for a in catalog.ordered()
            if a.stream is not None
            and (
                needle in a.name.lower()
                or needle in a.stream.slug
                or (a.english is not None and needle in a.english.lower())
            )
        ]
        total_pages = max(1, -(-len(matches) // STREAM_SEARCH_PAGE))
        start = (page - 1) * STREAM_SEARCH_PAGE
        return _stream_ok(
            {
                "animes": [
                    catalog.stream_card_json(a) for a in matches[start : start + STREAM_SEARCH_PAGE]
                ],
                "mostPopularAnimes": [],
                "currentPage": page,
                "totalPages": total_pages,
                "hasNextPage": page < total_pages,
                "searchQuery": query,
                "searchFilters": {},
            }
        )

    # --- control --------------------------------------------------------------------------

    def _control(self, req: Request) -> Reply:
        try:
            return self._control_unchecked(req)
        except (ValueError, TypeError, KeyError) as exc:
            return json_reply(400, {"error": f"{type(exc).__name__}: {exc}"})

    def _control_unchecked(self, req: Request) -> Reply:
        action = req.path[len("/_control/") :].strip("/")
        if action == "requests" and req.method == "GET":
            return json_reply(200, self.requests(req.params.get("path_prefix", "")))
        if action == "faults" and req.method == "GET":
            with self.lock:
                return json_reply(200, [asdict(f) for f in self.faults])
        if action == "catalog" and req.method == "GET":
            catalog = self.catalog
            return json_reply(
                200,
                {
                    "anime": len(catalog),
                    "seed": catalog.seed,
                    "version": catalog.version,
                    "ids": [catalog.ids[0], catalog.ids[-1]],
                },
            )
        if req.method != "POST":
            return json_reply(404, {"error": f"unknown control action {req.method} {action}"})
        data = req.json_body()
        if action == "faults":
            fault = self.add_fault(
                path_prefix=str(data.get("path_prefix", "/")),
                mode=str(data.get("mode", "500")),
                count=int(data.get("count", 1)),
                seconds=float(data.get("seconds", 1)),
                message=str(data.get("message", KODIK_TOKEN_ERROR)),
                status=int(data.get("status", 200)),
            )
            return json_reply(200, {"ok": True, "fault": asdict(fault)})
        if action == "reset":
            self.reset()
            return json_reply(200, {"ok": True})
        if action == "mutate":
            anime_id = int(data["shikimori_id"])
            changes = data.get("fields") or {}
            if not isinstance(changes, dict):
                raise TypeError("fields must be an object")
            if self.catalog.get(anime_id) is None:
                return json_reply(404, {"error": f"no anime {anime_id}"})
            anime = self.catalog.mutate(anime_id, changes, datetime.now(UTC))
            return json_reply(200, {"ok": True, "anime": self.catalog.short_json(anime)})
        if action == "kodik":
            anime_id = int(data["shikimori_id"])
            if self.catalog.get(anime_id) is None:
                return json_reply(404, {"error": f"no anime {anime_id}"})
            anime = self.catalog.kodik_edit(
                anime_id,
                datetime.now(UTC),
                remove_translations=[int(t) for t in data.get("remove_translations") or []],
                season_episodes={
                    int(t): [int(c) for c in counts]
                    for t, counts in (data.get("season_episodes") or {}).items()
                },
            )
            return json_reply(
                200,
                {"ok": True, "translations": [m.translation_id for m in anime.kodik]},
            )
        if action == "catalog":
            catalog = self.set_catalog(int(data["anime"]), int(data.get("seed", self.catalog.seed)))
            return json_reply(200, {"ok": True, "anime": len(catalog), "seed": catalog.seed})
        if action == "config":
            if "kodik_token" in data:
                self.kodik_token = str(data["kodik_token"])
            if "kodik_token_error_status" in data:
                self.kodik_token_error_status = int(data["kodik_token_error_status"])
            if "require_user_agent" in data:
                self.require_user_agent = bool(data["require_user_agent"])
            if "shikimori_rate_limits" in data:
                self.set_rate_limits(
                    [(int(limit), float(sec)) for limit, sec in data["shikimori_rate_limits"]]
                )
            return json_reply(
                200,
                {
                    "kodik_token": self.kodik_token,
                    "kodik_token_error_status": self.kodik_token_error_status,
                    "require_user_agent": self.require_user_agent,
                    "shikimori_rate_limits": [[w[0], w[1]] for w in self.rate_windows],
                },
            )
        return json_reply(404, {"error": f"unknown control action {action}"})


def _shikimori_id(raw: str) -> int:
    """``52991``, ``52991-sousou-no-frieren`` and letter-prefixed ``z52991`` all name 52991."""
    digits = raw.lstrip("zy").split("-", 1)[0]
    return int(digits) if digits.isdigit() else -1


def _list_filter(rows: list[FakeAnime], attr: str, raw: str | None) -> list[FakeAnime]:
    values = _split(raw)
    if not values:
        return rows
    include = {v for v in values if not v.startswith("!")}
    exclude = {v[1:] for v in values if v.startswith("!")}
    return [
        a
        for a in rows
        if (not include or getattr(a, attr) in include) and getattr(a, attr) not in exclude
    ]


def _kodik_flags(params: dict[str, str]) -> dict[str, bool]:
    return {
        "with_seasons": _is_true(params.get("with_seasons")),
        "with_episodes": _is_true(params.get("with_episodes")),
        "with_episodes_data": _is_true(params.get("with_episodes_data")),
        "with_material_data": _is_true(params.get("with_material_data")),
    }


def _kodik_filter(
    catalog: FakeCatalog, materials: list[KodikMaterial], params: dict[str, str]
) -> list[KodikMaterial]:
    types = set(_split(params.get("types")))
    translation_ids = {int(t) for t in _split(params.get("translation_id")) if t.isdigit()}
    translation_type = params.get("translation_type")
    kinds = set(_split(params.get("anime_kind")))
    statuses = set(_split(params.get("anime_status")))
    if not (types or translation_ids or translation_type or kinds or statuses):
        return list(materials)
    result = []
    for m in materials:
        if types and m.kodik_type not in types:
            continue
        if translation_ids and m.translation_id not in translation_ids:
            continue
        if translation_type and TRANSLATION_BY_ID[m.translation_id][2] != translation_type:
            continue
        if kinds or statuses:
            anime = catalog.anime[m.anime_id]
            if (kinds and anime.kind not in kinds) or (statuses and anime.status not in statuses):
                continue
        result.append(m)
    return result


def _encode_cursor(m: KodikMaterial) -> str:
    raw = json.dumps([m.updated_at * 1000, m.kodik_id], separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        updated_ms, kodik_id = json.loads(base64.b64decode(cursor, validate=True))
        return (-(int(updated_ms) // 1000), str(kodik_id))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise _BadParam("Неверный параметр next") from exc


def _elapsed(started: float) -> str:
    return f"{max(1, round((time.perf_counter() - started) * 1000))}ms"


def _stream_ok(data: dict[str, Any]) -> Reply:
    return json_reply(200, {"status": 200, "data": data})


def _stream_error(status: int, scraper: str, message: str) -> Reply:
    return json_reply(status, {"status": status, "message": f"{scraper}: {message}"})


def _next_episode_schedule(anime: FakeAnime) -> dict[str, Any]:
    now = datetime.now(UTC)
    at = anime.next_episode_at(now)
    if at is None:
        return {"airingISOTimestamp": None, "airingTimestamp": None, "secondsUntilAiring": None}
    return {
        "airingISOTimestamp": at.astimezone(UTC).isoformat(timespec="milliseconds"),
        "airingTimestamp": int(at.timestamp() * 1000),
        "secondsUntilAiring": int((at - now).total_seconds()),
    }


# --- HTTP plumbing ------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections
    server_version = "FakeUpstream/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        return  # the request log is kept in memory, see /_control/requests

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        content_type = (self.headers.get("Content-Type") or "").lower()
        if body and "application/x-www-form-urlencoded" in content_type:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        request = Request(self.command, url.path, url.query, params, self.headers, body)
        try:
            reply = self.server.state.handle(request)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            reply = json_reply(500, {"message": f"fake upstream bug: {exc!r}", "code": 500})
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not block stop()
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], state: UpstreamState) -> None:
        self.state = state
        self.open_sockets: set[socket.socket] = set()
        self._sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can stall offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # includes ConnectionError, TimeoutError
            return  # the client went away (timeouts, tests that stop early)
        super().handle_error(request, client_address)

    def close_open_connections(self) -> None:
        with self._sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class FakeUpstream:
    """A running (after ``start()``) fake of all three upstreams on ``127.0.0.1:<port>``.

    ``port=0`` picks a free port. Use as a context manager, or call ``stop()``.
    The Python-side helpers (``add_fault``, ``reset``, ``requests``, ``mutate``) do what the
    ``/_control`` endpoints do, for tests that run the server in-process.
    """

    def __init__(
        self,
        anime: int = 300,
        seed: int = 1,
        port: int = 0,
        *,
        kodik_token: str = DEFAULT_KODIK_TOKEN,
    ) -> None:
        self.state = UpstreamState(FakeCatalog(anime, seed), kodik_token)
        self._server = _Server(("127.0.0.1", port), self.state)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def shikimori_url(self) -> str:
        """The Shikimori site root (no ``/api``): clients append ``/api/animes`` and prefix
        the site-relative image paths with it."""
        return self.base_url

    @property
    def kodik_url(self) -> str:
        """The Kodik API root: clients append ``/search`` and ``/list``."""
        return self.base_url

    @property
    def stream_url(self) -> str:
        """The aniwatch-api root: clients append ``/anime/{id}/episodes`` etc."""
        return self.base_url + STREAM_PREFIX

    @property
    def kodik_token(self) -> str:
        return self.state.kodik_token

    @property
    def catalog(self) -> FakeCatalog:
        return self.state.catalog

    def start(self) -> FakeUpstream:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"fake-upstream-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()  # wakes requests sleeping in slow/timeout faults
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.close_open_connections()
        self._server.server_close()

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # In-process equivalents of the control API.
    def add_fault(self, path_prefix: str, mode: str, count: int = 1, seconds: float = 1) -> None:
        self.state.add_fault(path_prefix, mode, count, seconds)

    def reset(self) -> None:
        self.state.reset()

    def requests(self, path_prefix: str = "") -> list[dict[str, Any]]:
        return self.state.requests(path_prefix)

    def set_rate_limits(self, windows: list[tuple[int, float]], phase: float | None = None) -> None:
        self.state.set_rate_limits(windows, phase)

    def mutate(self, shikimori_id: int, **changes: Any) -> None:
        self.state.catalog.mutate(shikimori_id, changes, datetime.now(UTC))


def start_in_thread(
    anime: int = 300, seed: int = 1, port: int = 0, *, kodik_token: str = DEFAULT_KODIK_TOKEN
) -> FakeUpstream:
    """Start a fake upstream on 127.0.0.1 in a daemon thread and return it (running)."""
    return FakeUpstream(anime=anime, seed=seed, port=port, kodik_token=kodik_token).start()
