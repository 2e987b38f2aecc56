"""Django settings. Every knob is an environment variable, listed in the README's configuration table."""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("SHELFCALL_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _create_once(path: Path, text: str) -> None:
    """Processes starting together may all find no file: each writes its own draft (private from
    the start) and links it into place, which succeeds for exactly one, so every process then reads
    the same complete text."""
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(text)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process's key won
    finally:
        draft.unlink()


def _secret_key() -> str:
    """Use SHELFCALL_SECRET_KEY, or a key generated once and kept in the data directory."""
    if key := os.environ.get("SHELFCALL_SECRET_KEY"):
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        _create_once(key_file, secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _flag("SHELFCALL_DEBUG")
ALLOWED_HOSTS = _list("SHELFCALL_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = _list("SHELFCALL_CSRF_TRUSTED_ORIGINS")
# Public address used in QR signs and links sent to people; defaults to the request's own host.
BASE_URL = os.environ.get("SHELFCALL_BASE_URL", "").rstrip("/")

INSTALLED_APPS = [
    "shelfcall.stores.apps.ShelfcallAdminConfig",  # django.contrib.admin, with our admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "shelfcall.core",
    "shelfcall.stores",
    "shelfcall.catalog",
    "shelfcall.orders",
    "shelfcall.live",
    "shelfcall.shopper",
    "shelfcall.workspace",
    "shelfcall.hq",
    "shelfcall.notify",
    "shelfcall.api",
    "shelfcall.setup",
    "shelfcall.insights",
    "shelfcall.demo",
    "ninja",  # its bundled Swagger UI files: the docs load no script from a CDN (our CSP forbids that)
]

MIDDLEWARE = [
    "shelfcall.core.clients.ForwardedHeadersMiddleware",  # first: everything after sees the real client
    "shelfcall.ops.metrics.RequestMetricsMiddleware",  # times what every later middleware costs too
    "django.middleware.security.SecurityMiddleware",
    "shelfcall.core.middleware.ContentSecurityPolicyMiddleware",
    "shelfcall.core.middleware.StaffPagesNotStoredMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "shelfcall.core.middleware.CompressPagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "shelfcall.core.middleware.NulCharacterRefusedMiddleware",  # after the language, before anything reads input
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "shelfcall.core.sessions.AuthenticationMiddleware",  # Django's, with the session's sign-in id in reach
    "django.contrib.messages.middleware.MessageMiddleware",
    "shelfcall.stores.idle.StaffIdleTimeoutMiddleware",  # after messages: it says why you were signed out
    "shelfcall.setup.first_password.ChooseOwnPasswordMiddleware",  # a one-time password is replaced first
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shelfcall.api.middleware.ApiMethodNotAllowedMiddleware",
    "shelfcall.core.middleware.RateLimitedMiddleware",
    "shelfcall.core.middleware.DatabaseUnavailableMiddleware",
]
# Benchmarks only: each response says how many statements it ran, and /metrics counts them per process.
COUNT_STATEMENTS = _flag("SHELFCALL_COUNT_STATEMENTS")
if COUNT_STATEMENTS:
    MIDDLEWARE.insert(0, "shelfcall.core.middleware.statement_count_middleware")

ROOT_URLCONF = "shelfcall.urls"
ASGI_APPLICATION = "shelfcall.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Under ASGI every request runs on a thread of its own, so persistent connections (CONN_MAX_AGE)
# would be one per thread ever started, closed only by the garbage collector. Connections are
# closed after each request instead, which on PostgreSQL hands them back to a bounded pool.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'shelfcall.sqlite3'}"),
        conn_max_age=0,
        conn_health_checks=True,  # with the pool: a connection is checked before it is handed out
    )
}
SHELFCALL_DB_POOL_MAX = int(os.environ.get("SHELFCALL_DB_POOL_MAX", "10"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # .iterator() (form choices, exports) would otherwise DECLARE a cursor WITH HOLD, FETCH and
    # CLOSE it: three round trips and a materialized result for what one SELECT returns.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# Server-side prepared statements: psycopg prepares a query the second time a connection runs it
# (prepare_threshold 1; 0 would also try the migrations' multi-command strings, which cannot be
# prepared) and the pool keeps each connection's statements across requests. Django prepares only
# with server-side binding (its client-side cursor never does). Turn off behind pgbouncer in
# transaction mode unless it tracks prepared statements (max_prepared_statements).
SHELFCALL_DB_PREPARE = _flag("SHELFCALL_DB_PREPARE", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and SHELFCALL_DB_PREPARE:
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=1)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and SHELFCALL_DB_POOL_MAX > 0:
    # Each process keeps at most max_size connections; a request waits `timeout` seconds for a free
    # one, then gets the 503 "busy" page (core/views.py). OPTIONS from the URL (sslmode…) stay.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(int(os.environ.get("SHELFCALL_DB_POOL_MIN", "2")), SHELFCALL_DB_POOL_MAX),
        "max_size": SHELFCALL_DB_POOL_MAX,
        "timeout": float(os.environ.get("SHELFCALL_DB_POOL_TIMEOUT", "5")),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers (the live streams) run beside the writer; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue instead of failing halfway with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory: browser tests serve pages from a second thread that must see the same rows.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "shelfcall",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Passwords and PINs, each behind a lockout counted per account and per address (stores/signin.py).
AUTHENTICATION_BACKENDS = ["shelfcall.stores.signin.PasswordBackend", "shelfcall.stores.signin.PinBackend"]
# A staff session ends after this long without a request from its person (stores/idle.py); 0: never.
SHELFCALL_STAFF_IDLE_MINUTES = int(os.environ.get("SHELFCALL_STAFF_IDLE_MINUTES", "30"))

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("ko", _("Korean")), ("es", _("Spanish"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": os.environ.get(
            "SHELFCALL_STATICFILES_STORAGE", "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Signed cookies (JSON): no page reads or writes a session row; signing out revokes (core/sessions.py).
SESSION_ENGINE = "shelfcall.core.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_SECURE = _flag("SHELFCALL_SECURE_COOKIES")
# Messages in a cookie of their own, never in the session's: overflowing messages would grow its cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# No script reads the CSRF cookie: alerts.js and the API docs take the token from the page's form.
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
if SESSION_COOKIE_SECURE:
    # Behind HTTPS: the balancer's X-Forwarded-Proto says the request came over TLS. Only a trusted
    # proxy's header survives (core/clients.py drops anyone else's), so it cannot be forged.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SHELFCALL_HSTS_SECONDS", str(365 * 24 * 3600)))
    # Plain HTTP gets a redirect before a password is typed into it; health checks and metrics,
    # which balancers often probe over plain HTTP, are answered where they are.
    SECURE_SSL_REDIRECT = _flag("SHELFCALL_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]  # ops/: probed over plain HTTP
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Proxies (addresses or networks) whose X-Forwarded-For / -Proto headers are believed; from anyone
# else those headers are dropped (core/clients.py).
SHELFCALL_TRUSTED_PROXIES = _list("SHELFCALL_TRUSTED_PROXIES", "127.0.0.1,::1")
RATELIMIT_VIEW = "shelfcall.shopper.views.rate_limited"
RATELIMIT_ENABLE = _flag("SHELFCALL_RATELIMIT", True)
# Seconds between freezes of long-lived objects in a web process (core/collector.py); 0: off.
SHELFCALL_GC_FREEZE_SECONDS = float(os.environ.get("SHELFCALL_GC_FREEZE_SECONDS", "5"))

# Live streams (live/). Open streams are capped per process (live/caps.py): per holder (a shopper's
# order token, a signed-in user's tabs and devices) and per client address (a store's guest Wi-Fi
# is one address for all its shoppers).
SHELFCALL_LIVE_STREAMS_PER_TOKEN = int(os.environ.get("SHELFCALL_LIVE_STREAMS_PER_TOKEN", "10"))
SHELFCALL_LIVE_STREAMS_PER_ADDRESS = int(os.environ.get("SHELFCALL_LIVE_STREAMS_PER_ADDRESS", "50"))
# Seconds between keep-alive comments on an idle stream; also how often it reads without a wake-up.
SHELFCALL_LIVE_HEARTBEAT_SECONDS = float(os.environ.get("SHELFCALL_LIVE_HEARTBEAT_SECONDS", "15"))
# Integration API: requests per minute per API key (429 with Retry-After beyond).
# Lets a monitoring system outside this machine read /metrics (`Authorization: Bearer <token>`).
SHELFCALL_METRICS_TOKEN = os.environ.get("SHELFCALL_METRICS_TOKEN", "")
SHELFCALL_API_RATE_PER_MINUTE = int(os.environ.get("SHELFCALL_API_RATE_PER_MINUTE", "600"))

# Notifications
SHELFCALL_HTTP_TIMEOUT = float(os.environ.get("SHELFCALL_HTTP_TIMEOUT", "10"))
# Seconds the host name of an address being saved (a channel, a webhook subscription, a device) may
# take to resolve: someone is waiting on the page, and a name server that answers does so in well
# under a second. A send's own lookup counts against the send's deadline instead.
SHELFCALL_ADDRESS_CHECK_TIMEOUT = float(os.environ.get("SHELFCALL_ADDRESS_CHECK_TIMEOUT", "3"))
SHELFCALL_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("SHELFCALL_OUTBOX_MAX_ATTEMPTS", "8"))
# A claimed message not sent within this time (its worker died) is sent by another worker.
SHELFCALL_OUTBOX_LEASE_SECONDS = int(os.environ.get("SHELFCALL_OUTBOX_LEASE_SECONDS", "90"))
# Host names that webhooks may reach although they resolve to private addresses (e.g. an intranet).
SHELFCALL_PRIVATE_HOSTS_ALLOWED = set(_list("SHELFCALL_PRIVATE_HOSTS_ALLOWED"))
# The browsers' push services (Chrome, Firefox, Edge, Safari): the only hosts a device subscription may name.
SHELFCALL_PUSH_SERVICE_HOSTS = _list(
    "SHELFCALL_PUSH_SERVICE_HOSTS", "fcm.googleapis.com,push.services.mozilla.com,notify.windows.com,push.apple.com"
)
SHELFCALL_TWILIO_ACCOUNT_SID = os.environ.get("SHELFCALL_TWILIO_ACCOUNT_SID", "")
SHELFCALL_TWILIO_AUTH_TOKEN = os.environ.get("SHELFCALL_TWILIO_AUTH_TOKEN", "")
SHELFCALL_TWILIO_FROM = os.environ.get("SHELFCALL_TWILIO_FROM", "")
SHELFCALL_TWILIO_API_BASE = os.environ.get("SHELFCALL_TWILIO_API_BASE", "https://api.twilio.com").rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("SHELFCALL_EMAIL_FROM", "Shelfcall <shelfcall@localhost>")
if os.environ.get("SHELFCALL_SMTP_HOST"):
    EMAIL_HOST = os.environ["SHELFCALL_SMTP_HOST"]
    EMAIL_PORT = int(os.environ.get("SHELFCALL_SMTP_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("SHELFCALL_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("SHELFCALL_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = _flag("SHELFCALL_SMTP_TLS", True)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # the demo prints emails

LOGIN_URL = "workspace:login"
LOGIN_REDIRECT_URL = "workspace:queue"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # No webhook URL (a credential) and no shopper's status-page token in any log line.
    "filters": {"redact_secrets": {"()": "shelfcall.core.logs.RedactSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("SHELFCALL_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # They log every request with its full URL at INFO, and connection details at DEBUG.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
