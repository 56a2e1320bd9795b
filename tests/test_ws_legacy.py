"""The original backend's socket protocol (`?protocol=legacy`, docs/websocket.md), on
the real ASGI app: every legacy frame exactly, catch-up and gap fill in legacy mode,
the original's client frames on both protocols, bad input, and the handshake choices.

A legacy socket sends no `ready`, so `settle()` pings it: the `pong` is served after
the handshake (catch-up included) finished, and every frame before it is returned.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from channels.db import database_sync_to_async

from parley import events
from parley.models import Event, Message
from parley.realtime import commands
from parley.representations import message_json
from parley.services.conversations import (
    conversation_create_group,
    conversation_delete,
    conversation_rename,
    conversation_start_direct,
)
from parley.services.members import member_remove, members_add
from parley.services.messages import message_delete, message_edit, message_send
from parley.services.reads import read_pointer_move
from tests.hosts import uid
from tests.ws import Socket, atoken_for

User = Any

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def direct_of(a: User, b: User) -> int:
    conversation, _ = await db(conversation_start_direct)(user=a, other_user_id=b.pk)
    return conversation.pk


async def send(user: User, cid: int, content: str = "hello") -> Message:
    message, _ = await db(message_send)(sender=user, conversation_id=cid, content=content)
    return message


async def current(message_id: int) -> dict[str, Any]:
    """The message's REST JSON now (what replays show)."""
    return await db(lambda: message_json(Message.objects.select_related("sender").get(pk=message_id)))()


async def read_at(cid: int, seq: int) -> str:
    return await db(lambda: Event.objects.get(conversation_id=cid, seq=seq).data["read_at"])()


def legacy_socket(token: str, cid: int | None, *, since: Any = None, protocol: str = "legacy") -> Socket:
    path = f"/ws/chat/{cid}/" if cid is not None else "/ws/chat/"
    path += f"?token={token}&protocol={quote(protocol)}"
    if since is not None:
        path += f"&since={since}"
    return Socket(path)


async def settle(sock: Socket, ref: str = "settle") -> list[dict[str, Any]]:
    await sock.send({"type": "ping", "ref": ref})
    frames = []
    while (frame := await sock.receive())["type"] != "pong":
        assert frame["type"] != "__closed__", frame
        frames.append(frame)
    assert frame == {"type": "pong", "ref": ref}
    return frames


async def open_legacy(user: User, cid: int, *, since: Any = None) -> tuple[Socket, list[dict[str, Any]]]:
    sock = legacy_socket(await atoken_for(user), cid, since=since)
    assert await sock.connect()
    return sock, await settle(sock)


async def opened(user: User, cid: int | None = None) -> Socket:
    sock = Socket.for_user(await atoken_for(user), cid)
    await sock.open()
    return sock


# --- Every legacy frame, exactly --------------------------------------------------------------


async def test_each_legacy_frame_exactly(alice, bob):
    cid = await direct_of(alice, bob)
    old, opening = await open_legacy(alice, cid)
    assert opening == []  # no ready, and bob is offline: nothing before the pong
    ours = await opened(bob, cid)  # its presence frame to alice is dropped

    await ours.send({"type": "message.send", "content": "hello alice", "ref": 1})
    sent = (await ours.receive_until("ack"))["message"]
    assert await old.receive() == {
        "type": "chat_message",
        "message_id": sent["id"],
        "sender": "bob",
        "content": "hello alice",
        "timestamp": sent["timestamp"],
    }

    await ours.send({"type": "typing", "is_typing": True})
    assert await old.receive() == {"type": "typing", "username": "bob", "is_typing": True}
    await ours.send({"type": "typing", "is_typing": False})
    assert await old.receive() == {"type": "typing", "username": "bob", "is_typing": False}

    await ours.send({"type": "message.edit", "message_id": sent["id"], "content": "hello, alice", "ref": 2})
    edited = (await ours.receive_until("ack"))["message"]
    assert edited["edited_at"]
    assert await old.receive() == {
        "type": "edit",
        "message_id": sent["id"],
        "content": "hello, alice",
        "edited_at": edited["edited_at"],
        "editor": "bob",
    }

    await old.send({"type": "read", "message_id": sent["id"]})  # the original's read frame; no ack
    read = await ours.receive_until("message.read")
    assert await old.receive() == {
        "type": "read_receipt",
        "message_id": sent["id"],
        "reader": "alice",
        "read_at": read["read_at"],
    }

    await ours.send({"type": "message.delete", "message_id": sent["id"], "ref": 3})
    assert await old.receive() == {"type": "delete", "message_id": sent["id"], "deleter": "bob"}

    await old.send({"type": "message", "content": 5})
    assert await old.receive() == {"type": "error", "message": "Content must be a string."}
    assert await old.nothing(0.3)

    await ours.close()  # bob's offline presence: dropped too
    assert await old.nothing(0.3)
    await old.close()


async def test_what_a_legacy_sender_sees_of_its_own_writes(alice, bob):
    """As on the original: the sender's chat_message comes back on its own socket; our
    acks are only sent to a frame that carries a `ref`."""
    cid = await direct_of(alice, bob)
    old, _ = await open_legacy(alice, cid)
    await old.send({"type": "message", "content": "typed"})
    first = await old.receive()
    await old.send({"content": "no type at all"})
    second = await old.receive()
    assert await old.nothing(0.3)
    stored = await db(lambda: list(Message.objects.order_by("id").values_list("id", "content")))()
    assert stored == [(first["message_id"], "typed"), (second["message_id"], "no type at all")]
    for frame, (message_id, content) in zip((first, second), stored, strict=True):
        assert frame == {
            "type": "chat_message",
            "message_id": message_id,
            "sender": "alice",
            "content": content,
            "timestamp": (await current(message_id))["timestamp"],
        }

    await old.send({"type": "message", "content": "with ref", "ref": "r1"})
    replies = [await old.receive(), await old.receive()]  # the ack and the echo, in either order
    ack = next(f for f in replies if f["type"] == "ack")
    assert ack == {"type": "ack", "ref": "r1", "message": await current(ack["message"]["id"])}
    assert [f["type"] for f in replies if f is not ack] == ["chat_message"]
    await old.close()


# --- The original's `message` frame, on every socket ----------------------------------------------


async def test_message_frame_sends_on_our_protocol_too(alice, bob):
    cid = await direct_of(alice, bob)
    conv_sock, user_sock = await opened(alice, cid), await opened(alice)
    await conv_sock.send({"type": "message", "content": "on the conversation socket", "ref": "c"})
    ack = await conv_sock.receive_until("ack")
    assert ack["ref"] == "c" and ack["message"]["content"] == "on the conversation socket"
    created = await conv_sock.receive_until("message.created")
    assert created == {"type": "message.created", "conversation": cid, "seq": 1, "message": ack["message"]}

    await user_sock.send({"type": "message", "conversation": cid, "content": "on the user socket", "ref": "u"})
    ack = await user_sock.receive_until("ack")
    assert ack["ref"] == "u" and ack["message"]["conversation"] == cid
    await user_sock.send({"type": "message", "content": "where to?", "ref": "x"})
    assert (await user_sock.receive_until("error"))["code"] == "missing_field"
    contents = await db(lambda: list(Message.objects.order_by("id").values_list("content", flat=True)))()
    assert contents == ["on the conversation socket", "on the user socket"]
    await conv_sock.close()
    await user_sock.close()


# --- Catch-up and ordering in legacy mode -----------------------------------------------------------


async def test_reconnect_with_since_replays_in_order_then_goes_live(alice, bob):
    cid = await direct_of(alice, bob)
    one = await send(alice, cid, "one")  # seq 1
    sock, _ = await open_legacy(alice, cid)
    await sock.close()
    # While alice is away:
    two = await send(bob, cid, "two")  # 2
    await db(message_edit)(user=alice, message_id=one.pk, content="one, edited")  # 3
    await db(read_pointer_move)(user=bob, message_id=one.pk)  # 4
    regret = await send(bob, cid, "regret")  # 5
    await db(message_delete)(user=bob, message_id=regret.pk)  # 6

    sock, replayed = await open_legacy(alice, cid, since=1)
    now_one, now_two, now_regret = await current(one.pk), await current(two.pk), await current(regret.pk)
    assert replayed == [
        {
            "type": "chat_message",
            "message_id": two.pk,
            "sender": "bob",
            "content": "two",
            "timestamp": now_two["timestamp"],
        },
        {
            "type": "edit",
            "message_id": one.pk,
            "content": "one, edited",
            "edited_at": now_one["edited_at"],
            "editor": "alice",
        },
        {"type": "read_receipt", "message_id": one.pk, "reader": "bob", "read_at": await read_at(cid, 4)},
        # Replays show a message as it is now (as ours do): deleted since, so no content.
        {
            "type": "chat_message",
            "message_id": regret.pk,
            "sender": "bob",
            "content": "",
            "timestamp": now_regret["timestamp"],
        },
        {"type": "delete", "message_id": regret.pk, "deleter": "bob"},
    ]
    live = await send(bob, cid, "live")  # 7
    assert await sock.receive() == {
        "type": "chat_message",
        "message_id": live.pk,
        "sender": "bob",
        "content": "live",
        "timestamp": (await current(live.pk))["timestamp"],
    }
    assert await sock.nothing(0.3)  # nothing twice
    await sock.close()

    # `since` is exclusive, and a socket that is up to date gets nothing but live frames.
    again, replayed = await open_legacy(alice, cid, since=6)
    assert [f["message_id"] for f in replayed] == [live.pk]
    await again.close()
    fresh, replayed = await open_legacy(alice, cid, since=7)
    assert replayed == []
    await fresh.close()


async def test_a_lost_doorbell_is_filled_in_order_in_legacy_mode(alice, bob):
    cid = await direct_of(alice, bob)
    sock, _ = await open_legacy(alice, cid)
    capacity = events.doorbell.max_pending
    events.doorbell.max_pending = 0  # the channel layer loses the next frame
    try:
        lost = await send(bob, cid, "lost in transit")
    finally:
        events.doorbell.max_pending = capacity
    assert await sock.nothing(0.2)
    arrives = await send(bob, cid, "arrives")
    frames = [await sock.receive(), await sock.receive()]
    assert [(f["type"], f["message_id"], f["content"]) for f in frames] == [
        ("chat_message", lost.pk, "lost in transit"),
        ("chat_message", arrives.pk, "arrives"),
    ]
    assert await sock.nothing(0.2)
    await sock.close()


async def test_group_frames_the_original_lacked_are_dropped_without_losing_order(alice, bob, carol):
    group = await db(conversation_create_group)(creator=alice, title="team", participant_ids=[bob.pk, carol.pk])
    said = await send(carol, group.pk, "from carol")
    await db(member_remove)(actor=alice, conversation_id=group.pk, user_id=carol.pk)
    after = await send(alice, group.pk, "carol left")
    # carol is no longer a member: her username comes from the users table, not the members.
    sock, replayed = await open_legacy(bob, group.pk, since=0)
    assert [(f["type"], f["message_id"], f["sender"], f["content"]) for f in replayed] == [
        ("chat_message", said.pk, "carol", "from carol"),
        ("chat_message", after.pk, "alice", "carol left"),
    ]
    await db(conversation_rename)(user=alice, conversation_id=group.pk, title="renamed")
    await db(members_add)(actor=alice, conversation_id=group.pk, user_ids=[carol.pk])
    back = await send(carol, group.pk, "back")
    frame = await sock.receive()
    assert (frame["type"], frame["message_id"], frame["sender"]) == ("chat_message", back.pk, "carol")
    seqs = await db(lambda: list(Event.objects.filter(conversation_id=group.pk).values_list("type", flat=True)))()
    assert "conversation.renamed" in seqs and "members.added" in seqs  # sent as events, dropped here
    # A deleted conversation still closes the socket (4404); its conversation.removed is dropped.
    await db(conversation_delete)(user=alice, conversation_id=group.pk)
    assert await sock.receive() == {"type": "__closed__", "code": 4404}


async def test_live_frames_of_members_need_no_lookup(alice, bob, carol, monkeypatch):
    lookups = []
    real = commands.legacy_names

    def counted(**kwargs: Any) -> Any:
        lookups.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(commands, "legacy_names", counted)
    group = await db(conversation_create_group)(creator=alice, title="team", participant_ids=[bob.pk])
    sock, _ = await open_legacy(alice, group.pk)
    assert len(lookups) == 1 and lookups[0]["conversation_id"] == group.pk  # the members, at open
    ours = await opened(bob, group.pk)
    for n in range(3):
        await ours.send({"type": "message.send", "content": f"m{n}", "ref": n})
        message_id = (await ours.receive_until("ack"))["message"]["id"]
    await ours.send({"type": "message.edit", "message_id": message_id, "content": "edited", "ref": "e"})
    await ours.receive_until("ack")
    await ours.send({"type": "typing", "ref": "t"})
    await ours.receive_until("ack")
    await db(read_pointer_move)(user=bob, message_id=message_id)
    await ours.send({"type": "message.delete", "message_id": message_id, "ref": "d"})
    await ours.receive_until("ack")
    await db(members_add)(actor=alice, conversation_id=group.pk, user_ids=[carol.pk])  # names carol
    await send(carol, group.pk, "hi all")
    frames = [await sock.receive() for _ in range(8)]
    assert [f["type"] for f in frames] == ["chat_message"] * 3 + ["edit", "typing", "read_receipt", "delete"] + [
        "chat_message"
    ]
    assert [frames[3]["editor"], frames[5]["reader"], frames[6]["deleter"], frames[7]["sender"]] == [
        "bob",
        "bob",
        "bob",
        "carol",
    ]
    assert len(lookups) == 1
    await ours.close()
    await sock.close()


# --- Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "message", "code"),
    [
        ({"type": "message", "content": 5}, "Content must be a string.", "invalid_type"),
        ({"content": 5}, "Content must be a string.", "invalid_type"),
        ({"type": "message", "content": ["hi"]}, "Content must be a string.", "invalid_type"),
        ({"type": "message", "content": None}, "Provide content or an attachment.", "empty_message"),
        ({"type": "read", "message_id": "x"}, "Must be a positive integer id.", "invalid_id"),
        ({"type": "delete", "message_id": True}, "Must be an integer id.", "invalid_id"),
        ({"type": "edit", "message_id": "x", "content": "y"}, "Must be a positive integer id.", "invalid_id"),
        ({"type": "edit", "message_id": "MINE", "content": 5}, "Content must be a string.", "invalid_type"),
        ({"type": "edit", "message_id": "MINE"}, "Missing field(s): content.", "missing_field"),
        ({"type": "typing", "is_typing": "yes"}, "'is_typing' must be true or false.", "invalid_field"),
        ({"type": 5, "content": "x"}, "'type' must be a string naming a command.", "unknown_type"),
    ],
)
@pytest.mark.parametrize("protocol", ["legacy", "ours"])
async def test_wrong_field_types_get_an_error_and_store_nothing(alice, bob, frame, message, code, protocol):
    cid = await direct_of(alice, bob)
    mine = await send(alice, cid, "mine")
    frame = {k: mine.pk if v == "MINE" else v for k, v in frame.items()}
    events_before = await db(Event.objects.count)()
    watcher = await opened(bob, cid)
    if protocol == "legacy":
        sock, _ = await open_legacy(alice, cid)
    else:
        sock = await opened(alice, cid)
        await settle(sock)  # past the presence snapshot that follows `ready`
    await watcher.drain()  # alice's presence
    await sock.send(frame)
    error = await sock.receive_until("error")
    if protocol == "legacy":
        assert error == {"type": "error", "message": message}
    else:
        assert error == {"type": "error", "ref": None, "code": code, "detail": message}
    assert await settle(sock) == []  # still open, and nothing else was sent
    assert [f["type"] for f in await watcher.drain()] == []
    assert await db(Event.objects.count)() == events_before
    assert await db(lambda: list(Message.objects.values_list("content", flat=True)))() == ["mine"]
    await sock.close()
    await watcher.close()


# --- Handshake -------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["v2", "LEGACY", "legacy,parley"])
async def test_unknown_protocol_closes_4400(alice, bob, protocol):
    cid = await direct_of(alice, bob)
    sock = legacy_socket(await atoken_for(alice), cid, protocol=protocol)
    assert await sock.connect()
    error = await sock.receive()
    assert error["type"] == "error" and error["ref"] is None and error["code"] == "invalid_protocol"
    assert repr(protocol) in error["detail"]
    assert await sock.closed_with() == 4400


async def test_empty_protocol_is_ours(alice, bob):
    cid = await direct_of(alice, bob)
    sock = legacy_socket(await atoken_for(alice), cid, protocol="")
    assert await sock.connect()
    assert await sock.receive() == {"type": "ready", "user": uid(alice), "conversations": {str(cid): 0}, "online": []}
    await sock.close()


async def test_legacy_on_the_user_socket_closes_4400(alice):
    sock = legacy_socket(await atoken_for(alice), None)
    assert await sock.connect()
    assert await sock.receive() == {
        "type": "error",
        "message": "The legacy protocol is served on /ws/chat/<conversation id>/ only.",
    }
    assert await sock.closed_with() == 4400


async def test_legacy_handshake_failures_keep_their_close_codes(alice, bob, carol):
    cid = await direct_of(alice, bob)
    stranger = legacy_socket(await atoken_for(carol), cid)
    assert await stranger.connect()
    assert await stranger.receive() == {"type": "error", "message": "You are not a participant of this conversation."}
    assert await stranger.closed_with() == 4403
    bad_since = legacy_socket(await atoken_for(alice), cid, since="abc")
    assert await bad_since.connect()
    assert await bad_since.receive() == {"type": "error", "message": "'since' must be a non-negative integer seq."}
    assert await bad_since.closed_with() == 4400
    no_token = Socket(f"/ws/chat/{cid}/?token=garbage&protocol=legacy")
    assert await no_token.connect()
    assert (await no_token.receive())["type"] == "error"
    assert await no_token.closed_with() == 4401
