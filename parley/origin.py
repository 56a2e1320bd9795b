"""Cross-site WebSocket hijacking guard: a browser's Origin must be one we serve.

Browsers always send `Origin` on a WebSocket handshake; a page on another site could
otherwise open a socket with a token it stole or guessed. Clients that send no
Origin (mobile apps, scripts) are allowed: the attack needs a browser.
Refused handshakes are accepted and closed with 4403, so the client sees the code.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host

from parley.conf import parley_settings
from parley.realtime.protocol import CLOSE_FORBIDDEN


def origin_allowed(origin: str) -> bool:
    allowed = parley_settings.WS_ALLOWED_ORIGINS
    if allowed:
        return "*" in allowed or origin.rstrip("/") in {o.rstrip("/") for o in allowed}
    # Front ends that django-cors-headers lets call the REST API may open sockets too.
    if origin.rstrip("/") in {o.rstrip("/") for o in getattr(settings, "CORS_ALLOWED_ORIGINS", ())}:
        return True
    host = urlsplit(origin).hostname
    if not host:
        return False
    patterns = [h.split(":")[0] if not h.startswith("[") else h for h in settings.ALLOWED_HOSTS]
    return validate_host(host, patterns) or validate_host(f"[{host}]", patterns)


class OriginGuard:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin")
        if origin is None or origin_allowed(origin.decode("latin-1")):
            await self.app(scope, receive, send)
            return
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN, "reason": "origin not allowed"})
