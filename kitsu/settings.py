"""Kitsu settings, read from the environment (see deploy/kitsu.env.example).

With nothing set, Kitsu runs in the embedded mode: SQLite file under ``var/``, local-memory
cache, DEBUG on and a generated development secret. ``DATABASE_URL`` (PostgreSQL) and
``REDIS_URL`` switch to the production services; ``KITSU_ENV=production`` refuses to start
with any setting that is unsafe for more than one process or for the internet.
"""

from __future__ import annotations

import secrets
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from kitsu.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("KITSU_VAR_DIR", str(BASE_DIR / "var")))

KITSU_ENV = env_str("KITSU_ENV", "development").lower()
if KITSU_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"KITSU_ENV={KITSU_ENV!r}: use 'development' or 'production'")
PRODUCTION = KITSU_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)


def _development_secret() -> str:
    """A random secret, generated once per checkout and kept in var/ (never in production)."""
    path = VAR_DIR / "dev-secret-key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    secret = "dev-insecure-" + secrets.token_urlsafe(50)
    path.write_text(secret, encoding="utf-8")
    return secret


SECRET_KEY = env_str("SECRET_KEY") or _development_secret()
# JWTs are signed with their own key (rotating it logs everyone out, nothing else).
JWT_SIGNING_KEY = env_str("JWT_SIGNING_KEY") or f"jwt-{SECRET_KEY}"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "django_ratelimit",
    "accounts",
    "catalog",
    "library",
    "ingestion",
]

MIDDLEWARE = [
    # Outermost: whatever answer did not say otherwise is not stored by any cache.
    "kitsu.middleware.DefaultCacheControlMiddleware",
    "kitsu.middleware.TrustedProxyMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # After CORS, so the browser can read its 400 (contract A.16: CORS on every answer).
    "kitsu.middleware.QueryStringGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /static/ (admin, Swagger UI, ReDoc) straight from gunicorn, before sessions and the rest.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kitsu.urls"
WSGI_APPLICATION = "kitsu.wsgi.application"
ASGI_APPLICATION = "kitsu.asgi.application"
# The frontend calls slashless paths; Django's 301 would drop POST bodies (contract A.1).
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
# django-q2's qcluster forks worker processes after the parent has used its connections, and a
# psycopg pool must never cross a fork (children would share the parent's sockets): the
# cluster opens plain connections instead.
DB_POOL = env_bool("DB_POOL", default=True) and "qcluster" not in sys.argv[1:2]
DB_POOL_MIN = env_int("DB_POOL_MIN", 2, minimum=0)
DB_POOL_MAX = env_int("DB_POOL_MAX", 10, minimum=1)
# An unreachable PostgreSQL must fail a request fast (503 SERVICE_UNAVAILABLE, kitsu/errors.py)
# instead of holding a worker: a request waits at most DB_POOL_TIMEOUT for a pooled connection
# (a healthy server hands one over in milliseconds), and opening a connection gives up after
# DB_CONNECT_TIMEOUT, which also covers a server that accepts TCP but never answers. libpq and
# psycopg count it in whole seconds, 2 at least; without the pool (DB_POOL=false) it is the
# bound a request waits.
DB_POOL_TIMEOUT = env_float("DB_POOL_TIMEOUT", 1.0)
if DB_POOL_TIMEOUT <= 0:
    raise ImproperlyConfigured("DB_POOL_TIMEOUT must be > 0 (seconds)")
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 2, minimum=2)
# Trigram threshold for typo-tolerant search (see catalog.selectors.anime_search).
SEARCH_TRIGRAM_THRESHOLD = env_float("SEARCH_TRIGRAM_THRESHOLD", 0.3)
# PostgreSQL's JIT compiles any plan whose estimate passes jit_above_cost; for the short queries
# of a web app that is pure overhead (the admin "has problems" filter at 50,000 anime spent
# 410 of its 480 ms compiling; docs/performance.md). Off unless DB_JIT=true.
DB_JIT = env_bool("DB_JIT", False)

if DATABASE_URL:
    _db: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL, conn_max_age=0))
    if _db["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...)")
    _options: dict[str, Any] = {
        # pg_trgm reads this placeholder when it loads; `%>>` then matches typos ("freiren").
        # `%` (the search word table's lookup) reads the plain similarity threshold.
        "options": f"-c pg_trgm.strict_word_similarity_threshold={SEARCH_TRIGRAM_THRESHOLD}"
        f" -c pg_trgm.similarity_threshold={SEARCH_TRIGRAM_THRESHOLD}"
        f" -c jit={'on' if DB_JIT else 'off'}",
        "connect_timeout": DB_CONNECT_TIMEOUT,
    }
    if DB_POOL:
        if DB_POOL_MIN > DB_POOL_MAX:
            raise ImproperlyConfigured("DB_POOL_MIN must not exceed DB_POOL_MAX")
        # One pool per process: total connections = processes x DB_POOL_MAX (docs/deployment.md).
        _options["pool"] = {
            "min_size": DB_POOL_MIN,
            "max_size": DB_POOL_MAX,
            "timeout": DB_POOL_TIMEOUT,
        }
    _db["OPTIONS"] = {**_db.get("OPTIONS", {}), **_options}
    _db["CONN_MAX_AGE"] = 0  # the pool owns connection reuse; Django requires 0 with it
    _db["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", False)
    DATABASES = {"default": _db}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "kitsu.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "kitsu")
# Redis answers in well under a millisecond; a call that takes longer than this is an outage.
# One value for both aliases: django-redis keeps one connection pool per URL, shared by every
# alias with that URL, so per-alias socket timeouts would silently follow whichever connected
# first.
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.3)
REDIS_CONNECT_TIMEOUT = env_float("REDIS_CONNECT_TIMEOUT", 0.3)
# After a failed call the "default" alias skips Redis for this long (kitsu/cache.py).
CACHE_BREAKER_SECONDS = env_float("CACHE_BREAKER_SECONDS", 10.0)
if REDIS_URL:
    if REDIS_SOCKET_TIMEOUT <= 0 or REDIS_CONNECT_TIMEOUT <= 0:
        raise ImproperlyConfigured("REDIS_SOCKET_TIMEOUT and REDIS_CONNECT_TIMEOUT must be > 0")
    _redis_options = {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        "SOCKET_CONNECT_TIMEOUT": REDIS_CONNECT_TIMEOUT,
        "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
    }
    CACHES = {
        # Catalog reads are cached here; if Redis is down or hangs the catalog keeps serving from
        # the DB: errors are misses, and after one the circuit breaker skips Redis for a while.
        "default": {
            "BACKEND": "kitsu.cache.CircuitBreakerRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                **_redis_options,
                "IGNORE_EXCEPTIONS": True,
                "CIRCUIT_BREAKER_SECONDS": CACHE_BREAKER_SECONDS,
            },
        },
        # Rate limits and locks: shared by every process and never silently ignored.
        "shared": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": _redis_options,
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "d"},
        "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "s"},
    }
RATELIMIT_USE_CACHE = "shared"
# /health/ready runs its checks (database, cache, queue) concurrently and answers 503 for any
# that has not finished by then: a probe gets its answer within this bound, even when
# PostgreSQL and Redis both hang (kitsu/health.py).
HEALTH_READY_TIMEOUT = env_float("HEALTH_READY_TIMEOUT", 1.5)
if HEALTH_READY_TIMEOUT <= 0:
    raise ImproperlyConfigured("HEALTH_READY_TIMEOUT must be > 0 (seconds)")
# The display title's language (catalog/titles.py: one rule for the demo and the sync).
CATALOG_TITLE_LANGUAGE = env_str("CATALOG_TITLE_LANGUAGE", "en")
if CATALOG_TITLE_LANGUAGE not in ("en", "ru", "romaji"):
    raise ImproperlyConfigured("CATALOG_TITLE_LANGUAGE must be en, ru or romaji")
CATALOG_CACHE_SECONDS = env_int("CATALOG_CACHE_SECONDS", 30, minimum=0)
# New-episode notifications (library.notifications): purged this many days after they arrive.
NOTIFICATIONS_RETENTION_DAYS = env_int("NOTIFICATIONS_RETENTION_DAYS", 90, minimum=1)
# HTTP caching of public catalog reads (Cache-Control on their 200 answers, for nginx and
# browsers): fresh for MAX_AGE seconds, then served stale while revalidating for STALE more.
# Every other answer is "private, no-store" (kitsu.middleware.DefaultCacheControlMiddleware).
CATALOG_HTTP_MAX_AGE = env_int("CATALOG_HTTP_MAX_AGE", 5, minimum=0)
CATALOG_HTTP_STALE_SECONDS = env_int("CATALOG_HTTP_STALE_SECONDS", 30, minimum=0)
# Anime documents (catalog.documents) the triggers cleared are rebuilt after each catalog
# commit, up to this many; reads rebuild any left over (0: only reads rebuild).
CATALOG_DOCUMENTS_EAGER_LIMIT = env_int("CATALOG_DOCUMENTS_EAGER_LIMIT", 200, minimum=0)
# List pages and details run SQL the ORM compiled once per shape (catalog.pages, kitsu.sql);
# off: they run their querysets (the same answers, more CPU per request).
CATALOG_COMPILED_SQL = env_bool("CATALOG_COMPILED_SQL", True)

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Users imported from the old backend's database (manage.py import_legacy): its bcrypt
    # hashes as they were, checked over the SHA-256 hex pre-hash, then over the plain password.
    "accounts.hashers.LegacyBcryptPasswordHasher",
    # Users imported from the old backend: bcrypt over a SHA-256 pre-hash, and plain bcrypt.
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 30, minimum=1)),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
}
REFRESH_TOKEN_LIFETIME = timedelta(days=env_int("JWT_REFRESH_DAYS", 14, minimum=1))
# The old FastAPI backend's database, read (never written) by `manage.py import_legacy`
# when no --source is given (docs/cutover.md).
LEGACY_DATABASE_URL = env_str("LEGACY_DATABASE_URL", "")

# Client IP: REMOTE_ADDR, or the address TRUSTED_PROXY_COUNT hops back in X-Forwarded-For
# (set it to the number of reverse proxies in front of gunicorn; 0 trusts no header).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# Auth rate limits (django-ratelimit on the shared Redis cache). "count/period", period in
# s/m/h or "Ns" (e.g. 5/60s).
LOGIN_FAILURE_RATE = env_str("LOGIN_FAILURE_RATE", "5/60s")  # per (client IP, e-mail)
LOGIN_IP_RATE = env_str("LOGIN_IP_RATE", "30/60s")  # every attempt, per client IP
REGISTER_IP_RATE = env_str("REGISTER_IP_RATE", "10/h")
REFRESH_FAILURE_RATE = env_str("REFRESH_FAILURE_RATE", "5/60s")  # bad refresh tokens, per IP

# --- I18N / static --------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# WhiteNoise serves STATIC_ROOT from the app, so the admin and the API docs have their CSS
# behind gunicorn alone; nginx may still serve /static/ from disk in front of it. In production
# the files carry content hashes in their names (cached for ten years, `immutable`) and have
# pre-compressed .gz copies; that storage needs the manifest `collectstatic` writes, so the
# embedded mode and the tests (which never run collectstatic) keep Django's plain storage.
# collectstatic itself always writes hashed names and the manifest, so a tree collected in
# any mode (e.g. the image build, deploy/Dockerfile) serves production.
STATIC_MANIFEST = env_bool(
    "STATIC_MANIFEST", default=PRODUCTION or "collectstatic" in sys.argv[1:2]
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Without collected files (development, tests) WhiteNoise finds them in the apps, per request
# (its development mode; it then also tolerates a STATIC_ROOT that does not exist yet).
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = not STATIC_MANIFEST

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # orjson (drf-orjson-renderer): the same compact UTF-8 JSON as DRF's JSONRenderer, several
    # times faster to encode; the catalog's anime documents are encoded with orjson too.
    "DEFAULT_RENDERER_CLASSES": ["drf_orjson_renderer.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["kitsu.parsers.JSONParser"],
    # Deny by default; public catalog views opt out explicitly (and ignore Authorization).
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.SessionJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "kitsu.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "kitsu.api.KitsuAutoSchema",
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kitsu API",
    "DESCRIPTION": "Anime catalog, accounts, library and player API for the Kitsu frontend.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["kitsu.api.schema_slashless_paths"],
    "ENUM_NAME_OVERRIDES": {
        "AnimeKindEnum": "catalog.models.Anime.Kind",
        "GenreKindEnum": "catalog.models.Genre.Kind",
        "AnimeStatusEnum": "catalog.models.Anime.Status",
        "LibraryStatusEnum": "library.models.LibraryEntry.Status",
        "AniListStatusEnum": "library.selectors.ANILIST_STATUS_CHOICES",
    },
}
# Pagination limits (contract B.2): limit 1..100; deeper than KITSU_MAX_OFFSET use the cursor.
API_MAX_LIMIT = 100
API_MAX_OFFSET = env_int("KITSU_MAX_OFFSET", 10_000, minimum=0)

# --- CORS (contract A.16: every path, preflight included) --------------------------------------
_origins = env_list(
    "ALLOWED_ORIGINS", [] if PRODUCTION else ["http://localhost:3000", "http://127.0.0.1:3000"]
)
CORS_ALLOW_ALL_ORIGINS = "*" in _origins
CORS_ALLOWED_ORIGINS = [origin for origin in _origins if origin != "*"]
CORS_ALLOW_METHODS = ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"]
CORS_EXPOSE_HEADERS = ["Link", "ETag", "Retry-After"]
CORS_PREFLIGHT_MAX_AGE = 86400

# --- Background jobs (django-q2 on the ORM broker: jobs are rows in PostgreSQL) -------------
Q_TIMEOUT = env_int("Q_TIMEOUT", 3600, minimum=1)  # a daily catalog sync fits in it
Q_RETRY = env_int("Q_RETRY", 3900, minimum=2)  # must exceed the timeout: see library notes
if Q_TIMEOUT >= Q_RETRY:
    raise ImproperlyConfigured("Q_TIMEOUT must be lower than Q_RETRY (else jobs run twice)")
Q_CLUSTER = {
    "name": "kitsu",
    "orm": "default",  # never a separate alias (django-q2 issue 293: duplicate schedules)
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": Q_TIMEOUT,
    "retry": Q_RETRY,
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3, minimum=1),
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    "sync": env_bool("Q_SYNC", False),
}

# --- Upstream sources (ingestion) -------------------------------------------------------------
# KITSU_UPSTREAM_URL points every client at one server (the fake upstream of the tests and the
# offline demo: python -m fake_upstream); otherwise each host is set on its own.
_UPSTREAM = env_str("KITSU_UPSTREAM_URL").rstrip("/")
SHIKIMORI_URL = env_str("SHIKIMORI_URL", _UPSTREAM or "https://shikimori.one").rstrip("/")
# Shikimori requires a User-Agent that names the application.
SHIKIMORI_USER_AGENT = env_str(
    "SHIKIMORI_USER_AGENT", "Kitsu/0.1 (open-source anime catalog; +https://github.com/kitsu)"
)
SHIKIMORI_RPS = env_int("SHIKIMORI_RPS", 5, minimum=1)  # Shikimori: 5 rps and 90 rpm per IP
SHIKIMORI_RPM = env_int("SHIKIMORI_RPM", 90, minimum=1)
# <UPSTREAM>_RATE_LIMITS overrides RPS/RPM with any windows in the `limits` notation, e.g.
# "5/second;20 per 10 seconds" (ingestion/http.py enforces every one as a moving window).
SHIKIMORI_RATE_LIMITS = env_str("SHIKIMORI_RATE_LIMITS", "")
KODIK_URL = env_str("KODIK_URL", _UPSTREAM or "https://kodik-api.com").rstrip("/")
KODIK_TOKEN = env_str("KODIK_TOKEN", "")
KODIK_RPS = env_int("KODIK_RPS", 3, minimum=1)
KODIK_RPM = env_int("KODIK_RPM", 120, minimum=1)
KODIK_RATE_LIMITS = env_str("KODIK_RATE_LIMITS", "")
# aniwatch-api compatible stream provider: off unless configured.
STREAM_URL = env_str("STREAM_URL", f"{_UPSTREAM}/api/v2/hianime" if _UPSTREAM else "").rstrip("/")
STREAM_RPS = env_int("STREAM_RPS", 5, minimum=1)
STREAM_RPM = env_int("STREAM_RPM", 120, minimum=1)
STREAM_RATE_LIMITS = env_str("STREAM_RATE_LIMITS", "")
UPSTREAM_TIMEOUT = env_float("UPSTREAM_TIMEOUT", 10.0)
UPSTREAM_RETRIES = env_int("UPSTREAM_RETRIES", 3, minimum=0)
UPSTREAM_BACKOFF = env_float("UPSTREAM_BACKOFF", 1.0)  # first retry delay, doubled each time
UPSTREAM_MAX_WAIT = env_float("UPSTREAM_MAX_WAIT", 60.0)  # longest single wait we accept
# Upstreams count a request when it arrives, a little (on a loaded host: a lot) after the
# limiter admitted it: every window is kept this much longer, so that jitter never pushes a
# window over its limit. Cheap: past the first burst the per-minute limit is what binds.
UPSTREAM_RATE_MARGIN = env_float("UPSTREAM_RATE_MARGIN", 0.5)

# --- Security ------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
X_FRAME_OPTIONS = "DENY"
# The API never uses cookies; only the Django admin checks CSRF (the envelope elsewhere).
CSRF_FAILURE_VIEW = "kitsu.errors.csrf_failure"

SILENCED_SYSTEM_CHECKS: list[str] = []
if not PRODUCTION:
    # The embedded mode uses a per-process cache on purpose; production refuses it below.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]


MIN_KEY_BYTES = 32  # HS256 wants a key at least as long as its 256-bit output


def _unsafe_production_settings() -> list[str]:
    problems = []
    if not env_str("SECRET_KEY") or SECRET_KEY.startswith("dev-insecure-"):
        problems.append("SECRET_KEY is not set (the generated development secret is refused)")
    if not env_str("JWT_SIGNING_KEY") or JWT_SIGNING_KEY == SECRET_KEY:
        problems.append("JWT_SIGNING_KEY is not set (a key of its own, not SECRET_KEY)")
    for name, key in (("SECRET_KEY", SECRET_KEY), ("JWT_SIGNING_KEY", JWT_SIGNING_KEY)):
        if env_str(name) and len(key.encode()) < MIN_KEY_BYTES:
            problems.append(f"{name} is shorter than {MIN_KEY_BYTES} bytes")
    if DEBUG:
        problems.append("DEBUG is on")
    if not DATABASE_URL:
        problems.append("DATABASE_URL is not set (SQLite is for the embedded mode only)")
    if not REDIS_URL:
        problems.append("REDIS_URL is not set (a per-process cache breaks shared rate limits)")
    if CORS_ALLOW_ALL_ORIGINS:
        problems.append("ALLOWED_ORIGINS contains '*' (list the frontend origins explicitly)")
    if not env_str("ALLOWED_HOSTS"):
        problems.append("ALLOWED_HOSTS is not set")
    return problems


if PRODUCTION and (_problems := _unsafe_production_settings()):
    raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(_problems))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # httpx logs every request URL at INFO, and Kodik's token travels in the query string.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
