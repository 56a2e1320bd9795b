"""The socket protocol of the code the seed came from (SPEC 9), as plain functions.

Clients written against that backend keep working. Two directions:

    client -> server   command_kind(frame): the command a frame names, on every
                       socket whatever its protocol. The original's `message` (and
                       a frame with `content` and no `type`), `send`, `read`, `edit`
                       and `delete` are aliases of ours.
    server -> client   translate(frame, names), on a socket opened with
                       `?protocol=legacy`: our frame as the original's, or None for
                       a frame the original never sent.

        ours                 legacy
        message.created  ->  chat_message  {message_id, sender, content, timestamp}
        message.updated  ->  edit          {message_id, content, edited_at, editor}
        message.deleted  ->  delete        {message_id, deleter}
        message.read     ->  read_receipt  {message_id, reader, read_at}
        typing           ->  typing        {username, is_typing}
        error            ->  error         {message}
        pong             ->  pong          (the reply to a `ping`, which only our clients send)
        ack with a ref   ->  ack           (only our clients send a `ref`)
        anything else    ->  dropped       (ready, ack without ref, presence, members.added,
                                            member.removed, conversation.*: the original had
                                            no such frames)

The consumer translates at the last step before a frame goes on the wire, after its
cursor logic (dedupe, gap fill, catch-up): the protocol changes what a frame looks
like, never which durable events are delivered or in what order.

Our frames name users by id, the original's by username. `Names` is one socket's
memory of usernames and of message senders, filled from the frames it translates and,
for what no frame told it, by one batched lookup (parley.commands.legacy_names).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, Union

PROTOCOL = "legacy"

Frame = dict[str, Any]
UserId = Any  # the host's primary key: int, or a UUID string once it is one

COMMAND_ALIASES = {
    "message": "message.send",
    "send": "message.send",
    "read": "message.read",
    "edit": "message.edit",
    "delete": "message.delete",
}


# --- Client -> server ---------------------------------------------------------------------


def command_kind(frame: Mapping[str, Any]) -> Any:
    """Our command type for a client frame (not necessarily a string: the caller refuses
    what is not one). Field types are checked where the command runs, as for our own
    frames, so a wrong one gets the same error frame and stores nothing."""
    kind = frame.get("type")
    if kind is None and "content" in frame:
        return "message.send"  # the original's first frames had no type
    return COMMAND_ALIASES.get(kind, kind) if isinstance(kind, str) else kind


def protocol_refusal(raw: str | None, *, conversation_socket: bool) -> str | None:
    """Why a socket cannot speak the `?protocol=` it asked for, or None if it can.
    Absent or empty is ours; `legacy` only on /ws/chat/<id>/, since the original's
    frames do not say which conversation they are about."""
    if not raw:
        return None
    if raw != PROTOCOL:
        return f"Unknown protocol {raw[:40]!r}: leave 'protocol' out, or use 'legacy'."
    if not conversation_socket:
        return "The legacy protocol is served on /ws/chat/<conversation id>/ only."
    return None


# --- Names -------------------------------------------------------------------------------


@dataclass
class Lookup:
    """What the database says: every id asked for has an entry (None: no such row, or
    a message whose sender no longer exists)."""

    usernames: dict[UserId, str | None] = field(default_factory=dict)
    senders: dict[int, UserId | None] = field(default_factory=dict)


@dataclass
class Wanted:
    user_ids: set[UserId] = field(default_factory=set)
    message_ids: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.user_ids or self.message_ids)


class Names:
    """One socket's usernames by user id and senders by message id.

    Usernames are kept for the socket's life (a conversation has at most
    CHAT_MAX_GROUP_MEMBERS members, preloaded when it opens; a rename shows after a
    reconnect). Senders are kept for the latest `max_senders` messages: a delete of an
    older one costs one lookup."""

    max_senders = 10_000

    def __init__(self) -> None:
        self.usernames: dict[UserId, str | None] = {}
        self.senders: dict[int, UserId | None] = {}

    def learn(self, lookup: Lookup) -> None:
        self.usernames.update(lookup.usernames)
        for message_id, sender in lookup.senders.items():
            self._remember_sender(message_id, sender)

    def prepare(self, frames: Iterable[Mapping[str, Any]]) -> Wanted:
        """Learn what these frames tell by themselves, and return what translating them
        still needs from the database (empty: nothing)."""
        frames = list(frames)
        for frame in frames:
            kind = frame.get("type")
            if kind in ("message.created", "message.updated"):
                self._remember_sender(frame["message"]["id"], frame["message"]["sender"])
            elif kind == "typing":
                self.usernames[frame["user"]] = frame["username"]
            elif kind == "members.added":
                self.usernames.update((user["id"], user["username"]) for user in frame["users"])
        wanted = Wanted()
        for frame in frames:
            kind = frame.get("type")
            if kind in ("message.created", "message.updated"):
                user = frame["message"]["sender"]
            elif kind == "message.read":
                user = frame["user"]
            elif kind == "message.deleted":
                if frame["message_id"] not in self.senders:
                    wanted.message_ids.add(frame["message_id"])
                    continue
                user = self.senders[frame["message_id"]]
            else:
                continue
            if user is not None and user not in self.usernames:
                wanted.user_ids.add(user)
        return wanted

    def username(self, user_id: UserId | None) -> str | None:
        return None if user_id is None else self.usernames.get(user_id)

    def _remember_sender(self, message_id: int, sender: UserId | None) -> None:
        self.senders.pop(message_id, None)
        self.senders[message_id] = sender
        if len(self.senders) > self.max_senders:
            del self.senders[next(iter(self.senders))]


# --- Server -> client ---------------------------------------------------------------------
#
# The original's frames, declared as ours are (parley.events.frames): exactly these keys.
# docs/websocket.md's legacy table lists the same (tests/test_frame_docs.py).


class ChatMessage(TypedDict):
    type: Literal["chat_message"]
    message_id: int
    sender: str | None
    content: str
    timestamp: str


class Edit(TypedDict):
    type: Literal["edit"]
    message_id: int
    content: str
    edited_at: str | None
    editor: str | None


class Delete(TypedDict):
    type: Literal["delete"]
    message_id: int
    deleter: str | None


class ReadReceipt(TypedDict):
    type: Literal["read_receipt"]
    message_id: int
    reader: str | None
    read_at: str


class Typing(TypedDict):
    type: Literal["typing"]
    username: str
    is_typing: bool


class Error(TypedDict):
    type: Literal["error"]
    message: str


LegacyFrame = Union[ChatMessage, Edit, Delete, ReadReceipt, Typing, Error]  # noqa: UP007
SHAPES: tuple[type, ...] = (ChatMessage, Edit, Delete, ReadReceipt, Typing, Error)


def translate(frame: Mapping[str, Any], names: Names) -> LegacyFrame | Frame | None:
    """Our frame as the original backend sent it, or None if it sent no such frame.
    `names` must already know the users the frame names (Names.prepare); one it does
    not know (a deleted user) becomes null."""
    kind = frame.get("type")
    if kind == "message.created":
        message = frame["message"]
        return {
            "type": "chat_message",
            "message_id": message["id"],
            "sender": _sender_name(message, names),
            "content": message["content"],
            "timestamp": message["timestamp"],
        }
    if kind == "message.updated":
        # Only a message's sender edits it (parley.access.message_get_for_sender).
        message = frame["message"]
        return {
            "type": "edit",
            "message_id": message["id"],
            "content": message["content"],
            "edited_at": message["edited_at"],
            "editor": _sender_name(message, names),
        }
    if kind == "message.deleted":
        # Only a message's sender deletes it; our frame names the message, not the actor.
        message_id = frame["message_id"]
        return {"type": "delete", "message_id": message_id, "deleter": names.username(names.senders.get(message_id))}
    if kind == "message.read":
        return {
            "type": "read_receipt",
            "message_id": frame["message_id"],
            "reader": names.username(frame["user"]),
            "read_at": frame["read_at"],
        }
    if kind == "typing":
        return {"type": "typing", "username": frame["username"], "is_typing": frame["is_typing"]}
    if kind == "error":
        return {"type": "error", "message": frame["detail"]}
    if kind == "pong" or (kind == "ack" and frame.get("ref") is not None):
        return dict(frame)
    return None


def _sender_name(message: Mapping[str, Any], names: Names) -> str | None:
    # A sender the host deleted has no username; the message JSON names the tombstone.
    if message["sender"] is None:
        return message.get("sender_name")
    return names.username(message["sender"])
