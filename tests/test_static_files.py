"""The admin and the API docs get their static files from gunicorn itself (WhiteNoise), started
as docs/deployment.md says: collectstatic, then gunicorn with deploy/gunicorn.conf.py."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.servers import ROOT, free_port, server_env, serving
from tests.test_settings import SAFE_PRODUCTION

# What nginx sends; without it SECURE_SSL_REDIRECT answers 301 in production.
HTTPS = {"X-Forwarded-Proto": "https"}
TEN_YEARS = 10 * 365 * 24 * 3600


@contextmanager
def production_gunicorn(static_root: Path, log_dir: Path) -> Iterator[str]:
    port = free_port()
    env = server_env(
        **{**SAFE_PRODUCTION, "ALLOWED_HOSTS": "127.0.0.1"},
        STATIC_ROOT=str(static_root),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="2",
    )
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stderr
    with serving(["-c", "deploy/gunicorn.conf.py"], port, log_dir, env, HTTPS) as base:
        yield base


def _static_urls(html: str, pattern: str) -> list[str]:
    return re.findall(rf'(/static/[^"\']*{pattern}[^"\']*)', html)


@pytest.mark.slow
def test_gunicorn_serves_hashed_compressed_static_files_for_admin_and_api_docs(tmp_path):
    with (
        production_gunicorn(tmp_path / "static", tmp_path) as base,
        httpx.Client(base_url=base, headers=HTTPS, timeout=10) as client,
    ):
        # The pages link content-hashed names (the manifest storage of production).
        login = client.get("/admin/login/")
        assert login.status_code == 200
        [admin_css] = _static_urls(login.text, r"admin/css/base\.[0-9a-f]{12}\.css")
        docs = client.get("/api/docs/")
        assert docs.status_code == 200
        [swagger_js] = _static_urls(docs.text, r"swagger-ui-bundle\.[0-9a-f]{12}\.js")

        for url, content_type in ((admin_css, "text/css"), (swagger_js, "text/javascript")):
            response = client.get(url, headers={"Accept-Encoding": "gzip"})
            assert response.status_code == 200, url
            assert response.headers["Content-Type"].startswith(content_type)
            assert response.headers["Content-Encoding"] == "gzip"
            cache_control = response.headers["Cache-Control"]
            assert f"max-age={TEN_YEARS}" in cache_control, cache_control
            assert "immutable" in cache_control
            assert len(response.content) > 1000  # decoded body

            plain = client.get(url, headers={"Accept-Encoding": "identity"})
            assert plain.status_code == 200
            assert "Content-Encoding" not in plain.headers
            assert plain.content == response.content

        # The unhashed name still works but is cached briefly (it changes on upgrade).
        unhashed = client.get("/static/admin/css/base.css")
        assert unhashed.status_code == 200
        assert "immutable" not in unhashed.headers["Cache-Control"]
