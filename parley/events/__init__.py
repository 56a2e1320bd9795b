"""The wire contract of live delivery, and the only publisher.

    frames       the frames of changes: a declared shape (TypedDict) and a constructor
    replies      the replies to one socket (ready, ack, error, pong), likewise
    shapes       every shape a client may receive; docs/websocket.md lists the same
    publishing   publish_on_commit (a write's frames, after commit: services only) and
                 publish_ephemeral (typing, presence: the socket layer only)
    doorbell     the only caller of the channel layer's send side

Publishing is a doorbell, not the record: the database is the source of truth and a
client that missed a frame fills the gap by `seq`. So publishing never raises, never
blocks the caller, and a durable frame is only ever published after its commit.
"""

from parley.events.doorbell import Doorbell, bind_server_loop, doorbell, failed_publishes
from parley.events.frames import (
    ConversationCreated,
    ConversationRemoved,
    ConversationRenamed,
    ConversationUpdated,
    DurableFrame,
    EphemeralFrame,
    MemberRef,
    MemberRemoved,
    MembersAdded,
    MessageCreated,
    MessageDeleted,
    MessageRead,
    MessageUpdated,
    Presence,
    Typing,
    UserFrame,
    conversation_created,
    conversation_removed,
    conversation_renamed,
    conversation_updated,
    durable_frame,
    member_removed,
    members_added,
    message_created,
    message_deleted,
    message_read,
    message_updated,
    presence,
    typing,
)
from parley.events.publishing import (
    Revocation,
    conversation_group,
    publish_ephemeral,
    publish_on_commit,
    sockets_revoked,
    user_group,
)
from parley.events.replies import (
    AckAuth,
    AckTyping,
    AckWrite,
    Error,
    Pong,
    Ready,
    ack_auth,
    ack_typing,
    ack_write,
    error,
    pong,
    ready,
)
from parley.events.shapes import SHAPES, ReplyFrame, ServerFrame, frame_type, shape_of

__all__ = [
    "SHAPES",
    "AckAuth",
    "AckTyping",
    "AckWrite",
    "ConversationCreated",
    "ConversationRemoved",
    "ConversationRenamed",
    "ConversationUpdated",
    "Doorbell",
    "DurableFrame",
    "EphemeralFrame",
    "Error",
    "MemberRef",
    "MemberRemoved",
    "MembersAdded",
    "MessageCreated",
    "MessageDeleted",
    "MessageRead",
    "MessageUpdated",
    "Pong",
    "Presence",
    "Ready",
    "ReplyFrame",
    "Revocation",
    "ServerFrame",
    "Typing",
    "UserFrame",
    "ack_auth",
    "ack_typing",
    "ack_write",
    "bind_server_loop",
    "conversation_created",
    "conversation_group",
    "conversation_removed",
    "conversation_renamed",
    "conversation_updated",
    "doorbell",
    "durable_frame",
    "error",
    "failed_publishes",
    "frame_type",
    "member_removed",
    "members_added",
    "message_created",
    "message_deleted",
    "message_read",
    "message_updated",
    "pong",
    "presence",
    "publish_ephemeral",
    "publish_on_commit",
    "ready",
    "shape_of",
    "sockets_revoked",
    "typing",
    "user_group",
]
