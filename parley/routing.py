"""WebSocket routes: the seed's per-conversation socket and the per-user socket."""

from __future__ import annotations

from typing import Any

from django.urls import re_path

from parley.consumers import ChatConsumer
from parley.origin import OriginGuard


def websocket_application() -> Any:
    from channels.routing import URLRouter

    return OriginGuard(
        URLRouter(
            [
                re_path(r"^ws/chat/(?P<conversation_id>[0-9]{1,18})/?$", ChatConsumer.as_asgi()),
                re_path(r"^ws/chat/?$", ChatConsumer.as_asgi()),
            ]
        )
    )
