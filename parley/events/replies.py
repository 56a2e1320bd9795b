"""The replies to one socket (server -> client): each one's declared shape and constructor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict

from parley.events.frames import MessageJSON, UserId
from parley.users import wire_id

Ref = str | int | None  # the client's `ref`, echoed


class Ready(TypedDict):
    type: Literal["ready"]
    user: UserId
    conversations: dict[str, int]  # conversation id (as JSON keys are text) -> cursor
    online: list[UserId] | None  # co-members online now (where presence is shared); null: unknown


class AckWrite(TypedDict):
    type: Literal["ack"]
    ref: Ref
    message: MessageJSON


class AckTyping(TypedDict):
    type: Literal["ack"]
    ref: Ref
    forwarded: bool


class AckAuth(TypedDict):
    type: Literal["ack"]
    ref: Ref
    expires_at: int | None


class Error(TypedDict):
    type: Literal["error"]
    ref: Ref
    code: str
    detail: str


class ErrorResyncRequired(TypedDict):
    """The events after the client's `since` were pruned (parley.retention): reload the
    conversation and go on from its `last_seq`."""

    type: Literal["error"]
    ref: Ref
    code: Literal["resync_required"]
    detail: str
    conversation: int
    oldest_seq: int


class Pong(TypedDict):
    type: Literal["pong"]
    ref: Ref


def ready(*, user_id: Any, cursors: Mapping[int, int], online: list[Any] | None) -> Ready:
    conversations = {str(k): v for k, v in cursors.items()}
    return {"type": "ready", "user": wire_id(user_id), "conversations": conversations, "online": online}


def ack_write(*, ref: Ref, message: Mapping[str, Any]) -> AckWrite:
    return {"type": "ack", "ref": ref, "message": dict(message)}


def ack_typing(*, ref: Ref, forwarded: bool) -> AckTyping:
    return {"type": "ack", "ref": ref, "forwarded": forwarded}


def ack_auth(*, ref: Ref, expires_at: int | None) -> AckAuth:
    return {"type": "ack", "ref": ref, "expires_at": expires_at}


def error(*, ref: Ref, code: str, detail: str) -> Error:
    return {"type": "error", "ref": ref, "code": code, "detail": detail}


def resync_required(*, conversation_id: int, oldest_seq: int) -> ErrorResyncRequired:
    return {
        "type": "error",
        "ref": None,
        "code": "resync_required",
        "detail": "Events after your 'since' are no longer kept; reload the conversation and use its last_seq.",
        "conversation": conversation_id,
        "oldest_seq": oldest_seq,
    }


def pong(*, ref: Ref) -> Pong:
    return {"type": "pong", "ref": ref}
