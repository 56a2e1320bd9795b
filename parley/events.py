"""The wire contract of live delivery, and the only caller of the channel layer.

Frames (server -> client) are built here, one constructor per type; docs/websocket.md
lists them and tests/test_events.py asserts each payload exactly.

    durable, numbered (conversation group, replayable from the Event table)
        message.created  message.updated  message.deleted  message.read
        members.added    member.removed   conversation.renamed
    per user (user group)
        conversation.created  conversation.updated  conversation.removed
    ephemeral (never stored)
        typing  presence

Publishing is a doorbell, not the record: the database is the source of truth and a
client that missed a frame fills the gap by `seq`. So `publish_*` never raises, never
blocks the caller, and is only ever called after the transaction has committed.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from channels.layers import get_channel_layer

from parley import metrics
from parley.conf import parley_settings
from parley.models import Event
from parley.users import wire_id

logger = logging.getLogger(__name__)

Frame = dict[str, Any]

# --- Groups ------------------------------------------------------------------------------


def conversation_group(conversation_id: int) -> str:
    return f"conv.{conversation_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


# --- Durable frames ----------------------------------------------------------------------


def message_created(*, conversation_id: int, seq: int, message: Mapping[str, Any]) -> Frame:
    return {"type": "message.created", "conversation": conversation_id, "seq": seq, "message": dict(message)}


def message_updated(*, conversation_id: int, seq: int, message: Mapping[str, Any]) -> Frame:
    return {"type": "message.updated", "conversation": conversation_id, "seq": seq, "message": dict(message)}


def message_deleted(*, conversation_id: int, seq: int, message_id: int) -> Frame:
    return {"type": "message.deleted", "conversation": conversation_id, "seq": seq, "message_id": message_id}


def message_read(*, conversation_id: int, seq: int, user_id: int, message_id: int, read_at: str) -> Frame:
    return {
        "type": "message.read",
        "conversation": conversation_id,
        "seq": seq,
        "user": wire_id(user_id),
        "message_id": message_id,
        "read_at": read_at,
    }


def members_added(*, conversation_id: int, seq: int, users: list[dict[str, Any]], by: int | None) -> Frame:
    return {"type": "members.added", "conversation": conversation_id, "seq": seq, "users": users, "by": wire_id(by)}


def member_removed(*, conversation_id: int, seq: int, user_id: int, by: int | None) -> Frame:
    return {
        "type": "member.removed",
        "conversation": conversation_id,
        "seq": seq,
        "user": wire_id(user_id),
        "by": wire_id(by),
    }


def conversation_renamed(*, conversation_id: int, seq: int, title: str, by: int | None) -> Frame:
    return {
        "type": "conversation.renamed",
        "conversation": conversation_id,
        "seq": seq,
        "title": title,
        "by": wire_id(by),
    }


def durable_frame(event: Event, *, message: Mapping[str, Any] | None) -> Frame:
    """Render a stored event; message events take the message's current JSON."""
    cid, seq, data = event.conversation_id, event.seq, event.data
    match event.type:
        case Event.Type.MESSAGE_CREATED:
            assert message is not None
            return message_created(conversation_id=cid, seq=seq, message=message)
        case Event.Type.MESSAGE_UPDATED:
            assert message is not None
            return message_updated(conversation_id=cid, seq=seq, message=message)
        case Event.Type.MESSAGE_DELETED:
            return message_deleted(conversation_id=cid, seq=seq, message_id=event.message_id or 0)
        case Event.Type.MESSAGE_READ:
            return message_read(
                conversation_id=cid,
                seq=seq,
                user_id=wire_id(event.actor_id),
                message_id=event.message_id or 0,
                read_at=data["read_at"],
            )
        case Event.Type.MEMBERS_ADDED:
            return members_added(conversation_id=cid, seq=seq, users=data["users"], by=wire_id(event.actor_id))
        case Event.Type.MEMBER_REMOVED:
            return member_removed(conversation_id=cid, seq=seq, user_id=data["user"], by=wire_id(event.actor_id))
        case Event.Type.CONVERSATION_RENAMED:
            return conversation_renamed(conversation_id=cid, seq=seq, title=data["title"], by=wire_id(event.actor_id))
    raise ValueError(f"unknown event type {event.type!r}")


# --- Per-user and ephemeral frames ----------------------------------------------------------


def conversation_created(*, conversation: Mapping[str, Any]) -> Frame:
    return {"type": "conversation.created", "conversation": dict(conversation)}


def conversation_updated(*, conversation: Mapping[str, Any]) -> Frame:
    return {"type": "conversation.updated", "conversation": dict(conversation)}


def conversation_removed(*, conversation_id: int, reason: str) -> Frame:
    return {"type": "conversation.removed", "conversation": {"id": conversation_id}, "reason": reason}


def typing(*, conversation_id: int, user_id: int, username: str, is_typing: bool) -> Frame:
    return {
        "type": "typing",
        "conversation": conversation_id,
        "user": wire_id(user_id),
        "username": username,
        "is_typing": is_typing,
    }


def resync_required(*, conversation_id: int, oldest_seq: int) -> Frame:
    """An `error` frame: the events after the client's `since` were pruned (parley.retention)."""
    return {
        "type": "error",
        "ref": None,
        "code": "resync_required",
        "detail": "Events after your 'since' are no longer kept; reload the conversation and use its last_seq.",
        "conversation": conversation_id,
        "oldest_seq": oldest_seq,
    }


def presence(*, user_id: int, online: bool) -> Frame:
    return {"type": "presence", "user": wire_id(user_id), "online": online}


# --- Publishing -------------------------------------------------------------------------------
#
# Channel-layer messages carry a frame under a handler `type` that consumers implement:
#   chat.event   a frame for every subscriber of a conversation group
#   chat.user    a per-user frame; the consumer also (un)subscribes conversation groups
#   chat.revoke  close the user's sockets (all, or one login session's)
# The frame travels already encoded (`text`), so a fan-out to a thousand sockets encodes
# it once; `meta` holds the few fields a consumer routes by.


def _envelope(handler: str, frame: Frame) -> dict[str, Any]:
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


def publish_to_conversation(conversation_id: int, frame: Frame) -> None:
    doorbell.ring(conversation_group(conversation_id), _envelope("parley.event", frame))


def publish_to_users(user_ids: Iterable[int], frame: Frame) -> None:
    envelope = _envelope("parley.user", frame)
    for user_id in user_ids:
        doorbell.ring(user_group(user_id), envelope)


def publish_user_revoked(*, user_id: int, reason: str, session_id: str | None = None) -> None:
    doorbell.ring(user_group(user_id), {"type": "parley.revoke", "session_id": session_id, "reason": reason})


_KINDS = {"parley.event": "conversation", "parley.user": "user", "parley.revoke": "revoke"}


class Doorbell:
    """Sends channel-layer messages from any thread without waiting for them.

    Under an ASGI server the messages are scheduled on the server's event loop, where
    the channel layer's connections live (the in-memory layer is not thread-safe, and
    channels-redis keeps one connection set per loop). Outside one (WSGI workers,
    management commands) a daemon thread runs a private loop. Each send has a short
    timeout; failures are logged and dropped, since clients recover by `seq`.
    """

    max_pending = 10_000

    def __init__(self) -> None:
        self._server_loop: asyncio.AbstractEventLoop | None = None
        self._own_loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._pending = 0
        self._dropped = 0
        self.failures = 0  # sends that failed; chat.upkeep resyncs sockets when it moves

    def bind_server_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._server_loop = loop

    def ring(self, group: str, message: dict[str, Any]) -> None:
        with self._lock:
            if self._pending >= self.max_pending:
                self._dropped += 1
                metrics.publish_failures.labels(reason="backlog_full").inc()
                if self._dropped % 1000 == 1:
                    logger.warning("publish backlog full; dropped %d doorbells so far", self._dropped)
                return
            self._pending += 1
        loop = self._loop()
        try:
            loop.call_soon_threadsafe(self._start, group, message)
        except RuntimeError:  # the loop closed between the check and the call
            self._done()

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop = self._server_loop
        if loop is not None and loop.is_running() and not loop.is_closed():
            return loop
        with self._lock:
            if self._own_loop is None or self._own_loop.is_closed():
                self._own_loop = asyncio.new_event_loop()
                threading.Thread(target=self._own_loop.run_forever, name="parley-doorbell", daemon=True).start()
                atexit.register(self.drain)
            return self._own_loop

    def drain(self) -> None:
        """Wait (briefly) for pending sends: a short-lived process, such as a management
        command deactivating a user, must not exit before its doorbells ring."""
        deadline = time.monotonic() + 2 * parley_settings.PUBLISH_TIMEOUT
        while self._pending > 0 and time.monotonic() < deadline:
            time.sleep(0.01)

    def _start(self, group: str, message: dict[str, Any]) -> None:
        asyncio.get_running_loop().create_task(self._send(group, message))

    async def _send(self, group: str, message: dict[str, Any]) -> None:
        try:
            layer = get_channel_layer()
            if layer is not None:
                await asyncio.wait_for(layer.group_send(group, message), timeout=parley_settings.PUBLISH_TIMEOUT)
                metrics.events_published.labels(kind=_KINDS.get(message["type"], "other")).inc()
        except Exception as exc:  # noqa: BLE001 - the doorbell never fails a write
            self.failures += 1
            metrics.publish_failures.labels(reason="timeout" if isinstance(exc, TimeoutError) else "error").inc()
            logger.warning("publish to %s failed: %s", group, exc.__class__.__name__)
        finally:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1

    @property
    def pending(self) -> int:
        return self._pending


doorbell = Doorbell()
