"""The frames of changes (server -> client): each one's declared shape and constructor.

A shape is a TypedDict with every key required (`total=True`): mypy refuses a frame
built with a key it does not declare or without one it does, and tests hold the wire
to the same rule (tests/test_frames.py: each frame exactly; tests/test_frame_docs.py:
docs/websocket.md lists each shape with exactly its fields). The replies to one socket
are in parley.events.replies; parley.events.shapes lists them all.

    durable: numbered per conversation, replayable (conversation group)
        MessageCreated  MessageUpdated  MessageDeleted  MessageRead
        MembersAdded    MemberRemoved   ConversationRenamed
        ReactionAdded   ReactionRemoved MessagePinned   MessageUnpinned
    per user (user group)
        ConversationCreated  ConversationUpdated  ConversationRemoved
    ephemeral: never stored
        Typing  Presence
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict, Union

from parley.models import Event
from parley.users import wire_id

MessageJSON = dict[str, Any]  # the REST message JSON (parley.representations.message_json)
ConversationJSON = dict[str, Any]  # the REST conversation JSON, as one member sees it
UserId = Any  # a user id as frames carry it (parley.users.wire_id): a number or a UUID's text


class MessageCreated(TypedDict):
    type: Literal["message.created"]
    conversation: int
    seq: int
    message: MessageJSON


class MessageUpdated(TypedDict):
    type: Literal["message.updated"]
    conversation: int
    seq: int
    message: MessageJSON


class MessageDeleted(TypedDict):
    type: Literal["message.deleted"]
    conversation: int
    seq: int
    message_id: int


class MessageRead(TypedDict):
    type: Literal["message.read"]
    conversation: int
    seq: int
    user: UserId
    message_id: int
    read_at: str


class MemberRef(TypedDict):
    id: UserId
    username: str


class MembersAdded(TypedDict):
    type: Literal["members.added"]
    conversation: int
    seq: int
    users: list[MemberRef]
    by: UserId


class MemberRemoved(TypedDict):
    type: Literal["member.removed"]
    conversation: int
    seq: int
    user: UserId
    by: UserId


class ConversationRenamed(TypedDict):
    type: Literal["conversation.renamed"]
    conversation: int
    seq: int
    title: str
    by: UserId


class ReactionAdded(TypedDict):
    type: Literal["reaction.added"]
    conversation: int
    seq: int
    message_id: int
    emoji: str
    user: UserId


class ReactionRemoved(TypedDict):
    type: Literal["reaction.removed"]
    conversation: int
    seq: int
    message_id: int
    emoji: str
    user: UserId


class MessagePinned(TypedDict):
    type: Literal["message.pinned"]
    conversation: int
    seq: int
    message: MessageJSON


class MessageUnpinned(TypedDict):
    type: Literal["message.unpinned"]
    conversation: int
    seq: int
    message_id: int


class ConversationCreated(TypedDict):
    type: Literal["conversation.created"]
    conversation: ConversationJSON


class ConversationUpdated(TypedDict):
    type: Literal["conversation.updated"]
    conversation: ConversationJSON


class ConversationRef(TypedDict):
    id: int


RemovalReason = Literal["hidden", "left", "removed", "deleted"]


class ConversationRemoved(TypedDict):
    type: Literal["conversation.removed"]
    conversation: ConversationRef
    reason: RemovalReason


class Typing(TypedDict):
    type: Literal["typing"]
    conversation: int
    user: UserId
    username: str
    is_typing: bool


class Presence(TypedDict):
    type: Literal["presence"]
    user: UserId
    online: bool


DurableFrame = Union[  # noqa: UP007 - a union of TypedDicts reads better spelled out
    MessageCreated,
    MessageUpdated,
    MessageDeleted,
    MessageRead,
    MembersAdded,
    MemberRemoved,
    ConversationRenamed,
    ReactionAdded,
    ReactionRemoved,
    MessagePinned,
    MessageUnpinned,
]
UserFrame = Union[ConversationCreated, ConversationUpdated, ConversationRemoved]  # noqa: UP007
EphemeralFrame = Union[Typing, Presence]  # noqa: UP007


# --- Durable ----------------------------------------------------------------------------------


def message_created(*, conversation_id: int, seq: int, message: Mapping[str, Any]) -> MessageCreated:
    return {"type": "message.created", "conversation": conversation_id, "seq": seq, "message": dict(message)}


def message_updated(*, conversation_id: int, seq: int, message: Mapping[str, Any]) -> MessageUpdated:
    return {"type": "message.updated", "conversation": conversation_id, "seq": seq, "message": dict(message)}


def message_deleted(*, conversation_id: int, seq: int, message_id: int) -> MessageDeleted:
    return {"type": "message.deleted", "conversation": conversation_id, "seq": seq, "message_id": message_id}


def message_read(*, conversation_id: int, seq: int, user_id: Any, message_id: int, read_at: str) -> MessageRead:
    return {
        "type": "message.read",
        "conversation": conversation_id,
        "seq": seq,
        "user": wire_id(user_id),
        "message_id": message_id,
        "read_at": read_at,
    }


def members_added(*, conversation_id: int, seq: int, users: list[MemberRef], by: Any) -> MembersAdded:
    return {"type": "members.added", "conversation": conversation_id, "seq": seq, "users": users, "by": wire_id(by)}


def member_removed(*, conversation_id: int, seq: int, user_id: Any, by: Any) -> MemberRemoved:
    return {
        "type": "member.removed",
        "conversation": conversation_id,
        "seq": seq,
        "user": wire_id(user_id),
        "by": wire_id(by),
    }


def conversation_renamed(*, conversation_id: int, seq: int, title: str, by: Any) -> ConversationRenamed:
    return {
        "type": "conversation.renamed",
        "conversation": conversation_id,
        "seq": seq,
        "title": title,
        "by": wire_id(by),
    }


def reaction_added(*, conversation_id: int, seq: int, message_id: int, emoji: str, user_id: Any) -> ReactionAdded:
    return {
        "type": "reaction.added",
        "conversation": conversation_id,
        "seq": seq,
        "message_id": message_id,
        "emoji": emoji,
        "user": wire_id(user_id),
    }


def reaction_removed(*, conversation_id: int, seq: int, message_id: int, emoji: str, user_id: Any) -> ReactionRemoved:
    return {
        "type": "reaction.removed",
        "conversation": conversation_id,
        "seq": seq,
        "message_id": message_id,
        "emoji": emoji,
        "user": wire_id(user_id),
    }


def message_pinned(*, conversation_id: int, seq: int, message: Mapping[str, Any]) -> MessagePinned:
    return {"type": "message.pinned", "conversation": conversation_id, "seq": seq, "message": dict(message)}


def message_unpinned(*, conversation_id: int, seq: int, message_id: int) -> MessageUnpinned:
    return {"type": "message.unpinned", "conversation": conversation_id, "seq": seq, "message_id": message_id}


# Stored events rendered with the message's current JSON (a replay loads it).
MESSAGE_EVENTS = (Event.Type.MESSAGE_CREATED, Event.Type.MESSAGE_UPDATED, Event.Type.MESSAGE_PINNED)


def durable_frame(event: Event, *, message: Mapping[str, Any] | None) -> DurableFrame:
    """Render a stored event; message events take the message's current JSON."""
    cid, seq, data, actor = event.conversation_id, event.seq, event.data, event.actor_id
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
                conversation_id=cid, seq=seq, user_id=actor, message_id=event.message_id or 0, read_at=data["read_at"]
            )
        case Event.Type.MEMBERS_ADDED:
            return members_added(conversation_id=cid, seq=seq, users=data["users"], by=actor)
        case Event.Type.MEMBER_REMOVED:
            return member_removed(conversation_id=cid, seq=seq, user_id=data["user"], by=actor)
        case Event.Type.CONVERSATION_RENAMED:
            return conversation_renamed(conversation_id=cid, seq=seq, title=data["title"], by=actor)
        case Event.Type.REACTION_ADDED:
            return reaction_added(
                conversation_id=cid, seq=seq, message_id=event.message_id or 0, emoji=data["emoji"], user_id=actor
            )
        case Event.Type.REACTION_REMOVED:
            return reaction_removed(
                conversation_id=cid, seq=seq, message_id=event.message_id or 0, emoji=data["emoji"], user_id=actor
            )
        case Event.Type.MESSAGE_PINNED:
            assert message is not None
            return message_pinned(conversation_id=cid, seq=seq, message=message)
        case Event.Type.MESSAGE_UNPINNED:
            return message_unpinned(conversation_id=cid, seq=seq, message_id=event.message_id or 0)
    raise ValueError(f"unknown event type {event.type!r}")


# --- Per user and ephemeral -------------------------------------------------------------------


def conversation_created(*, conversation: Mapping[str, Any]) -> ConversationCreated:
    return {"type": "conversation.created", "conversation": dict(conversation)}


def conversation_updated(*, conversation: Mapping[str, Any]) -> ConversationUpdated:
    return {"type": "conversation.updated", "conversation": dict(conversation)}


def conversation_removed(*, conversation_id: int, reason: RemovalReason) -> ConversationRemoved:
    return {"type": "conversation.removed", "conversation": {"id": conversation_id}, "reason": reason}


def typing(*, conversation_id: int, user_id: Any, username: str, is_typing: bool) -> Typing:
    return {
        "type": "typing",
        "conversation": conversation_id,
        "user": wire_id(user_id),
        "username": username,
        "is_typing": is_typing,
    }


def presence(*, user_id: Any, online: bool) -> Presence:
    return {"type": "presence", "user": wire_id(user_id), "online": online}
