#!/usr/bin/env bash
# Run Kitsu in the embedded mode: SQLite under var/, local-memory cache, the demo catalog
# shipped in catalog/demo/, a demo admin, and the API + admin on http://127.0.0.1:8000/.
#   PORT (default 8000), HOST (default 127.0.0.1; 0.0.0.0 to listen on every interface).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .

# The embedded mode is what you get with no service configured.
unset DATABASE_URL REDIS_URL KITSU_ENV
demo_email=admin@kitsu.local
demo_password=kitsu-demo-admin

.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py load_demo_catalog
KITSU_ADMIN_PASSWORD=$demo_password .venv/bin/python manage.py create_admin --email "$demo_email"

host=${HOST:-127.0.0.1}
port=${PORT:-8000}
cat <<MSG

Kitsu (embedded demo) on http://$host:$port/
  API:    http://$host:$port/anime   http://$host:$port/search/anime?q=frieren
  Docs:   http://$host:$port/api/docs/
  Admin:  http://$host:$port/admin/  login $demo_email / $demo_password

MSG
exec .venv/bin/python manage.py runserver "$host:$port"
