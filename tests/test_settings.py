"""Settings behaviour, checked in fresh processes (settings are read once at import)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
SAFE_PRODUCTION = {
    "KITSU_ENV": "production",
    "SECRET_KEY": "x" * 64 + "-a-real-production-secret-with-enough-entropy",
    "JWT_SIGNING_KEY": "j" * 64 + "-a-separate-jwt-signing-key",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "api.kitsu.example",
    "ALLOWED_ORIGINS": "https://kitsu.example",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    controlled = {*SAFE_PRODUCTION, "DATABASE_URL", "REDIS_URL", "DB_JIT"}
    base = {k: v for k, v in os.environ.items() if k not in controlled}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        **SAFE_PRODUCTION,
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        **overrides,
    }
    return {k: v for k, v in env.items() if v != "<unset>"}


def test_production_settings_pass_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"SECRET_KEY": "<unset>"}, "SECRET_KEY is not set"),
        ({"DEBUG": "true"}, "DEBUG is on"),
        ({"JWT_SIGNING_KEY": "<unset>"}, "JWT_SIGNING_KEY is not set"),
        ({"SECRET_KEY": "s" * 31}, "SECRET_KEY is shorter than 32 bytes"),
        ({"JWT_SIGNING_KEY": "j" * 31}, "JWT_SIGNING_KEY is shorter than 32 bytes"),
        ({"DATABASE_URL": "<unset>"}, "DATABASE_URL is not set"),
        ({"REDIS_URL": "<unset>"}, "REDIS_URL is not set"),
        ({"ALLOWED_ORIGINS": "https://kitsu.example,*"}, "ALLOWED_ORIGINS contains '*'"),
        ({"ALLOWED_HOSTS": "<unset>"}, "ALLOWED_HOSTS is not set"),
    ],
)
def test_production_refuses_unsafe_settings(overrides, complaint):
    result = run_manage("check", env=production_env(**overrides))
    assert result.returncode != 0
    assert "Refusing to start in production" in result.stderr
    assert complaint in result.stderr


def test_nonsense_values_fail_loudly():
    result = run_manage("check", env={"DB_POOL_MAX": "lots"})
    assert result.returncode != 0
    assert "DB_POOL_MAX='lots' is not an integer" in result.stderr


def test_secret_can_come_from_a_file(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SAFE_PRODUCTION["SECRET_KEY"])
    env = production_env(SECRET_KEY="<unset>", SECRET_KEY_FILE=str(secret_file))
    assert run_manage("check", env=env).returncode == 0


@pytest.mark.django_db
def test_pool_is_sized_from_the_environment():
    code = (
        "from django.db import connection; connection.ensure_connection(); "
        "pool = connection.pool; print(pool.min_size, pool.max_size, pool.timeout)"
    )
    test_db = connection.settings_dict["NAME"]  # the database pytest created
    env = {
        "DATABASE_URL": settings.DATABASE_URL.rsplit("/", 1)[0] + f"/{test_db}",
        "DB_POOL_MIN": "1",
        "DB_POOL_MAX": "7",
        "DB_POOL_TIMEOUT": "3.5",
    }
    result = run_manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["1", "7", "3.5"]


@pytest.mark.django_db
@pytest.mark.parametrize(("db_jit", "expected"), [(None, "off"), ("true", "on")])
def test_postgres_jit_is_off_unless_asked_for(db_jit, expected):
    code = (
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('SHOW jit'); print(c.fetchone()[0])"
    )
    test_db = connection.settings_dict["NAME"]
    env = {"DATABASE_URL": settings.DATABASE_URL.rsplit("/", 1)[0] + f"/{test_db}"}
    if db_jit is not None:
        env["DB_JIT"] = db_jit
    result = run_manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == expected


def test_embedded_default_is_sqlite_and_local_memory(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.DEBUG)"
    )
    env = {"DATABASE_URL": "", "REDIS_URL": "", "KITSU_VAR_DIR": str(tmp_path)}
    result = run_manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "True",
    ]
    assert (tmp_path / "dev-secret-key").exists()


def test_qcluster_never_uses_the_connection_pool():
    """django-q2 forks workers; a psycopg pool must not be shared across fork()."""
    code = (
        "import sys, os, django; sys.argv = ['manage.py', {command!r}]; "
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'kitsu.settings'); django.setup(); "
        "from django.conf import settings; "
        "print('pool' in settings.DATABASES['default']['OPTIONS'])"
    )
    env = {**os.environ, "DATABASE_URL": settings.DATABASE_URL}
    results = {}
    for command in ("qcluster", "runserver"):
        result = subprocess.run(
            [sys.executable, "-c", code.format(command=command)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        results[command] = result.stdout.strip()
    assert results == {"qcluster": "False", "runserver": "True"}
