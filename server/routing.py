"""The ASGI application: protocol routing plus the guards that sit before Django."""

from __future__ import annotations

import json
from typing import Any

from channels.routing import ProtocolTypeRouter
from django.conf import settings

from parley.common.errors import PayloadTooLarge

Scope = dict[str, Any]


class BodyLimit:
    """Cut off an HTTP body past the upload limit while it streams in.

    Django's ASGI handler spools the whole body to disk before any view runs, so a
    chunked upload with no Content-Length must be stopped here, not in a view. (In
    production REST goes through the WSGI handler, which reads no more than the
    declared Content-Length, itself checked by common.middleware; this guard covers
    any HTTP app the router is built with.)
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = settings.MAX_REQUEST_BYTES
        received = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await _send_json(send, 413, PayloadTooLarge("The request body is over the upload limit.").as_dict())


class _TooLarge(Exception):
    pass


async def _send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def build_application(django_http: Any) -> Any:
    from parley.routing import DoorbellLoop, websocket_application
    from server.ops.asgi import Probes, SocketContext

    return DoorbellLoop(
        ProtocolTypeRouter(
            {
                "http": Probes(BodyLimit(django_http)),
                # tokens only: no session hop per connect
                "websocket": SocketContext(websocket_application(sessions=False)),
            }
        )
    )
