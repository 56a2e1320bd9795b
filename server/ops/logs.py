"""Structured logs: one JSON object per line (LOG_FORMAT=json, the production default).

    {"ts": "2026-01-01T12:00:00.123Z", "level": "INFO", "logger": "parley.access",
     "message": "GET /api/chat/conversations/ 200", "request_id": "...", "pid": 123,
     "method": "GET", "route": "api/chat/conversations/", "status": 200, "duration_ms": 4.1}

Every record first goes through parley.common.logging.RedactTokensFilter (tokens,
passwords, API keys in URLs and headers); the traceback of an exception is redacted
here too. What is never logged in the first place: request and response bodies (so
no password and no message content), query strings of HTTP requests (the access log
writes the path only) and headers other than the few named in the access log.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from parley.common.logging import redact
from server.ops import requestid

# Attributes every LogRecord has; anything else on a record came from `extra=`. Dropped
# too: uvicorn's colour copy of the message, and Django's `request` object, whose text
# would carry the query string.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", "color_message", "request"}


class JsonFormatter(logging.Formatter):
    _second = -1
    _stamp = ""

    def _timestamp(self, created: float) -> str:
        second = int(created)
        if second != self._second:  # strftime once a second, not once a record
            self._second, self._stamp = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": requestid.current.get(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            payload["stack"] = redact(self.formatStack(record.stack_info))
        return orjson.dumps(payload, default=str).decode()


class PlainFormatter(logging.Formatter):
    """The development format, with the request id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = requestid.current.get()
        text = f"{text} [rid={rid}]" if rid else text
        if record.exc_info:
            text = redact(text)
        return text
