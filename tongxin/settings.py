"""Tongxin settings, read from environment variables.

SQLite at ``var/tongxin.sqlite3`` unless ``DATABASE_URL`` is set (PostgreSQL, psycopg 3).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TONGXIN_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def _secret_from_var(name: str) -> str:
    """A secret generated once into ``var/`` (never committed) for the embedded default."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = _env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY") or _secret_from_var("secret_key")
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Demo accounts skip 2FA only while this is on (make run sets it).
TONGXIN_DEMO = _env_bool("TONGXIN_DEMO")

# The data key (tongxin/lib/crypto.py, docs/data-key.md): TONGXIN_DATA_KEY in the environment,
# else this file, else var/data_key. With DEBUG off the application refuses to serve with a key
# inside VAR_DIR, beside the data it opens, unless the risk is accepted here (the demo does).
TONGXIN_DATA_KEY_FILE = os.environ.get("TONGXIN_DATA_KEY_FILE", "")
TONGXIN_ACCEPT_KEY_IN_DATA_DIR = _env_bool("TONGXIN_ACCEPT_KEY_IN_DATA_DIR")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # runserver serves static files through whitenoise too, compressed and cached as in production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks_db",
    "tongxin",
    "tongxin.core",
    "tongxin.geo",
    "tongxin.accounts",
    "tongxin.audit",
    "tongxin.workdays",
    "tongxin.notices",
    "tongxin.exports",
    "tongxin.registry",
    "tongxin.interop",
    "tongxin.protection",
    "tongxin.visits",
    "tongxin.benefits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed, except answers to requests other sites start (BREACH: decision 010);
    # static files come compressed from whitenoise above.
    "tongxin.core.compression.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tongxin.accounts.middleware.SessionRenewalMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tongxin.accounts.middleware.SignInStepsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tongxin.urls"
# A refused form token answers the Chinese 403 page with the navigation, not Django's English.
CSRF_FAILURE_VIEW = "tongxin.core.errors.csrf_failure"
WSGI_APPLICATION = "tongxin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tongxin" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tongxin.accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "tongxin.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # However SQLite is named (unset or sqlite:///…). WAL: readers never wait for the writer.
    # IMMEDIATE: a transaction takes the write lock at BEGIN, so two writers never deadlock on
    # upgrading a read lock (SQLite answers that "database is locked" at once, without waiting).
    # The busy timeout lets writers queue for the lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        **DATABASES["default"].get("OPTIONS", {}),
    }
    # One connection per worker kept between requests, as for PostgreSQL: opening the file and
    # running the pragmas above cost a third of a small page's database time (issue 12).
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The hot pages kept until the data changes, in each worker's memory (decision 024); 0 makes
# every page afresh.
TONGXIN_PAGE_CACHE = _env_bool("TONGXIN_PAGE_CACHE", True)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "TIMEOUT": 600,
        "OPTIONS": {"MAX_ENTRIES": 500},
    },
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "tongxin.accounts.backends.AccountBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "name", "phone", "email")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "tongxin.accounts.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# Idle timeout: a session dies after 30 idle minutes. Its expiry is pushed back at most once a
# minute (tongxin.accounts.middleware.SessionRenewalMiddleware), not by a database write on every
# request: it ends between 29 and 30 minutes after the last request (issue 12).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", 30 * 60))
SESSION_SAVE_EVERY_REQUEST = False
SESSION_ENGINE = "tongxin.accounts.sessions"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# HTTPS=1 in production (docs/deploy.md): cookies only over TLS, every plain-HTTP request sent
# to HTTPS, and browsers told to use nothing else for a year (HSTS). Behind nginx, which ends TLS,
# BEHIND_PROXY=1 trusts the X-Forwarded-Proto and X-Real-IP it sets (and only it may reach
# gunicorn: a Unix socket or 127.0.0.1).
HTTPS = _env_bool("HTTPS")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", default=HTTPS)
# The health check answers the monitor on the server itself over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
TONGXIN_BEHIND_PROXY = _env_bool("BEHIND_PROXY")
if TONGXIN_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
# Lock the account, not the address: a county office sits behind one NAT address, and one
# colleague's typos must not lock everyone out (docs/decisions/004-sign-in-protection.md).
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the lockout by address, above. security.W021 asks for HSTS preload: the
# browsers' preload list takes a whole registered domain from its owner, and a county's site is
# a name under its government's domain (decision 020).
SILENCED_SYSTEM_CHECKS = ["axes.W006", "security.W021"]
AXES_RESET_ON_SUCCESS = True
# A lockout ends 30 minutes after it began: more tries meanwhile do not prolong it (else anyone
# who knows a username could keep its owner out for good).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Our login views render the lockout themselves (same page, same words for known and unknown
# names); the middleware just passes their response through.
AXES_LOCKOUT_CALLABLE = "tongxin.accounts.services.lockout_passthrough"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_DISABLE_ACCESS_LOG = True

OTP_TOTP_ISSUER = "Tongxin"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "tongxin" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or VAR_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Pico's stylesheet comes from the npm registry at setup (``npm ci``), never committed, and is
# served from node_modules. Charts are drawn on the server as SVG (decision 013): no bundle.
PICO_DIR = BASE_DIR / "node_modules" / "@picocss" / "pico" / "css"
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [BASE_DIR / "tongxin" / "static"]
STATICFILES_DIRS += [("vendor/pico", PICO_DIR)] if PICO_DIR.is_dir() else []
# In production (DEBUG off, as `make run`) collectstatic writes each file under a name carrying
# its hash, with gzip copies, and whitenoise serves them with a year's caching: a returning
# browser asks for nothing it has. Only DEBUG serves the source folders, as they change.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = DEBUG

# Content Security Policy: nothing from outside, no inline scripts.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Notifications are also e-mailed to recipients with an address. EMAIL=smtp (the default with
# DEBUG off) sends through EMAIL_HOST; EMAIL=off sends nothing, deliberately (the notifications
# stay on the site); EMAIL=console (the default with DEBUG or the demo) prints them.
EMAIL = os.environ.get("EMAIL", "console" if DEBUG or TONGXIN_DEMO else "smtp")
_MAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "off": "django.core.mail.backends.dummy.EmailBackend",
}
MAILERS: dict[str, dict[str, object]] = {"default": {"BACKEND": _MAIL_BACKENDS[EMAIL]}}
if EMAIL == "smtp":
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "25")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": _env_bool("EMAIL_USE_TLS"),
        "use_ssl": _env_bool("EMAIL_USE_SSL"),
        "timeout": 20,
    }
elif EMAIL == "off":
    # "No e-mail" is a decision, not a development backend left in by mistake.
    SILENCED_SYSTEM_CHECKS += ["mail.E001"]
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tongxin@localhost")

# Background work (ledger checks and imports) waits in the database until `manage.py db_worker`
# (started by `make run` beside the web server) runs it: nothing heavy runs in a web process.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["knox.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON with a size and a nesting limit; errors by field in Chinese, never a 500.
    "DEFAULT_PARSER_CLASSES": ["tongxin.core.api_input.JSONParser"],
    "EXCEPTION_HANDLER": "tongxin.core.api_input.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# A password an administrator hands over (a new account, a reset) works for one sign-in, which
# sets the person's own, and only for this many hours (decision 015).
TONGXIN_ONE_TIME_PASSWORD_HOURS = int(os.environ.get("ONE_TIME_PASSWORD_HOURS", "72"))
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=int(os.environ.get("API_TOKEN_HOURS", 10))),
    "AUTO_REFRESH": True,
    "TOKEN_LIMIT_PER_USER": 20,
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tongxin API",
    "DESCRIPTION": "童心 — 农村留守儿童和困境儿童关爱服务信息系统 API (v1)",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and its docs page describe the API; they hold no data, so they are public.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # 401 and 400 where they apply, documented once for every operation.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tongxin.core.api_schema.document_shared_answers",
    ],
}

# Logs go to standard error (journald under systemd). LOG_FORMAT=json (the default with DEBUG
# off) writes one JSON object a line with no exception message text and no query string
# (tongxin/core/logging.py); LOG_FORMAT=text reads better at a terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "tongxin.core.logging.JSONFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

TONGXIN_VERBOSE_NAME = _("Tongxin")

# An export of more rows than this is written by the background worker (tongxin/exports).
TONGXIN_EXPORT_INLINE_ROWS = int(os.environ.get("TONGXIN_EXPORT_INLINE_ROWS", "5000"))
# The most full ID numbers one user may export in a day (counted from the audit trail, so that
# it holds across processes); an export that would pass it is refused whole.
TONGXIN_FULL_ID_EXPORT_DAILY_CAP = int(os.environ.get("TONGXIN_FULL_ID_EXPORT_DAILY_CAP", "2000"))
# How many ID numbers one user may look up in an hour to ask for a transfer (counted from the
# audit trail, across gunicorn workers).
TONGXIN_TRANSFER_LOOKUPS_PER_HOUR = int(os.environ.get("TONGXIN_TRANSFER_LOOKUPS_PER_HOUR", "10"))

# The audit trail's daily anchors (decision 016): appended to by `manage.py audit_anchor`,
# checked by `manage.py audit_verify`. Keep exported copies away from the server.
TONGXIN_AUDIT_ANCHOR_FILE = Path(
    os.environ.get("TONGXIN_AUDIT_ANCHOR_FILE") or VAR_DIR / "audit_anchors.txt"
)
# PostgreSQL: the runtime role the application connects as (docs/deploy-database.md). When set,
# every `migrate` (run as the owner) grants it what it needs, and no more, on the new tables.
TONGXIN_DB_RUNTIME_ROLE = os.environ.get("TONGXIN_DB_RUNTIME_ROLE", "")

# A checked ledger nobody imported has its file (full ID numbers) deleted after this many days.
TONGXIN_LEDGER_KEEP_DAYS = int(os.environ.get("TONGXIN_LEDGER_KEEP_DAYS", "7"))

# Retention (decision 019, docs/privacy.md): a child's file closed (any status but active) this
# many years ago loses its personal values at the next `manage.py retention`; statistics stay.
TONGXIN_RETENTION_YEARS = int(os.environ.get("TONGXIN_RETENTION_YEARS", "5"))

# /healthz answers 503 when a background task has waited longer than this for a worker (none
# runs), or when the disk under TONGXIN_VAR_DIR has less than this much free (docs/deploy.md).
TONGXIN_HEALTH_TASK_MINUTES = int(os.environ.get("TONGXIN_HEALTH_TASK_MINUTES", "15"))
TONGXIN_HEALTH_FREE_MB = int(os.environ.get("TONGXIN_HEALTH_FREE_MB", "2048"))
