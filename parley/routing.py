"""WebSocket routes: the seed's per-conversation socket and the per-user socket.

A host adds `websocket_urlpatterns` to its own Channels router, or mounts
`websocket_application()`, which also checks the browser's Origin (parley.origin) and
reads the host's session cookie (Channels' AuthMiddlewareStack) for same-origin apps.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.urls import re_path

from parley import events
from parley.origin import OriginGuard
from parley.realtime.consumer import ChatConsumer


class DoorbellLoop:
    """ASGI middleware: tells Parley's publisher which event loop serves this process,
    so events published by request threads are sent from there (parley.events.Doorbell).
    Wrap the host's whole ProtocolTypeRouter in it; sockets also bind it on connect."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        events.bind_server_loop(asyncio.get_running_loop())
        await self.app(scope, receive, send)


# Everything under ws/chat/ reaches the consumer, which closes a path that names no
# conversation with 4404: a URLRouter with no match answers the handshake with a 500.
websocket_urlpatterns = [
    re_path(r"^ws/chat/?$", ChatConsumer.as_asgi()),
    re_path(r"^ws/chat/(?P<conversation_id>.+?)/?$", ChatConsumer.as_asgi()),
]


def websocket_application(*, sessions: bool = True) -> Any:
    from channels.auth import AuthMiddlewareStack
    from channels.routing import URLRouter

    router: Any = URLRouter(websocket_urlpatterns)
    return OriginGuard(AuthMiddlewareStack(router) if sessions else router)
