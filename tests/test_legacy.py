"""parley.legacy on its own: each of our frames as the original backend's, exactly.

The socket tests (tests/test_ws_legacy.py) check the same frames on the wire; these
pin the translation table and the username bookkeeping without a socket.
"""

from __future__ import annotations

from typing import Any

import pytest

from parley import events, legacy

MESSAGE = {
    "id": 41,
    "conversation": 3,
    "sender": 7,
    "sender_name": "bob",
    "content": "hi",
    "attachment": None,
    "timestamp": "2025-11-13T10:05:00.123456Z",
    "is_read": False,
    "read_at": None,
    "is_deleted": False,
    "edited_at": "2025-11-13T10:06:00Z",
    "client_id": None,
    "seq": 5,
}


def names(**usernames: str) -> legacy.Names:
    known = legacy.Names()
    known.learn(legacy.Lookup(usernames={int(k[1:]): v for k, v in usernames.items()}))
    return known


def test_message_frames_translate_exactly() -> None:
    known = names(u7="bob", u8="alice")
    created = events.message_created(conversation_id=3, seq=5, message=MESSAGE)
    assert known.prepare([created]) == legacy.Wanted()
    assert legacy.translate(created, known) == {
        "type": "chat_message",
        "message_id": 41,
        "sender": "bob",
        "content": "hi",
        "timestamp": "2025-11-13T10:05:00.123456Z",
    }
    updated = events.message_updated(conversation_id=3, seq=6, message={**MESSAGE, "content": "hi!"})
    assert legacy.translate(updated, known) == {
        "type": "edit",
        "message_id": 41,
        "content": "hi!",
        "edited_at": "2025-11-13T10:06:00Z",
        "editor": "bob",
    }
    # The sender of message 41 was learnt from the frames above: no lookup for its delete.
    deleted = events.message_deleted(conversation_id=3, seq=7, message_id=41)
    assert known.prepare([deleted]) == legacy.Wanted()
    assert legacy.translate(deleted, known) == {"type": "delete", "message_id": 41, "deleter": "bob"}
    read = events.message_read(conversation_id=3, seq=8, user_id=8, message_id=41, read_at="2025-11-13T10:07:00Z")
    assert legacy.translate(read, known) == {
        "type": "read_receipt",
        "message_id": 41,
        "reader": "alice",
        "read_at": "2025-11-13T10:07:00Z",
    }


def test_typing_and_error_translate_exactly() -> None:
    typing = events.typing(conversation_id=3, user_id=7, username="bob", is_typing=False)
    assert legacy.translate(typing, legacy.Names()) == {"type": "typing", "username": "bob", "is_typing": False}
    error = {"type": "error", "ref": None, "code": "invalid_type", "detail": "Content must be a string."}
    assert legacy.translate(error, legacy.Names()) == {"type": "error", "message": "Content must be a string."}


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "ready", "user": 7, "conversations": {"3": 5}},
        {"type": "ack", "ref": None, "message": MESSAGE},
        events.presence(user_id=7, online=True),
        events.members_added(conversation_id=3, seq=9, users=[{"id": 9, "username": "carol"}], by=7),
        events.member_removed(conversation_id=3, seq=10, user_id=9, by=7),
        events.conversation_renamed(conversation_id=3, seq=11, title="team", by=7),
        events.conversation_created(conversation={"id": 3}),
        events.conversation_updated(conversation={"id": 3}),
        events.conversation_removed(conversation_id=3, reason="deleted"),
    ],
)
def test_frames_the_original_never_sent_are_dropped(frame: dict[str, Any]) -> None:
    assert legacy.translate(frame, names(u7="bob")) is None


def test_replies_only_our_clients_ask_for_pass_unchanged() -> None:
    pong = {"type": "pong", "ref": 3}
    ack = {"type": "ack", "ref": "r1", "message": MESSAGE}
    assert legacy.translate(pong, legacy.Names()) == pong
    assert legacy.translate(ack, legacy.Names()) == ack


def test_prepare_asks_only_for_what_no_frame_told() -> None:
    known = legacy.Names()
    frames = [
        events.members_added(conversation_id=3, seq=1, users=[{"id": 9, "username": "carol"}], by=7),
        events.message_created(conversation_id=3, seq=2, message={**MESSAGE, "id": 50, "sender": 9}),
        events.message_created(conversation_id=3, seq=3, message=MESSAGE),
        events.message_read(conversation_id=3, seq=4, user_id=8, message_id=41, read_at="t"),
        events.message_deleted(conversation_id=3, seq=5, message_id=50),
        events.message_deleted(conversation_id=3, seq=6, message_id=12),
        events.typing(conversation_id=3, user_id=10, username="dave", is_typing=True),
        events.message_read(conversation_id=3, seq=7, user_id=10, message_id=41, read_at="t"),
    ]
    assert known.prepare(frames) == legacy.Wanted(user_ids={7, 8}, message_ids={12})
    known.learn(legacy.Lookup(usernames={7: "bob", 8: "alice", 11: "erin"}, senders={12: 11}))
    assert known.prepare(frames) == legacy.Wanted()
    assert legacy.translate(frames[5], known) == {"type": "delete", "message_id": 12, "deleter": "erin"}


def test_users_that_no_longer_exist_become_null_or_the_tombstone() -> None:
    known = legacy.Names()
    known.learn(legacy.Lookup(usernames={7: None}, senders={12: None}))
    read = events.message_read(conversation_id=3, seq=4, user_id=7, message_id=41, read_at="t")
    assert known.prepare([read]) == legacy.Wanted()  # asked once, not on every frame
    assert legacy.translate(read, known)["reader"] is None  # type: ignore[index]
    deleted = events.message_deleted(conversation_id=3, seq=5, message_id=12)
    assert legacy.translate(deleted, known) == {"type": "delete", "message_id": 12, "deleter": None}
    orphan = events.message_created(
        conversation_id=3, seq=6, message={**MESSAGE, "sender": None, "sender_name": "deleted user"}
    )
    assert known.prepare([orphan]) == legacy.Wanted()
    assert legacy.translate(orphan, known)["sender"] == "deleted user"  # type: ignore[index]


def test_sender_memory_is_bounded() -> None:
    known = legacy.Names()
    known.max_senders = 3
    for message_id in range(1, 6):
        created = events.message_created(conversation_id=3, seq=message_id, message={**MESSAGE, "id": message_id})
        known.prepare([created])
    assert list(known.senders) == [3, 4, 5]
    assert known.prepare([events.message_deleted(conversation_id=3, seq=9, message_id=1)]).message_ids == {1}


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        ({"type": "message", "content": "x"}, "message.send"),
        ({"content": "x"}, "message.send"),
        ({"type": "send", "content": "x"}, "message.send"),
        ({"type": "read", "message_id": 1}, "message.read"),
        ({"type": "edit", "message_id": 1, "content": "x"}, "message.edit"),
        ({"type": "delete", "message_id": 1}, "message.delete"),
        ({"type": "typing", "is_typing": True}, "typing"),
        ({"type": "message.send", "content": "x"}, "message.send"),
        ({"type": 5, "content": "x"}, 5),
        ({"ref": 1}, None),
    ],
)
def test_command_kind(frame: dict[str, Any], kind: Any) -> None:
    assert legacy.command_kind(frame) == kind


@pytest.mark.parametrize(
    ("raw", "conversation_socket", "refused"),
    [
        (None, True, False),
        ("", False, False),
        ("legacy", True, False),
        ("legacy", False, True),
        ("Legacy", True, True),
        ("v2", True, True),
    ],
)
def test_protocol_refusal(raw: str | None, conversation_socket: bool, refused: bool) -> None:
    assert (legacy.protocol_refusal(raw, conversation_socket=conversation_socket) is not None) is refused
