"""Query-parameter parsing: a malformed value is a 400 with the parameter's name."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from rest_framework.request import Request

from parley.common.errors import InvalidInput
from parley.selectors import ConversationCursor

MAX_ID = 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# ASCII digits only: str.isdigit() also accepts "²" and other digits int() refuses.
INTEGER = re.compile(r"-?[0-9]{1,19}")
# At most 17 digits of microseconds: every such time is before datetime.max.
CURSOR = re.compile(r"([0-9]{1,17})~([0-9]{1,18})")
MAX_CURSOR_MICROS = (datetime.max.replace(tzinfo=UTC) - EPOCH) // MICROSECOND  # beyond: OverflowError


def query_int(
    request: Request,
    name: str,
    *,
    default: int | None = None,
    minimum: int = 1,
    cap: int | None = None,
) -> int | None:
    """An integer query parameter; values above `cap` are lowered to it, not refused."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    raw = raw.strip()
    if not INTEGER.fullmatch(raw):
        raise InvalidInput(f"'{name}' must be an integer.", field=name, code="invalid_parameter")
    value = int(raw)
    if value < minimum or value > MAX_ID:
        raise InvalidInput(f"'{name}' must be at least {minimum}.", field=name, code="invalid_parameter")
    return min(value, cap) if cap is not None else value


def query_bool(request: Request, name: str) -> bool:
    """`true`/`false` (or 1/0); absent is false."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return False
    value = raw.strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise InvalidInput(f"'{name}' must be true or false.", field=name, code="invalid_parameter")
    return value in ("true", "1")


def conversation_cursor(request: Request) -> ConversationCursor | None:
    """Cursors are `<activity time in microseconds>~<conversation id>`, opaque to clients."""
    raw = request.query_params.get("cursor")
    if not raw:
        return None
    match = CURSOR.fullmatch(raw)
    if match is None or int(match[1]) > MAX_CURSOR_MICROS:
        raise InvalidInput("'cursor' is not a cursor from this API.", field="cursor", code="invalid_parameter")
    return ConversationCursor(updated_at=EPOCH + int(match[1]) * MICROSECOND, id=int(match[2]))


def encode_conversation_cursor(cursor: ConversationCursor) -> str:
    return f"{(cursor.updated_at - EPOCH) // MICROSECOND}~{cursor.id}"


def empty_means_absent(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: an integer query parameter sent
    empty (`?before=`) is read as absent (`query_int`), so the schema says it may be empty."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query" and parameter.get("schema", {}).get("type") == "integer":
                    parameter["allowEmptyValue"] = True
    return result
