"""Log hygiene: bearer tokens never reach a log line.

The seed's WebSocket URL carries the JWT in its query string (`?token=`), and ASGI
servers log request paths; this filter rewrites every record before any handler
formats it.
"""

from __future__ import annotations

import logging
import re

_TOKEN_PATTERNS = (
    (
        re.compile(r"((?:^|[?&\s])(?:token|access|refresh|password|api_key|secret)=)[^&\s\"']+", re.IGNORECASE),
        r"\1[redacted]",
    ),
    (re.compile(r"((?:Bearer|Api-Key)\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), "[redacted-jwt]"),
)


# One cheap search first: most log text has nothing any pattern could match.
_MAYBE_SECRET = re.compile(r"=|bearer|api-key|eyJ", re.IGNORECASE)


def redact(text: str) -> str:
    if not _MAYBE_SECRET.search(text):
        return text
    for pattern, replacement in _TOKEN_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return True
