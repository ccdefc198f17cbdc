"""The documented edge at 1,000 connections: nginx (deploy/nginx/kitsu.conf) in front of
gunicorn (deploy/gunicorn.conf.py with deploy/kitsu.env.example's values), driven by wrk.

    .venv/bin/python bench/edge.py                    # needs nginx, wrk, openssl and kitsu_bench
    .venv/bin/python bench/edge.py --connections 100,1000 --seconds 15 --markdown

The nginx configuration is the shipped file with only what a bench cannot have rewritten: the
listening ports (free ones on 127.0.0.1 instead of 80/443), a self-signed certificate instead of
Let's Encrypt's, the micro-cache directory in a temporary directory, and the upstream's port;
every proxy, cache and TLS directive is the file's own. Around it, the main nginx.conf a
packaged nginx ships (worker_processes auto) with ``worker_connections`` and the open-file limit
raised for 1,000 client connections (the deployment guide says the same).

Cases, each at every ``--connections``: ``/health`` (never cached: the proxy path itself), the
list page and 500 anime details through nginx with the catalog cache on (the documented
``CATALOG_CACHE_SECONDS``), then the same list straight at gunicorn, for comparison. After the
run: how many gunicorn workers booted besides the first ones (a restart storm shows here) and
the micro-cache status nginx reports.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.catalog_read import (
    CACHE_KEY_PREFIX,
    PAGE_SIZE,
    documented_settings,
    load_catalog,
    wait_for_quiet,
)
from bench.harness import (
    REPO_ROOT,
    Server,
    create_database,
    log,
    markdown_table,
    migrate,
    raise_open_file_limit,
    setup_django,
    text_table,
)
from bench.wrk import WrkResult, run_wrk, wrk_available
from tests.servers import free_port

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kitsu_bench"
HOST = "api.example.org"


def site_config(source: str, *, http_port: int, https_port: int, upstream: int, tmp: Path) -> str:
    """deploy/nginx/kitsu.conf with ports, certificate paths and the cache directory moved."""
    text = source
    replacements = [
        (r"proxy_cache_path /var/cache/nginx/kitsu", f"proxy_cache_path {tmp / 'cache'}"),
        (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream};"),
        (r"listen \[::\]:\d+[^;]*;\n", ""),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        (r"/etc/letsencrypt/live/[^/]+/fullchain\.pem", str(tmp / "cert.pem")),
        (r"/etc/letsencrypt/live/[^/]+/privkey\.pem", str(tmp / "key.pem")),
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text)
        if count == 0:
            raise RuntimeError(
                f"deploy/nginx/kitsu.conf no longer has {pattern!r}: update the bench"
            )
    return text


def main_config(tmp: Path, *, worker_connections: int) -> str:
    return f"""
worker_processes auto;
worker_rlimit_nofile 65536;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"} warn;
events {{ worker_connections {worker_connections}; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {tmp / "access.log"};
    sendfile on;
    keepalive_timeout 65;
    client_body_temp_path {tmp / "body"};
    proxy_temp_path {tmp / "proxy"};
    include {tmp / "kitsu.conf"};
}}
"""


class Nginx:
    def __init__(self, tmp: Path, *, upstream: int, worker_connections: int) -> None:
        self.tmp = tmp
        self.http_port = free_port()
        self.https_port = free_port()
        source = (REPO_ROOT / "deploy" / "nginx" / "kitsu.conf").read_text(encoding="utf-8")
        for sub in ("cache", "body", "proxy"):
            (tmp / sub).mkdir()
            (tmp / sub).chmod(0o777)  # nginx's workers run as an unprivileged user
        tmp.chmod(0o755)
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", f"/CN={HOST}", "-keyout", str(tmp / "key.pem"),
                "-out", str(tmp / "cert.pem"),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        (tmp / "kitsu.conf").write_text(
            site_config(
                source,
                http_port=self.http_port,
                https_port=self.https_port,
                upstream=upstream,
                tmp=tmp,
            ),
            encoding="utf-8",
        )
        (tmp / "nginx.conf").write_text(
            main_config(tmp, worker_connections=worker_connections), encoding="utf-8"
        )
        self.command = ["nginx", "-p", str(tmp), "-c", str(tmp / "nginx.conf")]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def test(self) -> str:
        checked = subprocess.run([*self.command, "-t"], capture_output=True, text=True)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{checked.stderr}")
        return checked.stderr.strip().splitlines()[-1]

    def start(self) -> None:
        self.process = subprocess.Popen(
            [*self.command, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=(self.tmp / "stderr.log").open("wb"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        with httpx.Client(verify=False, timeout=2.0, trust_env=False) as client:  # noqa: S501
            while time.monotonic() < deadline:
                try:
                    if client.get(f"{self.base_url}/health", headers={"Host": HOST}).is_success:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        raise RuntimeError("nginx did not proxy /health within 15s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--anime", type=int, default=10_000, help="load this many if empty")
    parser.add_argument("--connections", default="1000", help="comma-separated")
    parser.add_argument("--seconds", type=float, default=15.0, help="per case, after a warm-up")
    parser.add_argument("--worker-connections", type=int, default=8192)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--compare-url",
        default="",
        help="another backend already running (e.g. the old one): its list is measured after "
        "each of Kitsu's cases and the cached list's ratio to it printed",
    )
    parser.add_argument("--compare-list-path", default=f"/anime/?limit={PAGE_SIZE}")
    parser.add_argument(
        "--settle",
        type=float,
        default=60.0,
        help="before each case, wait up to this many seconds for the machine to be under 15%% "
        "busy (no backlog of the previous case measured in this one); 0: no wait",
    )
    parser.add_argument("--markdown", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    for tool in ("nginx", "wrk", "openssl"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench/edge.py needs {tool} (apt-get install nginx wrk openssl)")
    assert wrk_available()
    nofile = raise_open_file_limit()
    if create_database(args.database_url):
        log("created the bench database")
    migrate(args.database_url)
    setup_django(args.database_url)
    from catalog.models import Anime

    if Anime.objects.public().count() < args.anime:
        load_catalog(args.anime, seed=42)
    documented = documented_settings(REPO_ROOT)
    documented.update(item.split("=", 1) for item in args.set)
    cache_seconds = re.search(
        r"^CATALOG_CACHE_SECONDS=(\d+)",
        (REPO_ROOT / "deploy" / "kitsu.env.example").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CACHE_KEY_PREFIX": CACHE_KEY_PREFIX,
        "KITSU_ENV": "development",
        "DEBUG": "false",
        "LOG_LEVEL": "INFO",  # gunicorn logs "Booting worker" at info
        "ALLOWED_HOSTS": f"{HOST},127.0.0.1,localhost",
        "CATALOG_CACHE_SECONDS": cache_seconds.group(1) if cache_seconds else "30",
        **documented,
    }
    rebuilt = subprocess.run(
        [sys.executable, "manage.py", "rebuild_anime_documents"],
        cwd=REPO_ROOT,
        env={**env, "DB_POOL": "false"},
        capture_output=True,
        text=True,
    )
    if rebuilt.returncode != 0:
        raise RuntimeError(f"rebuild_anime_documents failed:\n{rebuilt.stderr[-3000:]}")
    rng = random.Random(42)
    ids = list(Anime.objects.public().values_list("id", flat=True))
    details = [f"/anime/{i}" for i in rng.sample(ids, min(500, len(ids)))]
    list_paths = [f"/anime?limit={PAGE_SIZE}"]
    connections = [int(c) for c in args.connections.split(",")]

    rows: list[list[str]] = []
    rates: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="kitsu-edge-") as name:
        tmp = Path(name)
        port = free_port()
        gunicorn_log = tmp / "gunicorn.log"
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            str(REPO_ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
        ]
        server = Server(command, env, port=port, log_path=gunicorn_log)
        nginx = Nginx(tmp, upstream=port, worker_connections=args.worker_connections)
        print("## Edge report (nginx + gunicorn, wrk)")
        print(f"- nginx: {nginx.test()}; worker_connections {args.worker_connections}")
        print(f"- gunicorn: deploy/gunicorn.conf.py with {documented}")
        print(f"- CATALOG_CACHE_SECONDS={env['CATALOG_CACHE_SECONDS']}; open files {nofile}")
        print(f"- wrk: 2 threads, {args.seconds:.0f}s per case after a 3s warm-up, over HTTPS")
        print()
        server.start()
        booted_at_start = 0
        try:
            nginx.start()
            time.sleep(1.0)
            booted_at_start = gunicorn_log.read_text(errors="replace").count("Booting worker")
            cases = [
                ("/health via nginx", nginx.base_url, ["/health"]),
                ("list via nginx", nginx.base_url, list_paths),
                ("detail x500 via nginx", nginx.base_url, details),
                ("list, gunicorn direct", server.base_url, list_paths),
            ]
            if args.compare_url:
                other = ("list, other backend", args.compare_url, [args.compare_list_path])
                cases = [case for kitsu in cases for case in (kitsu, other)]
            for conns in connections:
                for label, base, paths in cases:
                    host = {"Host": HOST} if base == nginx.base_url else None
                    if args.settle > 0:
                        wait_for_quiet(args.settle)
                    run_wrk(base, paths, connections=conns, seconds=3, headers=host)
                    result: WrkResult = run_wrk(
                        base, paths, connections=conns, seconds=args.seconds, headers=host
                    )
                    log(f"{label} @ {conns}: {result}")
                    rates.setdefault((label, conns), []).append(result.rate)
                    rows.append(
                        [
                            label,
                            str(conns),
                            f"{result.rate:.0f}",
                            f"{result.p50_ms:.1f}",
                            f"{result.p99_ms:.1f}",
                            str(result.errors),
                            str(result.requests),
                        ]
                    )
            with httpx.Client(verify=False, trust_env=False) as client:  # noqa: S501
                statuses = [
                    client.get(f"{nginx.base_url}{list_paths[0]}", headers={"Host": HOST}).headers
                    for _ in range(2)
                ]
        finally:
            nginx.stop()
            server.stop()
        booted = gunicorn_log.read_text(errors="replace").count("Booting worker")
    headers = ["case", "conns", "req/s", "p50 ms", "p99 ms", "errors", "requests"]
    print(markdown_table(headers, rows) if args.markdown else text_table(headers, rows))
    print()
    print(f"- gunicorn workers booted: {booted_at_start} at start, {booted - booted_at_start} more")
    print(
        "- list through nginx afterwards: X-Micro-Cache "
        + ", ".join(h.get("x-micro-cache", "?") for h in statuses)
        + f"; Cache-Control {statuses[-1].get('cache-control')!r}"
    )
    if args.compare_url:
        for conns in connections:
            theirs = statistics.median(rates[("list, other backend", conns)])
            for label in ("list via nginx", "list, gunicorn direct"):
                ours = rates[(label, conns)][0]
                ratio = ours / theirs if theirs else math.inf
                print(f"- {label} at {conns}: {ratio:.1f} x the other's list ({theirs:.0f} req/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
