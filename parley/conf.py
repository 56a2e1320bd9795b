"""Parley's settings: one `PARLEY = {...}` dict in the host's settings, over these defaults.

    PARLEY = {
        "DISPLAY_NAME": "myapp.users.full_name",   # sender_name of a message
        "MAX_CONTENT_LENGTH": 4000,
    }

Every name below may be set; unknown names are refused at start-up (parley.apps), so a
typo never passes silently. Values are read on every use, so `override_settings` and
pytest-django's `settings` fixture work as they do for Django's own settings.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    # Who the user is, to Parley.
    "DISPLAY_NAME": "parley.users.username_of",  # dotted path: callable(user) -> str
    # REST: the host's DRF DEFAULT_AUTHENTICATION_CLASSES when None.
    "AUTHENTICATION_CLASSES": None,
    # Sockets: callable(raw token) -> parley.auth.Authenticated, raising NotAuthenticated;
    # and callable(Authenticated) -> bool, asked again while the socket stays open.
    "TOKEN_AUTHENTICATOR": "parley.auth.simplejwt_authenticate",
    "TOKEN_REVALIDATOR": "parley.auth.user_still_active",
    # Limits (SPEC section 4).
    "MAX_CONTENT_LENGTH": 10_000,
    "MAX_ATTACHMENT_BYTES": 25 * 1024 * 1024,
    "MAX_PAGE_SIZE": 500,
    "DEFAULT_PAGE_SIZE": 50,
    "EMBEDDED_MESSAGES": 50,  # latest messages embedded in each conversation of the list
    "CONVERSATIONS_PAGE_SIZE": 50,
    "MAX_GROUP_MEMBERS": 1_000,
    "MAX_TITLE_LENGTH": 200,
    "EVENTS_PAGE_SIZE": 500,
    "RATE_LIMITS": {"send": "1200/60", "ws_command": "60/1"},  # "<count>/<seconds>", shared by workers
    "RATE_LIMITS_ENABLED": True,
    # Sockets.
    "WS_MAX_FRAME_BYTES": 64 * 1024,
    "WS_ALLOWED_ORIGINS": [],  # empty: the server's own hosts (and CORS_ALLOWED_ORIGINS)
    "WS_MAX_SOCKETS_PER_USER": 20,
    "WS_AUTH_TIMEOUT_SECONDS": 10.0,
    "WS_HEARTBEAT_SECONDS": 30.0,
    "WS_RESYNC_SECONDS": 60.0,
    "WS_DEGRADED_POLL_SECONDS": 2.0,
    "WS_SEND_TIMEOUT_SECONDS": 10.0,
    "WS_MAX_BACKLOG": 1000,
    "WS_COMMAND_THREADS": 4,
    "PRESENCE_MAX_MEMBERS": 100,  # presence is announced only in conversations this small
    # A user is announced offline this long after their last socket closed, and a socket
    # opened in between announces nothing: a reload, a network blip or a server restart
    # makes no offline/online pair. 0: at once. At most 90 (the presence keys live 120 s).
    "PRESENCE_OFFLINE_GRACE_SECONDS": 30.0,
    "TYPING_INTERVAL_SECONDS": 2.0,
    "PUBLISH_TIMEOUT": 0.5,
    # Absolute base for attachment URLs in JSON; empty: path-only URLs.
    "PUBLIC_BASE_URL": "",
    # Bearer tokens the host signs (parley.trusted; docs/integration.md). None: off. Else
    # {"KEY": an HS256 secret (32+ bytes) or a PEM public key (RSA or P-256),
    #  "ALGORITHM": "HS256" | "RS256" | "ES256" (optional: follows from KEY),
    #  "ISSUER": "<iss>", "AUDIENCE": "<aud>", "LEEWAY_SECONDS": 0}.
    # A token whose `iss` is ISSUER is checked against KEY only, on sockets (before
    # TOKEN_AUTHENTICATOR) and by parley.api.trusted.TrustedJWTAuthentication on REST.
    "TRUSTED_JWT": None,
    # The server-side API (parley.server_urls), `Authorization: Api-Key <key>`. Empty:
    # its routes answer 404 `server_api_disabled`.
    "API_KEY": "",
    # Attachments (parley.storage): a STORAGES alias, or None for Parley's private
    # directory under MEDIA_ROOT; downloads "stream" through Parley, or "redirect" to a
    # presigned URL valid ATTACHMENT_URL_SECONDS (object storage only).
    "ATTACHMENT_STORAGE": None,
    "ATTACHMENT_DOWNLOADS": "stream",
    "ATTACHMENT_URL_SECONDS": 60,
    # Retention (parley.retention): messages older than this many days are deleted by
    # `manage.py apply_message_retention`; None keeps them forever.
    "MESSAGE_RETENTION_DAYS": None,
    # Notifications when the app is closed (docs/notifications.md): `manage.py parley_worker`.
    # Loopback and private addresses as webhook URLs and push endpoints: off in production.
    "NOTIFY_ALLOW_PRIVATE_ADDRESSES": False,
    "WEBHOOK_TIMEOUT_SECONDS": 5.0,
    # Seconds to wait after each failed attempt (about 28 hours in all); then the
    # delivery fails and its webhook is disabled.
    "WEBHOOK_RETRY_SCHEDULE": [5, 300, 1800, 7200, 18000, 36000, 36000],
    # Web Push: VAPID keys (`manage.py parley_vapid_keys`), base64url; empty: push is off.
    "VAPID_PRIVATE_KEY": "",
    "VAPID_PUBLIC_KEY": "",
    "VAPID_SUBJECT": "mailto:admin@localhost",
    "PUSH_COALESCE_SECONDS": 5.0,  # messages of one conversation within this become one push
    "PUSH_TTL_SECONDS": 86400,
    "PUSH_OPEN_URL": "/#/c/{conversation}",  # what a click on the notification opens
    "WORKER_BATCH_SIZE": 100,
    "WORKER_POLL_SECONDS": 1.0,
    "WORKER_LEASE_SECONDS": 60,  # a claimed delivery is another worker's again after this
}


class ParleySettings:
    """`parley_settings.MAX_CONTENT_LENGTH`: the host's value, else the default."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"PARLEY has no setting {name!r}")
        return getattr(settings, "PARLEY", {}).get(name, DEFAULTS[name])

    def callable(self, name: str) -> Any:
        """A setting that names a callable by dotted path (or is one)."""
        value = getattr(self, name)
        return import_string(value) if isinstance(value, str) else value


def unknown_settings() -> list[str]:
    return sorted(set(getattr(settings, "PARLEY", {})) - set(DEFAULTS))


parley_settings = ParleySettings()
