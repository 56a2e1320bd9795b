"""The ASGI side of operations, in front of Django and Channels (server/routing.py).

Probes          /healthz, /readyz and /metrics answered on the event loop: no
                thread hop, no middleware, not in the access log or the HTTP
                series. So a probe every second costs next to nothing, and a
                REST thread pool that is busy does not make a host look dead.
SocketContext   a WebSocket's request id (from X-Request-ID or new) in a context
                variable for the whole connection, returned in the handshake's
                response headers; one log event when it opens and one when it ends
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from parley import shutdown
from server.ops import metrics, requestid
from server.ops.probes import Readiness

Scope = dict[str, Any]

socket_log = logging.getLogger("parley.socket")


async def _answer(send: Any, status: int, body: bytes, content_type: bytes, extra: list[Any] | None = None) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    headers += [(b"cache-control", b"no-store"), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


class Probes:
    PATHS = {"/healthz", "/readyz", "/metrics"}

    def __init__(self, app: Any) -> None:
        self.app = app
        self._readiness: Readiness | None = None

    @property
    def readiness(self) -> Readiness:
        if self._readiness is None:
            self._readiness = Readiness()
        return self._readiness

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path not in self.PATHS:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in {"GET", "HEAD"}:
            await _answer(send, 405, _json({"detail": "GET only.", "code": "method_not_allowed"}), b"application/json")
            return
        if path == "/healthz":
            await _answer(send, 200, _json({"status": "ok"}), b"application/json")
        elif path == "/readyz":
            if shutdown.draining():
                status, body = 503, {"status": "draining", "checks": {}}
            else:
                status, body = await self.readiness.report()
            await _answer(send, status, _json(body), b"application/json")
        else:
            await self._metrics(scope, send)

    async def _metrics(self, scope: Scope, send: Any) -> None:
        from django.conf import settings

        if not settings.METRICS_TOKEN:
            body = _json({"detail": "Metrics are off: set METRICS_TOKEN.", "code": "not_found"})
            await _answer(send, 404, body, b"application/json")
            return
        header = _header(scope, b"authorization")
        if not metrics.authorized(header.decode("latin-1") if header else None):
            body = _json({"detail": "Send Authorization: Bearer <METRICS_TOKEN>.", "code": "not_authenticated"})
            await _answer(send, 401, body, b"application/json", [(b"www-authenticate", b'Bearer realm="metrics"')])
            return
        # Reading every worker's files takes a few milliseconds: off the event loop.
        payload = await asyncio.to_thread(metrics.exposition)
        await _answer(send, 200, payload, metrics.CONTENT_TYPE_LATEST.encode())


class SocketContext:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        rid = requestid.from_header(_header(scope, b"x-request-id"))
        reset = requestid.current.set(rid)
        opened = time.monotonic()
        closed: dict[str, Any] = {}

        async def observed_send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.accept":
                headers = [*message.get("headers", []), (requestid.HEADER.lower().encode(), rid.encode())]
                message = {**message, "headers": headers}
                socket_log.info("socket opened %s", scope.get("path"), extra={"path": scope.get("path")})
            elif message["type"] == "websocket.close":
                closed.setdefault("code", message.get("code", 1000))
                closed.setdefault("by", "server")
            await send(message)

        async def observed_receive() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                closed.setdefault("code", message.get("code", 1005))
                closed.setdefault("by", "client")
            return dict(message)

        try:
            await self.app(scope, observed_receive, observed_send)
        finally:
            socket_log.info(
                "socket closed %s %s",
                scope.get("path"),
                closed.get("code"),
                extra={
                    "path": scope.get("path"),
                    "close_code": closed.get("code"),
                    "closed_by": closed.get("by"),
                    "duration_s": round(time.monotonic() - opened, 3),
                },
            )
            requestid.current.reset(reset)
