"""Parley settings: read from the environment only (see `.env.example`).

Two run modes share this file:

    development (default)  SQLite in WAL mode under var/, in-memory channel layer,
                           a secret key generated once into var/secret_key
    production             PARLEY_ENV=production: DATABASE_URL, REDIS_URL and SECRET_KEY
                           must be set, DEBUG must be off, or the process refuses to start
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from server.config.database import databases
from server.config.layers import caches, channel_layers
from server.config.logging import logging_config
from server.config.storage import ATTACHMENTS, storages
from server.config.trusted import trusted_jwt
from server.web.csp import add_static_headers

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

PARLEY_ENV = env.str("PARLEY_ENV", default="development")
if PARLEY_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("PARLEY_ENV must be 'development' or 'production'.")
PRODUCTION = PARLEY_ENV == "production"

DEBUG = env.bool("DEBUG", default=False)


def _development_secret_key() -> str:
    """A random key kept in var/ so that tokens survive a restart of `make run`."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when PARLEY_ENV=production.")
    if len(SECRET_KEY) < 32 or SECRET_KEY.startswith("django-insecure") or "change-me" in SECRET_KEY:
        raise ImproperlyConfigured("Set SECRET_KEY to a random value of at least 32 characters in production.")
    for required in ("DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"):
        if not env.str(required, default=""):
            raise ImproperlyConfigured(f"{required} must be set when PARLEY_ENV=production.")
elif not SECRET_KEY:
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])


def _origins(name: str, *, any_origin: bool = False) -> list[str]:
    """A comma list of exact browser origins (`scheme://host[:port]`), checked here:
    the ASGI server runs no system checks, and a malformed entry would match nothing."""
    origins = [o.strip().rstrip("/") for o in env.list(name, default=[]) if o.strip()]
    for origin in origins:
        if origin == "*" and any_origin:
            continue
        try:
            parts = urlsplit(origin)
            valid = parts.scheme in {"http", "https"} and bool(parts.hostname) and not parts.path + parts.query
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            valid = False
        if not valid:
            raise ImproperlyConfigured(f"{name}: {origin!r} is not an origin such as https://app.example.com")
    return origins


# Front ends on these origins may call the REST API from a browser (django-cors-headers,
# preflight included). No credentials mode: the API takes bearer tokens, not cookies.
CORS_ALLOWED_ORIGINS = _origins("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/"
# Beyond the safelisted response headers, clients need the pagination link, the 429
# back-off and an attachment's file name.
CORS_EXPOSE_HEADERS = ["Link", "Retry-After", "Content-Disposition"]

# Browsers always send Origin on a WebSocket handshake; only these may open one.
# Empty means the hosts in ALLOWED_HOSTS (any port and scheme) and the exact
# CORS_ALLOWED_ORIGINS; set, it is the whole list ("*" admits any origin).
_WS_ALLOWED_ORIGINS = _origins("WS_ALLOWED_ORIGINS", any_origin=True)  # PARLEY["WS_ALLOWED_ORIGINS"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "channels",
    "server.accounts",
    "parley",
    "server.web",
]

MIDDLEWARE = [
    # Before everything: the request id, the access log and the HTTP series see every
    # answer (server.ops.middleware); it changes no response but for X-Request-ID.
    "server.ops.middleware.RequestObservability",
    # Next, as its docs ask: before anything that can answer (a 400, a 413, a static
    # file), so that those answers carry CORS headers and a browser can read them.
    "corsheaders.middleware.CorsMiddleware",
    "server.middleware.AllowedHostsMiddleware",
    "parley.common.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "server.middleware.TrailingSlashMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "server.urls"
# A missing trailing slash is served in place (server.middleware.TrailingSlashMiddleware),
# never redirected: CommonMiddleware's 301 would turn a POST into a GET.
APPEND_SLASH = False
# Threads per worker process serving REST (server/asgi.py); keep under DB_POOL_MAX_SIZE.
HTTP_THREADS = env.int("HTTP_THREADS", default=8)
WSGI_APPLICATION = "server.wsgi.application"
ASGI_APPLICATION = "server.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -----------------------------------------------------------------------

DATABASES = databases(env, VAR_DIR)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Channel layer and cache ------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
CHANNEL_LAYERS = channel_layers(env, REDIS_URL)
CACHES = caches(env, REDIS_URL)

# --- Auth -------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("REFRESH_TOKEN_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "CHECK_REVOKE_TOKEN": True,  # a password change invalidates every token
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "TOKEN_OBTAIN_SERIALIZER": "server.accounts.api.serializers.LoginSerializer",
    "TOKEN_REFRESH_SERIALIZER": "server.accounts.api.serializers.RefreshSerializer",
}

# --- REST framework -----------------------------------------------------------------------

_renderers = ["parley.common.renderers.ORJSONRenderer"]
if DEBUG:
    _renderers.append("rest_framework.renderers.BrowsableAPIRenderer")

REST_FRAMEWORK = {
    # The host's tokens first: that class answers only for a token whose issuer is the
    # host's (PARLEY_JWT_ISSUER), and only while one is configured; the rest go on.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "parley.api.trusted.TrustedJWTAuthentication",
        "server.accounts.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": _renderers,
    "DEFAULT_PARSER_CLASSES": [
        "parley.common.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "parley.common.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Parley API",
    "DESCRIPTION": (
        "REST API of Parley, a self-hostable chat backend. Live delivery is over WebSocket; see docs/websocket.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # No request to validator.swagger.io (Swagger UI's default validator badge).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "ENUM_NAME_OVERRIDES": {},
    # /api/server/ is documented only while PARLEY_API_KEY turns it on.
    "PREPROCESSING_HOOKS": ["parley.api.server.hide_when_disabled"],
    # spectacular's own enum hook, then: an empty integer query parameter is an absent one.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "parley.api.params.empty_means_absent",
    ],
}

# --- Parley (parley.conf lists every setting and its default) --------------------------------

# Rate limits: "<count>/<seconds>", shared by every worker through the cache. Registration
# is lenient in the embedded mode (a developer makes many accounts), strict in production.
RATE_LIMITS = {
    "login": env.str("RATE_LIMIT_LOGIN", default="10/60"),
    # Per IP, successful registrations only. The embedded mode is for trying Parley
    # out, where one machine makes many accounts.
    "register": env.str("RATE_LIMIT_REGISTER", default="10/3600" if PRODUCTION else "100/3600"),
    "send": env.str("RATE_LIMIT_SEND", default="1200/60"),
    "ws_command": env.str("RATE_LIMIT_WS_COMMAND", default="60/1"),
}

PARLEY = {
    "DISPLAY_NAME": "parley.users.username_of",
    # This server's own tokens carry a login session (logout ends its sockets).
    "TOKEN_AUTHENTICATOR": "server.accounts.tokens.authenticate_access_token",
    "TOKEN_REVALIDATOR": "server.accounts.tokens.session_still_valid",
    "MAX_CONTENT_LENGTH": env.int("CHAT_MAX_CONTENT_LENGTH", default=10_000),
    "MAX_ATTACHMENT_BYTES": env.int("CHAT_MAX_ATTACHMENT_BYTES", default=25 * 1024 * 1024),
    "MAX_PAGE_SIZE": env.int("CHAT_MAX_PAGE_SIZE", default=500),
    "DEFAULT_PAGE_SIZE": env.int("CHAT_DEFAULT_PAGE_SIZE", default=50),
    "EMBEDDED_MESSAGES": env.int("CHAT_EMBEDDED_MESSAGES", default=50),
    "CONVERSATIONS_PAGE_SIZE": env.int("CHAT_CONVERSATIONS_PAGE_SIZE", default=50),
    "MAX_GROUP_MEMBERS": env.int("CHAT_MAX_GROUP_MEMBERS", default=1_000),
    "EVENTS_PAGE_SIZE": env.int("CHAT_EVENTS_PAGE_SIZE", default=500),
    "RATE_LIMITS": RATE_LIMITS,
    "RATE_LIMITS_ENABLED": env.bool("RATE_LIMITS_ENABLED", default=True),
    "WS_MAX_FRAME_BYTES": env.int("CHAT_WS_MAX_FRAME_BYTES", default=64 * 1024),
    "WS_ALLOWED_ORIGINS": _WS_ALLOWED_ORIGINS,
    # Presence is announced in conversations up to this size: in a 1,000-member group every
    # member's arrival would go to every other member (N^2/2 frames; bench S5).
    "PRESENCE_MAX_MEMBERS": env.int("CHAT_PRESENCE_MAX_MEMBERS", default=100),
    # Offline is announced this long after a user's last socket closed (0: at once).
    "PRESENCE_OFFLINE_GRACE_SECONDS": env.float("CHAT_PRESENCE_OFFLINE_GRACE_SECONDS", default=30.0),
    "WS_MAX_SOCKETS_PER_USER": env.int("CHAT_WS_MAX_SOCKETS_PER_USER", default=20),
    "TYPING_INTERVAL_SECONDS": env.float("CHAT_TYPING_INTERVAL_SECONDS", default=2.0),
    "WS_AUTH_TIMEOUT_SECONDS": env.float("CHAT_WS_AUTH_TIMEOUT_SECONDS", default=10.0),
    # Sockets refresh presence every heartbeat and compare cursors with the database every
    # resync, catching events whose doorbell was lost (e.g. while Redis was down).
    "WS_HEARTBEAT_SECONDS": env.float("CHAT_WS_HEARTBEAT_SECONDS", default=30.0),
    "WS_RESYNC_SECONDS": env.float("CHAT_WS_RESYNC_SECONDS", default=60.0),
    # A socket opened while the channel layer is unreachable polls the database this often.
    "WS_DEGRADED_POLL_SECONDS": env.float("CHAT_WS_DEGRADED_POLL_SECONDS", default=2.0),
    # A client that does not read is closed (4408) rather than queued for without bound:
    # after this long blocked in one send, or this many frames waiting for it.
    "WS_SEND_TIMEOUT_SECONDS": env.float("CHAT_WS_SEND_TIMEOUT_SECONDS", default=10.0),
    "WS_MAX_BACKLOG": env.int("CHAT_WS_MAX_BACKLOG", default=1000),
    # Threads per worker for socket commands (send, edit, delete, read); each keeps one
    # pooled connection, so HTTP_THREADS + this + 1 must stay under DB_POOL_MAX_SIZE.
    "WS_COMMAND_THREADS": env.int("CHAT_WS_COMMAND_THREADS", default=4),
    # A publish waits at most this long for the channel layer, and never delays a write.
    "PUBLISH_TIMEOUT": env.float("CHAT_PUBLISH_TIMEOUT", default=0.5),
    # Absolute base for attachment URLs in JSON (e.g. https://chat.example.com); empty means
    # path-only URLs, resolved by clients against the API's own origin.
    "PUBLIC_BASE_URL": env.str("PUBLIC_BASE_URL", default="").rstrip("/"),
    # `manage.py apply_message_retention` deletes messages older than this; unset keeps them.
    "MESSAGE_RETENTION_DAYS": env.int("CHAT_MESSAGE_RETENTION_DAYS", default=None),
}

# --- Trusting the host's identity (SPEC 9.2; docs/integration.md) ------------------------------
#
# PARLEY_JWT_SECRET (HS256) or PARLEY_JWT_PUBLIC_KEY (PEM: RS256 / ES256), with the issuer and
# audience the host's tokens carry: REST and sockets accept them beside this server's own
# tokens, and create each host user on first sight. PARLEY_API_KEY opens /api/server/.
# A bad value stops the process here, not at the first request.

_trusted_jwt = trusted_jwt(env, own_keys=(SECRET_KEY, SIMPLE_JWT["SIGNING_KEY"]))
if _trusted_jwt:
    PARLEY["TRUSTED_JWT"] = _trusted_jwt

PARLEY_API_KEY = env.str("PARLEY_API_KEY", default="")
if PARLEY_API_KEY:
    if len(PARLEY_API_KEY) < 32 or not PARLEY_API_KEY.isascii() or any(c.isspace() for c in PARLEY_API_KEY):
        raise ImproperlyConfigured("PARLEY_API_KEY must be at least 32 ASCII characters without spaces.")
    PARLEY["API_KEY"] = PARLEY_API_KEY
if PARLEY.get("TRUSTED_JWT") or PARLEY_API_KEY:
    # Host users carry the display name the host gave (token `name`, server API).
    PARLEY["DISPLAY_NAME"] = "parley.identities.display_name"

# Notifications when the app is closed (docs/notifications.md), sent by `manage.py parley_worker`.
# Webhook URLs and push endpoints must resolve to public addresses in production only.
PARLEY["NOTIFY_ALLOW_PRIVATE_ADDRESSES"] = env.bool("NOTIFY_ALLOW_PRIVATE_ADDRESSES", default=not PRODUCTION)
PARLEY["VAPID_PRIVATE_KEY"] = env.str("VAPID_PRIVATE_KEY", default="")
PARLEY["VAPID_PUBLIC_KEY"] = env.str("VAPID_PUBLIC_KEY", default="")
PARLEY["VAPID_SUBJECT"] = env.str("VAPID_SUBJECT", default="mailto:admin@localhost")
PARLEY["WORKER_BATCH_SIZE"] = env.int("WORKER_BATCH_SIZE", default=100)
PARLEY["WORKER_POLL_SECONDS"] = env.float("WORKER_POLL_SECONDS", default=1.0)
PARLEY["WORKER_LEASE_SECONDS"] = env.float("WORKER_LEASE_SECONDS", default=60.0)
if bool(PARLEY["VAPID_PRIVATE_KEY"]) != bool(PARLEY["VAPID_PUBLIC_KEY"]):
    raise ImproperlyConfigured(
        "Set both VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY (manage.py parley_vapid_keys), or neither."
    )

# Uploads: files over this stay on disk while parsed; the request limit is enforced
# before any byte is read (common.middleware.RequestSizeLimitMiddleware).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
MAX_REQUEST_BYTES = PARLEY["MAX_ATTACHMENT_BYTES"] + 1024 * 1024

# --- Static and media ---------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
STORAGES = storages(env)
if ATTACHMENTS in STORAGES:
    PARLEY["ATTACHMENT_STORAGE"] = ATTACHMENTS
# stream: the file goes through Parley (works with any storage and any client);
# redirect: a 302 to a presigned URL valid ATTACHMENT_URL_SECONDS (S3 only; see
# docs/operations.md for the measurements and the trade-off).
PARLEY["ATTACHMENT_DOWNLOADS"] = env.str("ATTACHMENT_DOWNLOADS", default="stream")
if PARLEY["ATTACHMENT_DOWNLOADS"] not in {"stream", "redirect"}:
    raise ImproperlyConfigured("ATTACHMENT_DOWNLOADS must be 'stream' or 'redirect'.")
PARLEY["ATTACHMENT_URL_SECONDS"] = env.int("ATTACHMENT_URL_SECONDS", default=60)
WHITENOISE_USE_FINDERS = True
WHITENOISE_ADD_HEADERS_FUNCTION = add_static_headers
# Never served as /media/: attachments go out only through the authorizing download view.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/nonexistent-media/"

# --- Security headers -------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
# Only the Django admin uses cookies; behind TLS they must not travel in clear.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=PRODUCTION)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- Operations (docs/operations.md) ------------------------------------------------------------

# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; without a token it is off (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if PRODUCTION and METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters.")
# /readyz gives each dependency (database, Redis) this long to answer.
READINESS_TIMEOUT = env.float("READINESS_TIMEOUT", default=1.0)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# json: one JSON object per line (production default); plain: for a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'.")
LOGGING = logging_config(LOG_LEVEL, LOG_FORMAT)
