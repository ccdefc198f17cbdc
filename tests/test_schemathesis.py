"""The schema is the contract: every operation of ``/api/schema/`` is fuzzed by schemathesis
against a real gunicorn on the test database, anonymously, as a plain user and as an admin.

Each generated request must not get a 5xx, must get a status code its operation documents, and
a body that matches the documented schema. The run is bounded (``MAX_EXAMPLES`` per operation,
plus schemathesis' coverage cases) and deterministic, so CI sees the same requests every time.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import User
from tests.servers import gunicorn

# django_db (not transactional: that would flush the module's data after the first role) so
# that pytest-django sets up the test database the live_api fixture commits to.
pytestmark = [pytest.mark.slow, pytest.mark.django_db]

MAX_EXAMPLES = 15
PASSWORD = "correct horse battery"
CHECKS = ["not_a_server_error", "status_code_conformance", "response_schema_conformance"]

# Operations left out. Each role's run signs in once, and revoking that session would turn
# every later request into a (documented) 401 that tests nothing; tests/accounts covers them.
# Everything else is fuzzed, writes included: logout, refresh and password change only ever
# see generated tokens and passwords, never the real ones.
EXCLUDED_OPERATION_IDS = [
    # DELETE /users/me/sessions, "log out everywhere", revokes the current session too.
    "users_me_sessions_revoke_all",
    # DELETE /users/me/sessions/{session_id}: schemathesis feeds it the ids that
    # GET /users/me/sessions returned, the current session's included.
    "users_me_sessions_destroy",
]


@dataclass(frozen=True)
class LiveApi:
    base_url: str
    headers: dict[str, dict[str, str]]  # role -> request headers


def _sign_in(base_url: str, email: str) -> dict[str, str]:
    response = httpx.post(
        f"{base_url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def live_api(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveApi]:
    """The demo catalog (366 anime, many with blank season, franchise and English title) and
    one account per role, committed to the test database, served by gunicorn. The database is
    flushed afterwards (post_migrate puts the roles back)."""
    log_dir: Path = tmp_path_factory.mktemp("schemathesis")
    with django_db_blocker.unblock():
        call_command("load_demo_catalog", verbosity=0)
        for email, role in (("user@example.com", "user"), ("admin@example.com", "super_admin")):
            user = User.objects.create_user(email=email, password=PASSWORD)
            user.groups.add(Group.objects.get(name=role))
        try:
            # The auth rate limits are raised: 429 is documented, but a run that only sees 429
            # after the first few logins would test nothing else.
            with gunicorn(
                2,
                log_dir,
                LOGIN_IP_RATE="100000/60s",
                LOGIN_FAILURE_RATE="100000/60s",
                REGISTER_IP_RATE="100000/h",
                REFRESH_FAILURE_RATE="100000/60s",
            ) as base_url:
                yield LiveApi(
                    base_url=base_url,
                    headers={
                        "anonymous": {},
                        "user": _sign_in(base_url, "user@example.com"),
                        "admin": _sign_in(base_url, "admin@example.com"),
                    },
                )
        finally:
            call_command("flush", interactive=False, verbosity=0)


def _schemathesis_command(base_url: str, headers: dict[str, str]) -> list[str]:
    """``st run`` against the live server. The CLI, not the pytest plugin: the plugin's lazy
    schema does not work on pytest 9.2 (it writes ``Node._nodeid``, which pytest 9.2 dropped),
    and the CLI is the interface that runs the coverage phase (boundary values, wrong types,
    missing fields) next to the fuzzing one."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base_url}/api/schema/",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",  # the same requests every run (and no example database)
        "--workers",
        "4",
        "--request-timeout",
        "30",
        "--no-color",
        "--output-truncate",
        "false",
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    for operation_id in EXCLUDED_OPERATION_IDS:
        command += ["--exclude-operation-id", operation_id]
    return command


@pytest.mark.parametrize("role", ["anonymous", "user", "admin"])
def test_every_operation_conforms_to_the_schema(
    role: str, live_api: LiveApi, tmp_path: Path
) -> None:
    command = _schemathesis_command(live_api.base_url, live_api.headers[role])
    # cwd: schemathesis keeps a .schemathesis/ cache in its working directory.
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"schemathesis found failures as {role}:\n{output[-20000:]}"
    print(output[-1500:])  # the run's summary, for -s / -rP
    if live_api.headers[role]:  # the run never lost its session, so it really ran signed in
        me = httpx.get(f"{live_api.base_url}/users/me", headers=live_api.headers[role])
        assert me.status_code == 200, me.text
