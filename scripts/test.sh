#!/usr/bin/env bash
# Install Kitsu with its development tools into .venv, then run lint, format check, type check
# and the whole test suite against PostgreSQL and Redis.
#   DATABASE_URL  PostgreSQL server to test against (default: local, trust auth as postgres);
#                 Django creates and drops a test_<name> database there.
#   REDIS_URL     Redis server (default: local, db 0); tests only touch keys under
#                 CACHE_KEY_PREFIX (default kitsu-test).
# Extra arguments go to pytest, e.g. ./scripts/test.sh -k search
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"

# The admin browser test drives Debian's Chromium (Playwright never downloads a browser here).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing chromium (Debian package) for the browser test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "NOTE: chromium is not installed (apt-get install chromium); the browser test will skip" >&2
  fi
fi

export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kitsu}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export CACHE_KEY_PREFIX=${CACHE_KEY_PREFIX:-kitsu-test}

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy .
echo "== import layers (import-linter, .importlinter)"
.venv/bin/lint-imports
echo "== pytest (PostgreSQL: ${DATABASE_URL%%\?*}, Redis: $REDIS_URL)"
.venv/bin/pytest "$@"
