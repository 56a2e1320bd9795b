"""A raw ASGI application: the ceiling of the server and of the load generator.

HTTP        any path: 200 `{"ok":true}`
WebSocket   accept; a text frame is echoed back, except one starting with "B",
            whose remainder is sent to every socket open in this process (a
            fan-out with no framework, no channel layer and no database)
"""

from __future__ import annotations

import asyncio
from typing import Any

BODY = b'{"ok":true}'
_sockets: set[Any] = set()


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        while (await receive()).get("more_body"):
            pass
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"11")],
            }
        )
        await send({"type": "http.response.body", "body": BODY})
        return
    if scope["type"] != "websocket":
        return
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    _sockets.add(send)
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                continue
            if text.startswith("B"):
                frame = {"type": "websocket.send", "text": text[1:]}
                await asyncio.gather(*(s(frame) for s in list(_sockets)), return_exceptions=True)
            else:
                await send({"type": "websocket.send", "text": text})
    finally:
        _sockets.discard(send)
