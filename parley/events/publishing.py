"""Publishing: the one way a change reaches open sockets.

    publish_on_commit   a write's frames, once its transaction has committed; a rolled
                        back write publishes nothing (services call it, nothing else)
    publish_ephemeral   typing and presence, at once: never stored, never in a transaction
                        (the socket layer calls it)

Both end in `publish_to_conversation` / `publish_to_users`, which hand the frame to the
doorbell (parley.events.doorbell), the only caller of the channel layer's send side.
Publishing never raises and never blocks the caller: the database is the record and a
client that missed a frame fills the gap by `seq`.

Channel-layer messages carry a frame under a handler `type` the consumer implements:

    parley.event    a frame for every subscriber of a conversation group
    parley.user     a per-user frame; the consumer also (un)subscribes conversation groups
    parley.revoke   close the user's sockets (all, or one login session's)

The frame travels already encoded (`text`), so a fan-out to a thousand sockets encodes
it once; `meta` holds the few fields a consumer routes by.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypedDict

from django.db import transaction

from parley.events.doorbell import doorbell
from parley.events.frames import EphemeralFrame
from parley.events.shapes import ServerFrame

logger = logging.getLogger(__name__)


class Revocation(TypedDict):
    """Not a frame: tells a user's sockets to close (4401)."""

    type: Literal["sockets.revoked"]
    session_id: str | None  # None: every session of the user
    reason: str


def sockets_revoked(*, reason: str, session_id: str | None = None) -> Revocation:
    return {"type": "sockets.revoked", "session_id": session_id, "reason": reason}


PerUser = Callable[[], Mapping[Any, ServerFrame]]  # rendered after commit: each user's own frame


def conversation_group(conversation_id: int) -> str:
    return f"conv.{conversation_id}"


def user_group(user_id: Any) -> str:
    return f"user.{user_id}"


def publish_on_commit(
    frame: ServerFrame | Revocation | PerUser, *, conversation: int | None = None, users: Iterable[Any] = ()
) -> None:
    """Once the outermost transaction commits (at once outside one), send `frame` to the
    conversation's group and to each of `users`. `frame` may be a callable that renders,
    after commit, one frame per user (each member's own view of a conversation)."""
    recipients = list(users)
    transaction.on_commit(lambda: _publish_safely(frame, conversation, recipients))


def publish_ephemeral(frame: EphemeralFrame, *, conversation: int | None = None, users: Iterable[Any] = ()) -> None:
    """Typing and presence: published at once, stored nowhere."""
    _publish_safely(frame, conversation, list(users))


def _publish_safely(frame: Any, conversation: int | None, users: list[Any]) -> None:
    try:
        if callable(frame):
            for user_id, own in frame().items():
                publish_to_users([user_id], own)
            return
        if frame["type"] == "sockets.revoked":
            for user_id in users:
                doorbell.ring(user_group(user_id), {"type": "parley.revoke", **_revocation(frame)})
            return
        if conversation is not None:
            publish_to_conversation(conversation, frame)
        if users:
            publish_to_users(users, frame)
    except Exception:  # the write has committed; a doorbell must not fail it
        logger.exception("publishing after commit failed")


def _revocation(frame: Revocation) -> dict[str, Any]:
    return {"session_id": frame["session_id"], "reason": frame["reason"]}


def publish_to_conversation(conversation_id: int, frame: Mapping[str, Any]) -> None:
    doorbell.ring(conversation_group(conversation_id), _envelope("parley.event", frame))


def publish_to_users(user_ids: Iterable[Any], frame: Mapping[str, Any]) -> None:
    envelope = _envelope("parley.user", frame)
    for user_id in user_ids:
        doorbell.ring(user_group(user_id), envelope)


def _envelope(handler: str, frame: Mapping[str, Any]) -> dict[str, Any]:
    conversation = frame.get("conversation")
    meta = {
        "type": frame["type"],
        "conversation": conversation["id"] if isinstance(conversation, dict) else conversation,
        "seq": frame.get("seq"),
        "user": frame.get("user"),
        "users": [u["id"] for u in frame.get("users", [])],
        "reason": frame.get("reason"),
    }
    return {"type": handler, "meta": meta, "text": json.dumps(frame, separators=(",", ":"))}
