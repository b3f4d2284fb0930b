"""Django settings for Anagen.

Everything a deployment changes comes from the environment, so that ``make run`` works with no
configuration at all (SQLite in WAL mode, console e-mail, in-process cache) and a clinic group
points ``DATABASE_URL`` at PostgreSQL and ``REDIS_URL`` at Redis.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("ANAGEN_VAR_DIR", BASE_DIR.parent / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("ANAGEN_DEBUG", False)
# The key that signs sessions and CSRF tokens. A deployment sets ANAGEN_SECRET_KEY (production mode
# refuses to start without it). Without it, an installation makes its own random key once, in
# var/secret_key (readable by its owner only), so no two installations share a key and no key is
# public; only where var/ cannot be written does the published development key remain.
DEFAULT_SECRET_KEY = "dev-only-insecure-key-change-me-for-any-real-clinic-0123456789"


def _installation_key(path: Path) -> str:
    import secrets

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the first process to start writes it
    except FileExistsError:
        key = path.read_text().strip()
        return key if len(key) >= 50 else DEFAULT_SECRET_KEY
    except OSError:
        return DEFAULT_SECRET_KEY
    key = secrets.token_urlsafe(64)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


SECRET_KEY = os.environ.get("ANAGEN_SECRET_KEY") or _installation_key(VAR_DIR / "secret_key")
# ANAGEN_ENV=production: refuse to start with the public development key or with DEBUG on,
# and turn on HTTPS-only cookies, HSTS and the HTTPS redirect (see the end of this file).
ANAGEN_ENV = os.environ.get("ANAGEN_ENV", "development").strip().lower()
PRODUCTION = ANAGEN_ENV == "production"
ALLOWED_HOSTS = [h for h in os.environ.get("ANAGEN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("ANAGEN_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "anagen.audit",  # before auditlog: its `auditlogflush` command replaces auditlog's with a refusal
    "auditlog",
    "axes",
    "anagen.core",
    "anagen.accounts",
    "anagen.intake",
    "anagen.patients",
    "anagen.screening",
    "anagen.scheduling",
    "anagen.treatments",
    "anagen.assessments",
    "anagen.outcomes",
    "anagen.studies",
    "anagen.fhir",
    "anagen.api",
    "anagen.demo",
    "anagen.jobs",
    "ninja",  # its templates and static files: the API docs page works offline
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "anagen.api.auth.BearerTokenMiddleware",
    "anagen.audit.middleware.AuditContextMiddleware",
    "anagen.core.middleware.ClinicTimezoneMiddleware",  # pages in the clinic's local time
    "axes.middleware.AxesMiddleware",
    "anagen.core.middleware.SecurityHeadersMiddleware",  # CSP, no-store on staff pages and the API
    "anagen.accounts.throttle.AddressThrottleMiddleware",  # 429 to an address spraying passwords
]

ROOT_URLCONF = "anagen.urls"
WSGI_APPLICATION = "anagen.wsgi.application"

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
                "anagen.core.context_processors.staff",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# PostgreSQL connections the whole installation may hold: web processes (WEB_CONCURRENCY) and
# task worker processes (ANAGEN_WORKER_PROCESSES) share this cap, each process pooling its part.
# 0 turns pooling off (one persistent connection per thread instead).
ANAGEN_DB_POOL_MAX = int(os.environ.get("ANAGEN_DB_POOL_MAX", "40"))
WEB_CONCURRENCY = int(os.environ.get("WEB_CONCURRENCY", "2"))
ANAGEN_WEB_THREADS = int(os.environ.get("ANAGEN_WEB_THREADS", "4"))
ANAGEN_WORKER_PROCESSES = int(os.environ.get("ANAGEN_WORKER_PROCESSES", "1"))
ANAGEN_DB_POOL_PER_PROCESS = max(1, ANAGEN_DB_POOL_MAX // max(1, WEB_CONCURRENCY + ANAGEN_WORKER_PROCESSES))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and ANAGEN_DB_POOL_MAX > 0:
        # A bounded psycopg pool per process (persistent connections and a pool exclude each other).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1, "max_size": ANAGEN_DB_POOL_PER_PROCESS, "timeout": 20}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("ANAGEN_SQLITE_PATH", str(VAR_DIR / "anagen.sqlite3")),
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; IMMEDIATE takes the write
                # lock at BEGIN so two bookings serialize instead of failing on upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache (login throttling, intake rate limit) ---------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": os.environ.get("ANAGEN_CACHE_PREFIX", "anagen")}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): five failures for one account from one address lock it for
# fifteen minutes; the lockout page tells the person what to do.
AXES_FAILURE_LIMIT = int(os.environ.get("ANAGEN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False
AXES_USERNAME_FORM_FIELD = "username"  # the login form posts the e-mail as "username"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- i18n / time ------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True  # stored in UTC, shown in each clinic's timezone
# The clinic's one date format (14/03/2026, 14/03/2026 09:30): anagen/formats/en_GB/formats.py.
FORMAT_MODULE_PATH = ["anagen.formats"]

# --- files ------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("ANAGEN_MEDIA_ROOT", VAR_DIR / "media"))
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Largest phototrichogram or clinical photograph accepted, checked before the file is decoded.
ANAGEN_MAX_IMAGE_BYTES = int(os.environ.get("ANAGEN_MAX_IMAGE_BYTES", str(25 * 1024 * 1024)))

# --- background tasks (anagen.jobs, on Huey) ----------------------------------------------------
# Jobs go on a queue that `anagen worker` (started by `anagen serve`) runs: SQLite storage in
# var/tasks.sqlite3 by default, Redis with ANAGEN_TASKS_URL=redis://host:6379/0 (several
# machines). ANAGEN_TASKS_EAGER=1 runs each job inline instead (tests, debugging).
ANAGEN_TASKS_EAGER = _env_bool("ANAGEN_TASKS_EAGER", False)
ANAGEN_TASKS_URL = os.environ.get("ANAGEN_TASKS_URL", "")
ANAGEN_TASKS_NAME = os.environ.get("ANAGEN_TASKS_NAME", "anagen")
ANAGEN_TASKS_MAX_ATTEMPTS = int(os.environ.get("ANAGEN_TASKS_MAX_ATTEMPTS", "3"))
ANAGEN_TASKS_RETRY_DELAY = float(os.environ.get("ANAGEN_TASKS_RETRY_DELAY", "10"))  # doubled per attempt
ANAGEN_TASKS_STALE_SECONDS = int(os.environ.get("ANAGEN_TASKS_STALE_SECONDS", "1800"))
ANAGEN_JOBS_KEEP_DAYS = int(os.environ.get("ANAGEN_JOBS_KEEP_DAYS", "30"))
if not ANAGEN_TASKS_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- e-mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("ANAGEN_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("ANAGEN_FROM_EMAIL", "Anagen <no-reply@anagen.example>")

# --- scheduling -------------------------------------------------------------------------------
# Video consultations get this base URL plus an unguessable room id.
VIDEO_MEETING_BASE_URL = os.environ.get("ANAGEN_VIDEO_MEETING_BASE_URL", "https://meet.anagen.example/")

# --- audit ------------------------------------------------------------------------------------
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False

# --- intake -----------------------------------------------------------------------------------
# Public forms: submissions allowed per client address per hour.
INTAKE_RATE_LIMIT_PER_HOUR = int(os.environ.get("ANAGEN_INTAKE_RATE_LIMIT", "10"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ANAGEN_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "axes": {"level": "WARNING"}},
}
AUDITLOG_CID_GETTER = "anagen.audit.context.current_request_id"

# --- hardening (docs/security.md) -------------------------------------------------------------
# Password spraying: this many failed logins from one address in AXES_COOLOFF_TIME, across any
# usernames, answer 429 to that address (the per-account limit above still applies).
ANAGEN_LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("ANAGEN_LOGIN_FAILURES_PER_ADDRESS", "20"))
# Days a new API token lasts unless `anagen token create --days N` says otherwise.
ANAGEN_TOKEN_DAYS = int(os.environ.get("ANAGEN_TOKEN_DAYS", "90"))
# Outcomes across patients: a cell with fewer patients than this is shown as the marker only.
ANAGEN_OUTCOMES_MIN_CELL = int(os.environ.get("ANAGEN_OUTCOMES_MIN_CELL", "5"))
# Coordinators run the front desk; they see clinical photographs only if a clinic group says so.
ANAGEN_COORDINATORS_SEE_PHOTOS = _env_bool("ANAGEN_COORDINATORS_SEE_PHOTOS", False)
# Content-Security-Policy for every page: scripts and styles from our own static files only.
ANAGEN_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
              "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
              "frame-ancestors 'none'")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if PRODUCTION:
    from django.core.exceptions import ImproperlyConfigured

    if not os.environ.get("ANAGEN_SECRET_KEY") or SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "ANAGEN_ENV=production needs its own secret key: set ANAGEN_SECRET_KEY to 50 or more random "
            "characters (python -c 'import secrets; print(secrets.token_urlsafe(50))').")
    if DEBUG:
        raise ImproperlyConfigured("ANAGEN_ENV=production refuses to start with ANAGEN_DEBUG on: it would show "
                                   "tracebacks and settings to anyone. Unset ANAGEN_DEBUG.")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("ANAGEN_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("ANAGEN_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if _env_bool("ANAGEN_BEHIND_PROXY", False):  # a TLS-terminating proxy sets X-Forwarded-Proto
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
