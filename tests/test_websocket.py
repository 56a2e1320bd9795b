"""WebSocket protocol against the real ASGI app with real JWTs (docs/websocket.md).

Every frame type, every close code, and the authorization cases: stranger, removed
member, expired and revoked tokens, foreign origins.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from parley import events
from parley.conf import parley_settings
from parley.models import Event, Message
from parley.services.conversations import conversation_create_group, conversation_delete, conversation_start_direct
from parley.services.members import member_remove, members_add
from parley.services.messages import message_delete, message_edit, message_send
from parley.services.reads import read_pointer_move
from tests import hosts
from tests.conftest import PASSWORD
from tests.hosts import uid
from tests.ws import Socket, atoken_for

User = Any

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def direct_of(a: User, b: User) -> int:
    conversation, _ = await db(conversation_start_direct)(user=a, other_user_id=b.pk)
    return conversation.pk


async def send(user: User, cid: int, content: str = "hello", **kwargs) -> Message:
    message, _ = await db(message_send)(sender=user, conversation_id=cid, content=content, **kwargs)
    return message


async def opened(user: User, cid: int | None = None, **kwargs) -> Socket:
    sock = Socket.for_user(await atoken_for(user), cid, **kwargs)
    await sock.open()
    return sock


# --- Handshake ---------------------------------------------------------------------------------


async def test_conversation_socket_opens_with_ready_and_cursor(alice, bob):
    cid = await direct_of(alice, bob)
    await send(alice, cid)
    sock = Socket.for_user(await atoken_for(bob), cid)
    ready = await sock.open()
    assert ready == {"type": "ready", "user": uid(bob), "conversations": {str(cid): 1}, "online": []}
    await sock.close()


@pytest.mark.parametrize(
    ("token_kind", "code"),
    [("none_then_silence", 4401), ("garbage", 4401), ("expired", 4401), ("refresh", 4401), ("forged", 4401)],
)
async def test_bad_tokens_close_4401(alice, bob, settings, token_kind, code):
    settings.PARLEY = {**settings.PARLEY, "WS_AUTH_TIMEOUT_SECONDS": 0.3}
    cid = await direct_of(alice, bob)
    pair = await db(hosts.token_pair)(alice)
    if token_kind == "expired":
        token = AccessToken(pair["access"])
        token.set_exp(lifetime=-timedelta(seconds=1))
        raw = str(token)
    elif token_kind == "refresh":
        raw = pair["refresh"]
    elif token_kind == "forged":
        header, payload, _ = pair["access"].split(".")
        raw = f"{header}.{payload}.{'A' * 43}"
    elif token_kind == "garbage":
        raw = "not-a-jwt"
    else:
        raw = None
    sock = Socket.for_user(raw, cid)
    assert await sock.connect()  # accepted first, so the client can read the code
    assert await sock.closed_with(timeout=3) == code


async def test_stranger_gets_4403_and_missing_conversation_4404(alice, bob, carol):
    cid = await direct_of(alice, bob)
    stranger = Socket.for_user(await atoken_for(carol), cid)
    assert await stranger.connect()
    error = await stranger.receive()
    assert error["type"] == "error" and error["code"] == "not_participant"
    assert await stranger.closed_with() == 4403
    missing = Socket.for_user(await atoken_for(alice), 999_999)
    assert await missing.connect()
    assert await missing.closed_with() == 4404


async def test_auth_frame_instead_of_query_token(alice, bob):
    cid = await direct_of(alice, bob)
    early = Socket(f"/ws/chat/{cid}/")
    assert await early.connect()
    await early.send({"type": "message.send", "content": "too early", "ref": 1})
    assert (await early.receive_until("error"))["code"] == "not_authenticated"
    assert await early.closed_with() == 4401  # the auth frame comes first
    sock = Socket(f"/ws/chat/{cid}/")
    assert await sock.connect()
    await sock.send({"type": "auth", "token": await atoken_for(alice)})
    ready = await sock.receive_until("ready")
    assert ready["user"] == uid(alice)
    assert await db(Message.objects.count)() == 0  # the early send stored nothing
    await sock.close()


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),
        (b"http://localhost:8000", True),
        (b"https://127.0.0.1", True),
        (b"https://evil.example", False),
        (b"null", False),
    ],
)
async def test_origin_check(alice, bob, origin, allowed):
    cid = await direct_of(alice, bob)
    headers = [(b"origin", origin)] if origin else []
    sock = Socket.for_user(await atoken_for(alice), cid, headers=headers)
    assert await sock.connect()
    if allowed:
        assert (await sock.receive())["type"] == "ready"
        await sock.close()
    else:
        assert await sock.closed_with() == 4403


async def test_configured_origins(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "WS_ALLOWED_ORIGINS": ["https://chat.example.com"]}
    cid = await direct_of(alice, bob)
    good = Socket.for_user(await atoken_for(alice), cid, headers=[(b"origin", b"https://chat.example.com")])
    await good.open()
    await good.close()
    bad = Socket.for_user(await atoken_for(alice), cid, headers=[(b"origin", b"http://localhost")])
    assert await bad.connect()
    assert await bad.closed_with() == 4403


@pytest.mark.parametrize("since", ["abc", "-1"])
async def test_malformed_since_closes_4400(alice, bob, since):
    cid = await direct_of(alice, bob)
    sock = Socket(f"/ws/chat/{cid}/?token={await atoken_for(alice)}&since={since}")
    assert await sock.connect()
    assert (await sock.receive())["code"] == "invalid_since"
    assert await sock.closed_with() == 4400


async def test_malformed_user_socket_since(alice):
    sock = Socket(f"/ws/chat/?token={await atoken_for(alice)}&since=%5B1%5D")
    assert await sock.connect()
    assert await sock.closed_with() == 4400


# --- Commands and the frames they produce ------------------------------------------------------


async def test_send_edit_read_delete_over_socket(alice, bob):
    cid = await direct_of(alice, bob)
    a, b = await opened(alice, cid), await opened(bob, cid)

    await a.send({"type": "message.send", "content": "hi bob", "client_id": "c-1", "ref": "s1"})
    ack = await a.receive_until("ack")
    assert ack["ref"] == "s1" and ack["message"]["content"] == "hi bob" and ack["message"]["client_id"] == "c-1"
    created = await b.receive_until("message.created")
    assert created == {"type": "message.created", "conversation": cid, "seq": 1, "message": ack["message"]}
    assert (await a.receive_until("message.created"))["seq"] == 1  # the sender's socket too
    message_id = ack["message"]["id"]

    await a.send({"type": "message.edit", "message_id": message_id, "content": "hi, bob", "ref": "e1"})
    edited = await a.receive_until("ack")
    assert edited["message"]["content"] == "hi, bob" and edited["message"]["edited_at"]
    updated = await b.receive_until("message.updated")
    assert updated["seq"] == 2 and updated["message"]["content"] == "hi, bob"

    await b.send({"type": "message.read", "message_id": message_id, "ref": "r1"})
    read_ack = await b.receive_until("ack")
    assert read_ack["message"]["is_read"] is True
    read = await a.receive_until("message.read")
    assert read["seq"] == 3 and read["user"] == uid(bob) and read["message_id"] == message_id and read["read_at"]

    await a.send({"type": "message.delete", "message_id": message_id, "ref": "d1"})
    deleted_ack = await a.receive_until("ack")
    assert deleted_ack["message"]["is_deleted"] is True and deleted_ack["message"]["content"] == ""
    assert await b.receive_until("message.deleted") == {
        "type": "message.deleted",
        "conversation": cid,
        "seq": 4,
        "message_id": message_id,
    }
    seqs = await db(lambda: list(Event.objects.filter(conversation_id=cid).values_list("seq", flat=True)))()
    assert seqs == [1, 2, 3, 4]
    await a.close()
    await b.close()


async def test_rest_write_reaches_every_socket_of_every_participant(alice, bob, api):
    cid = await direct_of(alice, bob)
    sockets = [await opened(alice, cid), await opened(alice), await opened(bob, cid), await opened(bob)]
    client = await db(api)(alice)
    response = await db(client.post)(f"/api/chat/conversations/{cid}/send_message/", data={"content": "x"})
    assert response.status_code == 201
    for sock in sockets:
        frame = await sock.receive_until("message.created")
        assert frame["message"]["id"] == response.json()["id"]
        await sock.close()


async def test_socket_write_is_in_rest_history_at_once(alice, bob, api):
    cid = await direct_of(alice, bob)
    sock = await opened(alice, cid)
    await sock.send({"type": "message.send", "content": "durable", "ref": 1})
    ack = await sock.receive_until("ack")
    client = await db(api)(bob)
    history = (await db(client.get)(f"/api/chat/conversations/{cid}/messages/")).json()
    assert [m["id"] for m in history["results"]] == [ack["message"]["id"]]
    await sock.close()


async def test_legacy_frames(alice, bob):
    cid = await direct_of(alice, bob)
    a, b = await opened(alice, cid), await opened(bob, cid)
    await a.send({"content": "no type"})
    message = (await a.receive_until("ack"))["message"]
    assert message["content"] == "no type"
    await a.send({"type": "edit", "message_id": message["id"], "content": "edited"})
    assert (await b.receive_until("message.updated"))["message"]["content"] == "edited"
    await b.send({"type": "read", "message_id": message["id"]})
    assert (await a.receive_until("message.read"))["user"] == uid(bob)
    await a.send({"type": "delete", "message_id": message["id"]})
    assert (await b.receive_until("message.deleted"))["message_id"] == message["id"]
    await a.close()
    await b.close()


async def test_user_socket_commands_name_the_conversation(alice, bob, carol):
    cid = await direct_of(alice, bob)
    other = await direct_of(bob, carol)
    sock = await opened(alice)
    await sock.send({"type": "message.send", "content": "where?", "ref": 1})
    assert (await sock.receive_until("error"))["code"] == "missing_field"
    await sock.send({"type": "message.send", "conversation": other, "content": "not mine", "ref": 2})
    assert (await sock.receive_until("error"))["code"] == "not_participant"
    await sock.send({"type": "message.send", "conversation": cid, "content": "here", "ref": 3})
    assert (await sock.receive_until("ack"))["message"]["conversation"] == cid
    assert await db(Message.objects.filter(conversation_id=other).count)() == 0
    await sock.close()


async def test_command_about_a_message_of_another_conversation_is_refused(alice, bob, carol):
    first = await direct_of(alice, bob)
    second = await direct_of(alice, carol)
    elsewhere = await send(alice, second, "in the second conversation")
    sock = await opened(alice, first)
    for frame in (
        {"type": "message.edit", "message_id": elsewhere.pk, "content": "hijack"},
        {"type": "message.delete", "message_id": elsewhere.pk},
        {"type": "message.read", "message_id": elsewhere.pk},
        {"type": "message.send", "conversation": second, "content": "wrong socket"},
    ):
        await sock.send({**frame, "ref": "x"})
        assert (await sock.receive_until("error"))["code"] == "wrong_conversation"
    refreshed = await db(Message.objects.get)(pk=elsewhere.pk)
    assert refreshed.content == "in the second conversation" and not refreshed.is_deleted
    await sock.close()


async def test_only_the_sender_edits_or_deletes(alice, bob):
    cid = await direct_of(alice, bob)
    message = await send(alice, cid, "mine")
    sock = await opened(bob, cid)
    await sock.send({"type": "message.edit", "message_id": message.pk, "content": "yours?", "ref": 1})
    assert (await sock.receive_until("error"))["code"] == "not_sender"
    await sock.send({"type": "message.delete", "message_id": message.pk, "ref": 2})
    assert (await sock.receive_until("error"))["code"] == "not_sender"
    assert (await db(Message.objects.get)(pk=message.pk)).content == "mine"
    await sock.close()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"type": "launch.missiles"}', "unknown_type"),
        ('{"type": "message.edit", "content": "x"}', "missing_field"),
        ('{"type": "message.read", "message_id": "abc"}', "invalid_id"),
        ('{"type": "message.read", "message_id": 424242}', "not_found"),
        ('{"type": "message.send", "content": "   "}', "empty_message"),
        ('{"type": "message.send", "content": 12}', "invalid_type"),
        ('{"type": "message.send", "content": "a\\u0000b"}', "invalid_characters"),
        ('{"type": "typing", "is_typing": "yes"}', "invalid_field"),
        ('{"type": "auth"}', "missing_field"),
    ],
)
async def test_bad_frames_get_error_frames_and_keep_the_socket(alice, bob, raw, code):
    cid = await direct_of(alice, bob)
    sock = await opened(alice, cid)
    await sock.communicator.send_to(text_data=raw)
    error = await sock.receive_until("error")
    assert error["code"] == code and error["detail"]
    await sock.send({"type": "ping", "ref": "still-open"})
    assert await sock.receive_until("pong") == {"type": "pong", "ref": "still-open"}
    assert await db(Message.objects.count)() == 0
    await sock.close()


async def test_oversized_and_binary_frames(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "WS_MAX_FRAME_BYTES": 1000}
    cid = await direct_of(alice, bob)
    sock = await opened(alice, cid)
    await sock.send({"type": "message.send", "content": "x" * 2000})
    assert (await sock.receive_until("error"))["code"] == "frame_too_large"
    await sock.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await sock.receive_until("error"))["code"] == "binary_not_supported"
    await sock.send({"type": "message.send", "content": "x" * 10_001, "ref": 1})
    assert (await sock.receive_until("error"))["code"] == "frame_too_large"
    assert await db(Message.objects.count)() == 0
    await sock.close()


async def test_content_limit_matches_rest(alice, bob):
    cid = await direct_of(alice, bob)
    sock = await opened(alice, cid)
    await sock.send({"type": "message.send", "content": "x" * 10_001, "ref": 1})
    assert (await sock.receive_until("error"))["code"] == "content_too_long"
    await sock.send({"type": "message.send", "content": "x" * 10_000, "ref": 2})
    assert len((await sock.receive_until("ack"))["message"]["content"]) == 10_000
    await sock.close()


async def test_client_id_retry_returns_the_same_message(alice, bob):
    cid = await direct_of(alice, bob)
    sock = await opened(alice, cid)
    ids = set()
    for ref in range(3):
        await sock.send({"type": "message.send", "content": "once", "client_id": "retry-1", "ref": ref})
        ids.add((await sock.receive_until("ack"))["message"]["id"])
    assert len(ids) == 1
    assert await db(Message.objects.count)() == 1
    await sock.close()


async def test_typing_reaches_others_but_never_the_typist(alice, bob):
    cid = await direct_of(alice, bob)
    a_conv, a_user, b_conv = await opened(alice, cid), await opened(alice), await opened(bob, cid)
    for sock in (a_conv, a_user, b_conv):
        await sock.drain()
    await a_conv.send({"type": "typing", "is_typing": True, "ref": "t"})
    assert (await a_conv.receive_until("ack"))["forwarded"] is True
    frame = await b_conv.receive_until("typing")
    assert frame == {"type": "typing", "conversation": cid, "user": uid(alice), "username": "alice", "is_typing": True}
    assert [f for f in await a_conv.drain() if f["type"] == "typing"] == []
    assert [f for f in await a_user.drain(0.1) if f["type"] == "typing"] == []
    # A repeat inside the interval is coalesced; stopping always goes through.
    await a_conv.send({"type": "typing", "is_typing": True, "ref": "t2"})
    assert (await a_conv.receive_until("ack"))["forwarded"] is False
    await a_conv.send({"type": "typing", "is_typing": False})
    assert (await b_conv.receive_until("typing"))["is_typing"] is False
    for sock in (a_conv, a_user, b_conv):
        await sock.close()


async def test_presence_online_and_offline(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "PRESENCE_OFFLINE_GRACE_SECONDS": 0}  # at once (grace: test_presence_grace)
    cid = await direct_of(alice, bob)
    watcher = await opened(bob, cid)
    first = await opened(alice)
    assert await watcher.receive_until("presence") == {"type": "presence", "user": uid(alice), "online": True}
    second = await opened(alice, cid)  # still online: no new frame
    await first.close()
    assert await watcher.nothing(0.3)
    await second.close()
    assert await watcher.receive_until("presence") == {"type": "presence", "user": uid(alice), "online": False}
    # A newcomer learns who is online from `ready`.
    back_online = await opened(alice)
    late = Socket.for_user(await atoken_for(bob))
    assert (await late.open())["online"] == [uid(alice)]
    for sock in (watcher, late, back_online):
        await sock.close()


async def test_ping_pong(alice):
    sock = await opened(alice)
    await sock.send({"type": "ping", "ref": 7})
    assert await sock.receive_until("pong") == {"type": "pong", "ref": 7}
    await sock.close()


# --- Catch-up and ordering ------------------------------------------------------------------------


async def test_since_replays_missed_events_exactly_once_in_order(alice, bob):
    cid = await direct_of(alice, bob)
    first = await send(alice, cid, "one")
    await send(alice, cid, "two")
    await db(message_edit)(user=alice, message_id=first.pk, content="one, edited")
    await send(bob, cid, "three")
    sock = Socket.for_user(await atoken_for(bob), cid, since=1)
    await sock.connect()
    frames = [await sock.receive() for _ in range(4)]
    assert [f["seq"] for f in frames[:3]] == [2, 3, 4]
    assert frames[1]["message"]["content"] == "one, edited"  # replays show the current state
    assert frames[3] == {"type": "ready", "user": uid(bob), "conversations": {str(cid): 4}, "online": []}
    await send(alice, cid, "live")
    assert (await sock.receive_until("message.created"))["seq"] == 5
    assert await sock.nothing(0.2)
    await sock.close()


async def test_user_socket_since_map(alice, bob, carol):
    named = await direct_of(alice, bob)
    unnamed = await direct_of(alice, carol)
    for text in ("a", "b", "c"):
        await send(bob, named, text)
    await send(carol, unnamed, "old news")
    sock = Socket.for_user(await atoken_for(alice), since={str(named): 1})
    await sock.connect()
    replayed = [await sock.receive() for _ in range(2)]
    assert [(f["conversation"], f["seq"]) for f in replayed] == [(named, 2), (named, 3)]
    ready = await sock.receive_until("ready")
    assert ready["conversations"] == {str(named): 3, str(unnamed): 1}
    await sock.close()


async def test_replay_never_shows_deleted_content(alice, bob):
    cid = await direct_of(alice, bob)
    secret = await send(alice, cid, "regrettable")
    await db(message_delete)(user=alice, message_id=secret.pk)
    sock = Socket.for_user(await atoken_for(bob), cid, since=0)
    await sock.connect()
    created = await sock.receive_until("message.created")
    assert created["message"]["is_deleted"] is True and created["message"]["content"] == ""
    assert (await sock.receive_until("message.deleted"))["message_id"] == secret.pk
    await sock.close()


async def test_a_lost_doorbell_is_filled_from_the_database(alice, bob):
    cid = await direct_of(alice, bob)
    sock = await opened(bob, cid)
    capacity = events.doorbell.max_pending
    events.doorbell.max_pending = 0  # the channel layer loses the next frame
    try:
        await send(alice, cid, "lost in transit")
    finally:
        events.doorbell.max_pending = capacity
    assert await sock.nothing(0.2)
    await send(alice, cid, "arrives")
    first = await sock.receive_until("message.created")
    second = await sock.receive_until("message.created")
    assert (first["seq"], first["message"]["content"]) == (1, "lost in transit")
    assert (second["seq"], second["message"]["content"]) == (2, "arrives")
    await sock.close()


async def test_periodic_resync_catches_a_lost_doorbell_without_new_events(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "WS_HEARTBEAT_SECONDS": 0.1}
    settings.PARLEY = {**settings.PARLEY, "WS_RESYNC_SECONDS": 0.1}
    cid = await direct_of(alice, bob)
    sock = await opened(bob, cid)
    capacity = events.doorbell.max_pending
    events.doorbell.max_pending = 0
    try:
        await send(alice, cid, "quiet conversation")
    finally:
        events.doorbell.max_pending = capacity
    frame = await sock.receive_until("message.created", timeout=3)
    assert frame["message"]["content"] == "quiet conversation"
    await sock.close()


# --- Membership takes effect at once ---------------------------------------------------------------


async def test_removed_member_stops_receiving_at_once(alice, bob, carol):
    group = await db(conversation_create_group)(creator=alice, title="team", participant_ids=[uid(bob), uid(carol)])
    conv_sock, user_sock = await opened(carol, group.pk), await opened(carol)
    await db(member_remove)(actor=alice, conversation_id=group.pk, user_id=uid(carol))
    removed = await conv_sock.receive_until("member.removed")
    assert removed["user"] == uid(carol) and removed["by"] == uid(alice)
    assert await conv_sock.closed_with() == 4403
    assert (await user_sock.receive_until("member.removed"))["user"] == uid(carol)
    gone = await user_sock.receive_until("conversation.removed")
    assert gone == {"type": "conversation.removed", "conversation": {"id": group.pk}, "reason": "removed"}
    await send(alice, group.pk, "after carol left")
    await user_sock.send({"type": "typing", "conversation": group.pk})
    assert (await user_sock.receive_until("error"))["code"] == "not_participant"
    assert await user_sock.nothing(0.3)
    reopened = Socket.for_user(await atoken_for(carol), group.pk)
    assert await reopened.connect()
    assert await reopened.closed_with() == 4403
    await user_sock.close()


async def test_added_member_user_socket_subscribes_by_itself(alice, bob, carol):
    group = await db(conversation_create_group)(creator=alice, title="team", participant_ids=[uid(bob)])
    await send(alice, group.pk, "before carol")
    sock = await opened(carol)
    await db(members_add)(actor=alice, conversation_id=group.pk, user_ids=[uid(carol)])
    created = await sock.receive_until("conversation.created")
    assert created["conversation"]["id"] == group.pk and created["conversation"]["kind"] == "group"
    await send(bob, group.pk, "welcome carol")
    frame = await sock.receive_until("message.created")
    assert frame["message"]["content"] == "welcome carol"
    await sock.close()


async def test_new_direct_conversation_appears_on_the_user_socket(alice, bob):
    sock = await opened(bob)
    cid = await direct_of(alice, bob)
    created = await sock.receive_until("conversation.created")
    assert created["conversation"]["id"] == cid and sorted(created["conversation"]["participants"]) == sorted(
        [uid(alice), uid(bob)]
    )
    await send(alice, cid, "first")
    assert (await sock.receive_until("message.created"))["seq"] == 1
    await sock.close()


async def test_deleted_group_closes_conversation_sockets_4404(alice, bob):
    group = await db(conversation_create_group)(creator=alice, title="doomed", participant_ids=[uid(bob)])
    conv_sock, user_sock = await opened(bob, group.pk), await opened(bob)
    await db(conversation_delete)(user=alice, conversation_id=group.pk)
    assert (await conv_sock.receive_until("conversation.removed"))["reason"] == "deleted"
    assert await conv_sock.closed_with() == 4404
    assert (await user_sock.receive_until("conversation.removed"))["reason"] == "deleted"
    await user_sock.close()


async def test_mark_read_updates_the_readers_other_sockets(alice, bob):
    cid = await direct_of(alice, bob)
    message = await send(alice, cid, "read me")
    other_device = await opened(bob)
    await db(read_pointer_move)(user=bob, message_id=message.pk)
    assert (await other_device.receive_until("message.read"))["user"] == uid(bob)
    updated = await other_device.receive_until("conversation.updated")
    assert updated["conversation"]["id"] == cid and updated["conversation"]["unread_count"] == 0
    await other_device.close()


# --- Sessions end live access -------------------------------------------------------------------------


@pytest.mark.standalone
async def test_logout_closes_only_that_sessions_sockets(alice):
    from server.accounts.services import session_logout

    session_a = await db(hosts.token_pair)(alice)
    session_b = await db(hosts.token_pair)(alice)
    sock_a = Socket.for_user(session_a["access"])
    sock_b = Socket.for_user(session_b["access"])
    await sock_a.open()
    await sock_b.open()
    started = time.monotonic()
    await db(session_logout)(refresh=session_a["refresh"])
    assert (await sock_a.receive_until("error"))["code"] == "session_ended"
    assert await sock_a.closed_with() == 4401
    assert time.monotonic() - started < 1
    await sock_b.send({"type": "ping"})
    assert (await sock_b.receive_until("pong"))["type"] == "pong"
    reopened = Socket.for_user(session_a["access"])
    assert await reopened.connect()
    assert await reopened.closed_with() == 4401
    await sock_b.close()


@pytest.mark.standalone
async def test_password_change_and_deactivation_close_every_socket(alice, bob):
    from server.accounts.services import user_change_password

    sockets = [await opened(alice), await opened(alice)]
    await db(user_change_password)(user=alice, old_password=PASSWORD, new_password="another-long-passphrase")
    for sock in sockets:
        assert await sock.closed_with() == 4401
    sock = await opened(bob)

    def deactivate() -> None:
        bob.is_active = False
        bob.save()

    await db(deactivate)()
    assert await sock.closed_with() == 4401


async def test_token_expiry_closes_unless_refreshed(alice, bob):
    cid = await direct_of(alice, bob)
    pair = await db(hosts.token_pair)(alice)
    short = AccessToken(pair["access"])
    short.set_exp(lifetime=timedelta(seconds=1))
    sock = Socket.for_user(str(short), cid)
    await sock.open()
    assert (await sock.receive_until("error", timeout=3))["code"] == "token_expired"
    assert await sock.closed_with() == 4401

    again = Socket.for_user(str(short), cid)
    short_again = AccessToken(pair["access"])
    short_again.set_exp(lifetime=timedelta(seconds=1))
    again = Socket.for_user(str(short_again), cid)
    await again.open()
    await again.send({"type": "auth", "token": await atoken_for(alice), "ref": "fresh"})
    ack = await again.receive_until("ack")
    assert ack["ref"] == "fresh" and ack["expires_at"] > time.time() + 60
    await asyncio.sleep(1.5)
    await again.send({"type": "ping"})
    assert (await again.receive_until("pong"))["type"] == "pong"
    await again.close()


async def test_auth_frame_with_another_users_token_is_refused(alice, bob):
    sock = await opened(alice)
    await sock.send({"type": "auth", "token": await atoken_for(bob), "ref": 1})
    assert (await sock.receive_until("error"))["code"] == "wrong_user"
    await sock.close()


# --- Limits ------------------------------------------------------------------------------------


async def test_command_rate_limit_then_flood_close(alice, bob, settings, frozen_command_clock):
    settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS": {**parley_settings.RATE_LIMITS, "ws_command": "5/1"}}
    cid = await direct_of(alice, bob)
    flooder, bystander = await opened(alice, cid), await opened(bob, cid)
    await flooder.drain()
    for _ in range(6):
        await flooder.send({"type": "ping"})
    frames = [await flooder.receive() for _ in range(6)]
    assert [f["type"] for f in frames].count("pong") == 5
    assert any(f["type"] == "error" and f["code"] == "rate_limited" for f in frames)
    for _ in range(10):
        await flooder.send({"type": "ping"})
    assert await flooder.closed_with() == 4429
    await bystander.send({"type": "ping"})
    assert (await bystander.receive_until("pong"))["type"] == "pong"
    await bystander.close()


async def test_send_budget_is_shared_with_rest(alice, bob, api, settings):
    settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS": {**parley_settings.RATE_LIMITS, "send": "3/60"}}
    cid = await direct_of(alice, bob)
    client = await db(api)(alice)
    for n in range(2):
        response = await db(client.post)(f"/api/chat/conversations/{cid}/send_message/", data={"content": f"r{n}"})
        assert response.status_code == 201
    sock = await opened(alice, cid)
    await sock.send({"type": "message.send", "content": "third", "ref": 1})
    assert (await sock.receive_until("ack"))["ref"] == 1
    await sock.send({"type": "message.send", "content": "fourth", "ref": 2})
    assert (await sock.receive_until("error"))["code"] == "rate_limited"
    response = await db(client.post)(f"/api/chat/conversations/{cid}/send_message/", data={"content": "fifth"})
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert await db(Message.objects.count)() == 3
    await sock.close()


async def test_sockets_per_user_limit(alice, settings):
    settings.PARLEY = {**settings.PARLEY, "WS_MAX_SOCKETS_PER_USER": 2}
    kept = [await opened(alice), await opened(alice)]
    third = Socket.for_user(await atoken_for(alice))
    assert await third.connect()
    assert (await third.receive())["code"] == "too_many_sockets"
    assert await third.closed_with() == 4429
    await kept[0].close()
    replacement = await opened(alice)  # the refused socket did not keep a slot
    await replacement.close()
    await kept[1].close()
