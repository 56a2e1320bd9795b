"""The socket protocol's vocabulary (docs/websocket.md): close codes, the handshake's
parameters and the client's frames, as plain functions that raise `AppError`s.

    handshake(scope)     the conversation of the path, `since`, `protocol`, `token`
    decode(text, ...)    a client frame: size, command budget, JSON, `type`, `ref`
    target(frame, ...)   the conversation a command is about
    fields(frame, ...)   a command's arguments, or `missing_field`
"""

from __future__ import annotations

import json
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from parley import legacy
from parley.common.errors import AppError, NotAuthenticated, NotFound, NotParticipant
from parley.realtime.backpressure import CommandBudget

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_TOO_MANY = 4429
CLOSE_RESYNC_REQUIRED = 4410  # the conversation socket's `since` was pruned (parley.retention)

MAX_ID = 2**63 - 1  # a bigint primary key


def close_code_for(error: AppError) -> int:
    if isinstance(error, NotAuthenticated):
        return CLOSE_UNAUTHORIZED
    if isinstance(error, NotFound):
        return CLOSE_NOT_FOUND
    if error.status == 429:
        return CLOSE_TOO_MANY
    return CLOSE_FORBIDDEN if error.status == 403 else CLOSE_BAD_REQUEST


class Flooding(AppError):
    """Far past the command budget: the frame is refused and the socket closed (4429)."""

    status = 429
    code = "flooding"
    default_detail = "Too many frames; closing."


# --- Handshake ------------------------------------------------------------------------------


@dataclass
class Handshake:
    conversation_id: int | None  # None: the user socket
    token: str | None = None
    since: dict[int, int] = field(default_factory=dict)
    legacy: bool = False  # ?protocol=legacy: the original backend's frames (parley.legacy)


class HandshakeRefused(AppError):
    """A handshake that names no conversation, or asks for what we do not speak."""

    def __init__(self, detail: str, *, code: str, close_code: int, legacy: bool) -> None:
        super().__init__(detail, code=code)
        self.close_code, self.legacy = close_code, legacy


def handshake(scope: dict[str, Any]) -> Handshake:
    route = scope.get("url_route", {}).get("kwargs", {})
    named = route.get("conversation_id")
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    protocol = query.get("protocol", [None])[0]
    result = Handshake(conversation_id=None, legacy=protocol == legacy.PROTOCOL, token=query.get("token", [None])[0])
    if refusal := legacy.protocol_refusal(protocol, conversation_socket=named is not None):
        raise HandshakeRefused(refusal, code="invalid_protocol", close_code=CLOSE_BAD_REQUEST, legacy=result.legacy)
    if named is not None:
        # Every path under ws/chat/ reaches the consumer (parley.routing): one that cannot
        # name a conversation is refused like a conversation that does not exist.
        if not (named.isascii() and named.isdigit()) or not 0 < int(named) <= MAX_ID:
            raise HandshakeRefused(
                "Conversation not found.", code="not_found", close_code=CLOSE_NOT_FOUND, legacy=result.legacy
            )
        result.conversation_id = int(named)
    try:
        result.since = _since(query.get("since", [None])[0], conversation_id=result.conversation_id)
    except ValueError as exc:
        raise HandshakeRefused(str(exc), code="invalid_since", close_code=CLOSE_BAD_REQUEST, legacy=result.legacy)
    return result


def _since(raw: str | None, *, conversation_id: int | None) -> dict[int, int]:
    if raw is None or raw == "":
        return {}
    if conversation_id is not None:
        if not raw.isdigit():
            raise ValueError("'since' must be a non-negative integer seq.")
        return {conversation_id: int(raw)}
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise ValueError("'since' must be a JSON object of conversation id -> seq.") from None
    if not isinstance(value, dict):
        raise ValueError("'since' must be a JSON object of conversation id -> seq.")
    since: dict[int, int] = {}
    for key, seq in value.items():
        if not str(key).isdigit() or not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise ValueError("'since' maps conversation ids to non-negative integers.")
        since[int(key)] = seq
    return since


# --- Client frames ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientFrame:
    body: dict[str, Any]
    kind: str | None  # our command type (the original's are aliases: parley.legacy); None: not a string
    ref: str | int | None  # echoed by the reply


def decode(text: str | None, *, max_bytes: int, budget: CommandBudget) -> ClientFrame:
    """A text frame as a command, or the refusal its `error` frame carries."""
    if text is None:
        raise AppError("Send JSON text frames.", code="binary_not_supported")
    if len(text) > max_bytes or (len(text) * 4 > max_bytes and len(text.encode()) > max_bytes):
        raise AppError(f"Frames are limited to {max_bytes} bytes.", code="frame_too_large")
    if not budget.take():
        if budget.flooding:
            raise Flooding()
        raise AppError("Too many frames; slow down.", code="rate_limited")
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        raise AppError("Frames must be JSON objects.", code="invalid_json") from None
    except RecursionError:  # `[[[[...` deeper than the decoder recurses: refused, not fatal
        raise AppError("Frames must not nest that deeply.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise AppError("Frames must be JSON objects.", code="invalid_frame")
    ref = body.get("ref")
    if ref is not None and not isinstance(ref, str | int):
        ref = None
    kind = legacy.command_kind(body)
    return ClientFrame(body, kind if isinstance(kind, str) else None, ref)


def target(frame: ClientFrame, *, socket_conversation: int | None, tracked: Container[int]) -> int:
    """The conversation a command is about: the socket's, or the frame's on /ws/chat/."""
    named = frame.body.get("conversation")
    if socket_conversation is not None:
        if named is not None and named != socket_conversation:
            raise AppError("This socket serves another conversation.", code="wrong_conversation")
        return socket_conversation
    if not isinstance(named, int) or isinstance(named, bool):
        raise AppError("Name the 'conversation' (an id) on the user socket.", code="missing_field")
    if named not in tracked:
        raise NotParticipant()
    return named


def fields(frame: ClientFrame, *, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    missing = [name for name in required if name not in frame.body]
    if missing:
        raise AppError(f"Missing field(s): {', '.join(missing)}.", code="missing_field")
    return {name: frame.body.get(name) for name in (*required, *optional)}


def flag(frame: ClientFrame, name: str, *, default: bool) -> bool:
    value = frame.body.get(name, default)
    if not isinstance(value, bool):
        raise AppError(f"'{name}' must be true or false.", code="invalid_field")
    return value
