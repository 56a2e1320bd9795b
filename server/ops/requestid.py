"""The request id: taken from `X-Request-ID` when it looks like one, else generated.

It is set in a context variable for the lifetime of one HTTP request (in its WSGI
thread) or one WebSocket (in its task, and the threads it hands work to), so every
log line written meanwhile carries it (server.ops.logs), and it goes back to the
client in the response's `X-Request-ID`. A proxy that sets one (nginx's `$request_id`)
ties its own access log to ours.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"

# Only short, plain ids are taken from the client: a request id ends up in log lines
# and headers, so it must not carry newlines, JSON or an unbounded length.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

current: ContextVar[str | None] = ContextVar("request_id", default=None)


def from_header(value: str | bytes | None) -> str:
    """The client's id if acceptable, else a new random one."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if value and _ACCEPTABLE.match(value):
        return value
    return uuid.uuid4().hex
