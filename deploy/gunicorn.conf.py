"""Gunicorn configuration for the Kitsu web workers, read from the environment.

    gunicorn kitsu.wsgi:application -c deploy/gunicorn.conf.py

Used by deploy/systemd/kitsu-web.service and the ``web`` service of deploy/compose.yaml. Every
value has a ``GUNICORN_*`` override (listed in deploy/kitsu.env.example); a value that does not
parse stops gunicorn at start-up instead of falling back silently.

Database connections: every worker process owns one psycopg pool of up to ``DB_POOL_MAX``
connections, shared by its threads. Keep ``DB_POOL_MAX >= GUNICORN_THREADS`` and budget
PostgreSQL for ``workers x DB_POOL_MAX`` per host (docs/deployment.md, "Database connection
pool sizing"). Background jobs never run here: they run in ``manage.py qcluster``.
"""

from __future__ import annotations

import os


def _env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name}={raw!r} is not an integer") from exc
    if value < minimum:
        raise RuntimeError(f"{name}={value} must be >= {minimum}")
    return value


def _env_str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _usable_cpus() -> int:
    """CPUs this process may run on (honours cpusets/affinity, unlike os.cpu_count())."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# Cores + 1, capped. A request is CPU-bound Python (about 1-3 ms of CPU, the database well under
# 1 ms: docs/performance.md), so one process per core keeps the cores busy and the extra one
# covers the moments a process waits on PostgreSQL or Redis; the usual 2 x cores + 1 only adds
# GIL-bound processes that compete for the same cores (and DB_POOL_MAX connections each).
# Set GUNICORN_WORKERS explicitly to go beyond the cap.
_DEFAULT_WORKERS_CAP = 9
_DEFAULT_WORKERS = min(_usable_cpus() + 1, _DEFAULT_WORKERS_CAP)

wsgi_app: str = "kitsu.wsgi:application"
proc_name: str = "kitsu-web"

# Loopback only: nginx on the same host is the only client. The compose file sets
# GUNICORN_BIND=0.0.0.0:8000 inside the container and publishes the port on 127.0.0.1 only.
bind: list[str] = [
    address.strip()
    for address in _env_str("GUNICORN_BIND", "127.0.0.1:8000").split(",")
    if address.strip()
]

workers: int = _env_int("GUNICORN_WORKERS", _DEFAULT_WORKERS, minimum=1)
# gthread: each thread serves one request at a time and holds one pooled DB connection while
# it does, hence DB_POOL_MAX >= GUNICORN_THREADS.
worker_class: str = "gthread"
threads: int = _env_int("GUNICORN_THREADS", 4, minimum=1)

# A request running longer than this is killed (the worker is restarted). Keep it above
# DB_POOL_TIMEOUT (a request waiting for a pooled connection fails first, with a 503) and
# below nginx's proxy_read_timeout (deploy/nginx/kitsu.conf: 35 s).
timeout: int = _env_int("GUNICORN_TIMEOUT", 30, minimum=1)
graceful_timeout: int = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1)
# Idle keep-alive towards nginx: above nginx's upstream keepalive_timeout (4 s), so nginx
# closes first and never reuses a connection gunicorn is closing.
keepalive: int = _env_int("GUNICORN_KEEPALIVE", 5, minimum=0)

# Recycle workers now and then (bounds slow memory growth); the jitter keeps them from all
# restarting at the same moment. 0 disables recycling. Large on purpose: a restart costs a
# worker about a second of CPU (Django start-up) and drops its warm state, and at 1,000 req/s
# the old 1,000 restarted a worker every few seconds (cached list 564 -> 972 req/s with recycling
# off, issue 14). 100,000 +- 10,000 is one restart per worker every few minutes at full load.
max_requests: int = _env_int("GUNICORN_MAX_REQUESTS", 100_000, minimum=0)
max_requests_jitter: int = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 10_000, minimum=0)

# Never preload: the Django connection pool must be created in each worker after the fork,
# not inherited from the master (a pool copied across fork() shares its sockets).
preload_app: bool = False

# Trust X-Forwarded-Proto etc. only from the local nginx. Django itself reads
# X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER), which is why gunicorn must stay unreachable
# from anywhere but nginx.
forwarded_allow_ips: str = _env_str("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs: access log to stdout, errors to stderr (journald or `docker logs` collect both).
# %({x-real-ip}i)s is the client address nginx saw; %(M)s the request time in milliseconds.
accesslog: str = "-"
errorlog: str = "-"
loglevel: str = _env_str("LOG_LEVEL", "info").lower()
access_log_format: str = (
    '%({x-real-ip}i)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s" %({x-request-id}i)s'
)

# Worker heartbeat files on tmpfs: on a disk-backed /tmp, fchmod can stall a worker.
_SHM = "/dev/shm"  # noqa: S108 (a tmpfs for gunicorn's heartbeat files, not a temp file)
worker_tmp_dir: str | None = os.environ.get("GUNICORN_WORKER_TMP_DIR") or (
    _SHM if os.path.isdir(_SHM) and os.access(_SHM, os.W_OK) else None
)

# Gunicorn's control socket (gunicornc) defaults to $HOME/.gunicorn/, which is read-only under
# the systemd hardening; it is off unless a path is given.
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
control_socket_disable: bool = not _control_socket
if _control_socket:
    control_socket: str = _control_socket
