"""Every limit at its default, and the measured behaviour one step over it.

Defaults (docs/operations.md, .env.example): login 10/min per IP and per username,
register 10/h per IP, 1,200 sends/min per user shared by REST and WebSocket, typing
one event per 2 s, 60 WebSocket commands/s per socket (far over: closed 4429),
20 sockets per user, 64 KiB frames, 500 messages per page, 1,000 group members,
10,000 characters of content. Each test records `{limit, at_limit, one_over}`.
The slow suite repeats the send budget across two server processes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings as django_settings

from parley.common.ratelimit import parse_rate, rate_limit_hit
from parley.conf import parley_settings
from parley.models import Conversation, Membership, Message
from parley.services.conversations import conversation_create_group, conversation_start_direct
from server.accounts.models import User
from server.accounts.tokens import token_pair_for_user
from tests.conftest import PASSWORD, Api, body
from tests.figures import record
from tests.helpers import bulk_messages, conv_url
from tests.ws import Socket

db = database_sync_to_async


def from_ip(ip: str) -> Any:
    """A POST through the ASGI app from another client address."""
    from tests.conftest import in_process_application

    application = in_process_application()

    async def post(path: str, json: dict[str, Any]) -> httpx.Response:
        transport = httpx.ASGITransport(app=application, client=(ip, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(path, json=json)
            await response.aread()
            return response

    return async_to_sync(post)


def fresh_window(window: int, *, room: float = 10.0) -> None:
    """Wait, when the fixed window ends within `room` seconds, for the next one: a test
    that counts a limit's requests must not see the counters reset halfway (the suite
    under load once took longer than the last seconds of a 60 s window)."""
    left = window - time.time() % window
    if window > room and left < room:
        time.sleep(left + 0.05)


def test_login_limit_per_ip_and_per_username(alice: User) -> None:
    limit, window = parse_rate(django_settings.RATE_LIMITS["login"])
    fresh_window(window)
    same_ip = from_ip("10.0.0.1")
    statuses = [
        same_ip("/api/auth/login/", {"username": f"nobody{i}", "password": "wrong"}).status_code
        for i in range(limit + 1)
    ]
    assert statuses[:limit] == [401] * limit
    over = same_ip("/api/auth/login/", {"username": "alice", "password": PASSWORD})
    assert over.status_code == 429 and body(over)["code"] == "rate_limited" and int(over.headers["Retry-After"]) >= 1

    # One username from many addresses: the per-username budget holds.
    per_user = [
        from_ip(f"10.1.0.{i}")("/api/auth/login/", {"username": "alice", "password": "wrong"}).status_code
        for i in range(limit + 1)
    ]
    assert per_user[:limit] == [401] * limit and per_user[limit] == 429
    # A correct password from a fresh address is refused too while the name is over.
    assert from_ip("10.2.0.1")("/api/auth/login/", {"username": "alice", "password": PASSWORD}).status_code == 429
    record(
        "limit_login",
        limit=f"{limit}/{window}s per IP and per username",
        at_limit=statuses[limit - 1],
        one_over=statuses[limit],
        one_over_per_username=per_user[limit],
    )


def test_register_limit_per_ip(db: None) -> None:
    limit, window = parse_rate(django_settings.RATE_LIMITS["register"])
    fresh_window(window)
    post = from_ip("10.3.0.1")
    statuses = [
        post("/api/auth/register/", {"username": f"newcomer{i}", "password": PASSWORD}).status_code
        for i in range(limit + 1)
    ]
    assert statuses == [201] * limit + [429]
    assert User.objects.filter(username__startswith="newcomer").count() == limit
    record("limit_register", limit=f"{limit}/{window}s per IP", at_limit=statuses[-2], one_over=statuses[-1])


@pytest.mark.django_db(transaction=True)
async def test_send_budget_is_one_budget_for_rest_and_websocket(make_user: Any) -> None:
    limit, window = parse_rate(django_settings.RATE_LIMITS["send"])
    alice, bob = await db(make_user)("alice"), await db(make_user)("bob")
    conversation, _ = await db(conversation_start_direct)(user=alice, other_user_id=bob.pk)
    cid = conversation.pk
    fresh_window(window, room=20.0)
    # The first limit - 2 sends of the window, counted exactly as message_send counts them.
    for _ in range(limit - 2):
        await db(rate_limit_hit)(scope="send", key=alice.pk)
    token = await db(lambda: token_pair_for_user(alice)["access"])()
    client = Api(token)
    sock = Socket.for_user(token, cid)
    await sock.open()

    rest_at = await db(client.post)(conv_url(cid, "send_message"), json={"content": "REST, limit - 1"})
    await sock.send({"type": "message.send", "content": "WS, at the limit", "ref": 1})
    ws_at = await sock.receive_until("ack")
    rest_over = await db(client.post)(conv_url(cid, "send_message"), json={"content": "REST, one over"})
    await sock.send({"type": "message.send", "content": "WS, one over", "ref": 2})
    ws_over = await sock.receive_until("error")
    bob_token = await db(lambda: token_pair_for_user(bob)["access"])()
    bob_send = await db(Api(bob_token).post)(conv_url(cid, "send_message"), json={"content": "bob's own budget"})

    assert rest_at.status_code == 201 and ws_at["ref"] == 1
    assert rest_over.status_code == 429 and rest_over.json()["code"] == "rate_limited"
    assert ws_over["code"] == "rate_limited" and ws_over["ref"] == 2
    assert bob_send.status_code == 201
    stored = await db(lambda: list(Message.objects.values_list("content", flat=True)))()
    assert sorted(stored) == sorted(["REST, limit - 1", "WS, at the limit", "bob's own budget"])
    await sock.send({"type": "ping", "ref": "open"})
    assert (await sock.receive_until("pong"))["ref"] == "open"  # refused, not closed
    await sock.close()
    record(
        "limit_send",
        limit=f"{limit}/{window}s per user, REST and WebSocket together",
        at_limit={"rest": rest_at.status_code, "ws": "ack"},
        one_over={"rest": rest_over.status_code, "ws": ws_over["code"]},
    )


async def typist_and_reader(make_user: Any) -> tuple[Socket, Socket]:
    """Alice's and Bob's open sockets on a new direct conversation of theirs."""
    alice, bob = await db(make_user)("alice"), await db(make_user)("bob")
    conversation, _ = await db(conversation_start_direct)(user=alice, other_user_id=bob.pk)
    typist = Socket.for_user(await db(lambda: token_pair_for_user(alice)["access"])(), conversation.pk)
    reader = Socket.for_user(await db(lambda: token_pair_for_user(bob)["access"])(), conversation.pk)
    await typist.open()
    await reader.open()
    await reader.drain(0.05)
    return typist, reader


@pytest.mark.django_db(transaction=True)
async def test_typing_is_coalesced_to_one_event_per_interval(make_user: Any) -> None:
    typist, reader = await typist_and_reader(make_user)
    for i in range(20):
        await typist.send({"type": "typing", "is_typing": True, "ref": i})
    acks = [await typist.receive_until("ack") for _ in range(20)]
    forwarded = [f for f in await reader.drain(0.3) if f["type"] == "typing"]
    assert [a["forwarded"] for a in acks] == [True] + [False] * 19
    assert len(forwarded) == 1
    record(
        "limit_typing",
        limit=f"1 event per {parley_settings.TYPING_INTERVAL_SECONDS:g} s per socket and conversation",
        frames_sent=20,
        events_forwarded=len(forwarded),
    )
    await typist.close()
    await reader.close()


@pytest.mark.django_db(transaction=True)
async def test_toggling_typing_is_rate_limited_too(make_user: Any) -> None:
    typist, reader = await typist_and_reader(make_user)
    for i in range(30):
        await typist.send({"type": "typing", "is_typing": i % 2 == 0})
    await typist.send({"type": "ping", "ref": "done"})
    await typist.receive_until("pong")
    forwarded = [f for f in await reader.drain(0.3) if f["type"] == "typing"]
    record("limit_typing_toggled", frames_sent=30, events_forwarded=len(forwarded))
    await typist.close()
    await reader.close()
    assert len(forwarded) <= 2  # a start and a stop


@pytest.mark.django_db(transaction=True)
async def test_a_flooding_socket_is_closed_and_nobody_else_notices(make_user: Any, frozen_command_clock: None) -> None:
    rate, seconds = parse_rate(django_settings.RATE_LIMITS["ws_command"])
    alice, bob = await db(make_user)("alice"), await db(make_user)("bob")
    conversation, _ = await db(conversation_start_direct)(user=alice, other_user_id=bob.pk)
    alice_token = await db(lambda: token_pair_for_user(alice)["access"])()
    flooder = Socket.for_user(alice_token, conversation.pk)
    alice_other = Socket.for_user(alice_token)
    bystander = Socket.for_user(await db(lambda: token_pair_for_user(bob)["access"])(), conversation.pk)
    for sock in (flooder, alice_other, bystander):
        await sock.open()
        await sock.drain(0.05)

    for i in range(rate * 3):
        await flooder.send({"type": "ping", "ref": i})
    replies = []
    while True:
        frame = await flooder.receive(timeout=3)
        replies.append(frame)
        if frame["type"] == "__closed__":
            break
    pongs = sum(1 for f in replies if f["type"] == "pong")
    refused = sum(1 for f in replies if f.get("code") == "rate_limited")
    # The clock stands still: the burst passes, the next `rate` are refused, the one
    # after them closes the socket, and the rest of the flood is never read.
    answers = [f for f in replies if f["type"] in ("pong", "error", "__closed__")]  # not presence
    assert [f["type"] for f in answers[:rate]] == ["pong"] * rate
    assert [f.get("code") for f in answers[rate:]] == ["rate_limited"] * rate + ["flooding", 4429]

    # The user's other socket and the other member are untouched.
    await db(Api(alice_token).post)(conv_url(conversation.pk, "send_message"), json={"content": "still here"})
    for sock in (alice_other, bystander):
        assert (await sock.receive_until("message.created"))["message"]["content"] == "still here"
        await sock.send({"type": "ping", "ref": "ok"})
        assert (await sock.receive_until("pong"))["ref"] == "ok"
        await sock.close()
    record(
        "limit_ws_commands",
        limit=f"{rate}/{seconds}s per socket (burst {rate})",
        frames_sent=rate * 3,
        answered=pongs,
        refused_rate_limited=refused,
        close_code=replies[-1]["code"],
        others_unaffected=True,
    )


@pytest.mark.django_db(transaction=True)
async def test_sockets_per_user(make_user: Any) -> None:
    limit = parley_settings.WS_MAX_SOCKETS_PER_USER
    alice = await db(make_user)("alice")
    token = await db(lambda: token_pair_for_user(alice)["access"])()
    kept = [Socket.for_user(token) for _ in range(limit)]
    for sock in kept:
        await sock.open()
    over = Socket.for_user(token)
    assert await over.connect()
    error = await over.receive()
    code = await over.closed_with()
    assert error["code"] == "too_many_sockets" and code == 4429
    await kept[0].send({"type": "ping", "ref": "first"})
    assert (await kept[0].receive_until("pong"))["ref"] == "first"
    await kept[-1].close()
    replacement = Socket.for_user(token)
    await replacement.open()  # a slot freed is a slot again
    for sock in [*kept[:-1], replacement]:
        await sock.close()
    record("limit_sockets_per_user", limit=limit, at_limit="ready", one_over=code)


@pytest.mark.django_db(transaction=True)
async def test_frame_size(make_user: Any) -> None:
    limit = parley_settings.WS_MAX_FRAME_BYTES
    alice, bob = await db(make_user)("alice"), await db(make_user)("bob")
    conversation, _ = await db(conversation_start_direct)(user=alice, other_user_id=bob.pk)
    sock = Socket.for_user(await db(lambda: token_pair_for_user(alice)["access"])(), conversation.pk)
    await sock.open()
    frame = '{"type":"ping","ref":"at","pad":"' + "x" * (limit - 35) + '"}'
    assert len(frame.encode()) == limit
    await sock.send_raw(frame)
    at = await sock.receive_until("pong")
    await sock.send_raw(frame[:-2] + 'x"}')
    over = await sock.receive_until("error")
    await sock.send({"type": "ping", "ref": "after"})
    assert (await sock.receive_until("pong"))["ref"] == "after"
    assert at["ref"] == "at" and over["code"] == "frame_too_large"
    await sock.close()
    record("limit_frame_size", limit_bytes=limit, at_limit="pong", one_over=over["code"], socket_kept=True)


@pytest.mark.django_db(transaction=True)
async def test_frame_size_counts_bytes_not_characters(make_user: Any) -> None:
    alice, bob = await db(make_user)("alice"), await db(make_user)("bob")
    conversation, _ = await db(conversation_start_direct)(user=alice, other_user_id=bob.pk)
    sock = Socket.for_user(await db(lambda: token_pair_for_user(alice)["access"])(), conversation.pk)
    await sock.open()
    frame = '{"type":"ping","ref":"wide","pad":"' + "\u20ac" * 40_000 + '"}'
    assert len(frame.encode()) > parley_settings.WS_MAX_FRAME_BYTES
    await sock.send_raw(frame)
    reply = await sock.receive()
    await sock.close()
    assert reply.get("code") == "frame_too_large", reply


def test_page_size_cap(alice: User, api: Any, direct: dict[str, Any]) -> None:
    cap = parley_settings.MAX_PAGE_SIZE
    bulk_messages(direct["id"], alice, cap + 1)
    client = api(alice)
    at = body(client.get(conv_url(direct["id"], "messages") + f"?page_size={cap}"))
    over = body(client.get(conv_url(direct["id"], "messages") + f"?page_size={cap + 1}"))
    keyset_over = body(client.get(conv_url(direct["id"], "messages") + f"?limit={cap + 1}"))
    assert len(at["results"]) == cap and len(over["results"]) == cap and len(keyset_over["results"]) == cap
    assert over["count"] == cap + 1 and over["next"]
    record("limit_page_size", limit=cap, at_limit=len(at["results"]), one_over=len(over["results"]))


def test_group_size(alice: User, api: Any) -> None:
    limit = parley_settings.MAX_GROUP_MEMBERS
    others = User.objects.bulk_create([User(username=f"crowd{i}") for i in range(limit)])
    ids = [u.pk for u in others]
    client = api(alice)
    at = client.post("/api/chat/conversations/", json={"participants": ids[: limit - 1], "title": "full"})
    over = client.post("/api/chat/conversations/", json={"participants": ids, "title": "one too many"})
    assert at.status_code == 201 and len(body(at)["participants"]) == limit
    assert over.status_code == 400 and body(over)["code"] == "group_full"
    add_over = client.post(
        f"/api/chat/conversations/{body(at)['id']}/add_participants/", json={"participants": [ids[-1]]}
    )
    assert add_over.status_code == 400 and body(add_over)["code"] == "group_full"
    assert Conversation.objects.count() == 1
    assert Membership.objects.count() == limit
    record("limit_group_size", limit=limit, at_limit=at.status_code, one_over=over.status_code, add_one_over=400)


def test_content_length(alice: User, api: Any, direct: dict[str, Any]) -> None:
    limit = parley_settings.MAX_CONTENT_LENGTH
    client = api(alice)
    at = client.post(conv_url(direct["id"], "send_message"), json={"content": "x" * limit})
    over = client.post(conv_url(direct["id"], "send_message"), json={"content": "x" * (limit + 1)})
    edit_over = client.post(f"/api/chat/messages/{body(at)['id']}/edit_message/", json={"content": "y" * (limit + 1)})
    assert at.status_code == 201
    assert over.status_code == 400 and body(over)["code"] == "content_too_long"
    assert edit_over.status_code == 400
    assert Message.objects.get().content == "x" * limit
    record("limit_content_length", limit=limit, at_limit=at.status_code, one_over=over.status_code)


@pytest.mark.django_db(transaction=True)
async def test_content_length_over_websocket(make_user: Any) -> None:
    limit = parley_settings.MAX_CONTENT_LENGTH
    alice, bob = await db(make_user)("alice"), await db(make_user)("bob")
    group = await db(conversation_create_group)(creator=alice, title="t", participant_ids=[bob.pk])
    sock = Socket.for_user(await db(lambda: token_pair_for_user(alice)["access"])(), group.pk)
    await sock.open()
    await sock.send({"type": "message.send", "content": "x" * (limit + 1), "ref": 1})
    assert (await sock.receive_until("error"))["code"] == "content_too_long"
    await sock.send({"type": "message.send", "content": "x" * limit, "ref": 2})
    assert (await sock.receive_until("ack"))["ref"] == 2
    await asyncio.sleep(0)
    await sock.close()
    assert await db(Message.objects.count)() == 1
