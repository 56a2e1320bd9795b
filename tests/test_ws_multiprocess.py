"""Two real server processes on one database and one Redis, as in production.

A socket served by process A must hear what process B wrote, and the other way round:
nothing may depend on the writer and the reader sharing a process (the in-memory
layer, a per-process cache). Each test starts its own pair of `uvicorn` processes
with a channel and cache prefix of its own, and skips when no Redis answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from redis import Redis

from server.accounts.models import User
from tests.livestack import LiveServer, LiveStack, live_stack, shared_redis_url, wait_for  # noqa: F401
from tests.ws import token_for

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pair(live_stack: LiveStack, shared_redis_url: str) -> tuple[LiveServer, LiveServer]:  # noqa: F811
    # Offline at once, so that a close's frame is the one a test waits for (the grace
    # period has its own test below).
    a, b = live_stack.start_servers(2, redis_url=shared_redis_url, CHAT_PRESENCE_OFFLINE_GRACE_SECONDS="0")
    return a, b


def rest(server: LiveServer, user: User, method: str, path: str, **kwargs: Any) -> Any:
    with server.api(token_for(user)) as client:
        response = client.request(method, path, **kwargs)
    assert response.status_code in (200, 201, 204), (response.status_code, response.text)
    return response.json() if response.content else None


def start_direct(server: LiveServer, user: User, other: User) -> int:
    return int(rest(server, user, "POST", "/api/chat/conversations/start/", json={"user2": other.pk})["id"])


def send(server: LiveServer, user: User, conversation_id: int, content: str) -> dict[str, Any]:
    return dict(
        rest(
            server, user, "POST", f"/api/chat/conversations/{conversation_id}/send_message/", json={"content": content}
        )
    )


def bob_listening_on(
    server: LiveServer, other: LiveServer, stack: LiveStack, make_user: Callable[..., User]
) -> tuple[User, User, Any]:
    """Alice and Bob with a direct conversation (started on `other`), Bob's user socket
    open on `server`."""
    alice, bob = make_user("alice"), make_user("bob")
    start_direct(other, alice, bob)
    bob_socket = stack.track(server.socket(token_for(bob)))
    bob_socket.open()
    return alice, bob, bob_socket


def test_rest_write_on_one_process_reaches_sockets_on_the_other(
    pair: tuple[LiveServer, LiveServer],
    live_stack: LiveStack,  # noqa: F811
    make_user: Callable[..., User],
) -> None:
    a, b = pair
    alice, bob = make_user("alice"), make_user("bob")
    cid = start_direct(b, alice, bob)
    bob_on_a = live_stack.track(a.socket(token_for(bob)))
    alice_on_b = live_stack.track(b.socket(token_for(alice)))
    assert bob_on_a.open()["conversations"] == {str(cid): 0}
    assert alice_on_b.open()["conversations"] == {str(cid): 0}

    sent = send(b, alice, cid, "written on B")
    frame = bob_on_a.receive_until("message.created")
    assert (frame["conversation"], frame["seq"]) == (cid, 1)
    assert frame["message"]["id"] == sent["id"] and frame["message"]["content"] == "written on B"

    reply = send(a, bob, cid, "written on A")
    frame = alice_on_b.receive_until(lambda f: f["type"] == "message.created" and f["seq"] == 2)
    assert frame["conversation"] == cid
    assert frame["message"]["id"] == reply["id"] and frame["message"]["content"] == "written on A"
    # Each also hears its own conversation's other write, exactly once and in order.
    frame = bob_on_a.receive_until("message.created")
    assert (frame["seq"], frame["message"]["id"]) == (2, reply["id"])
    seqs = [f["seq"] for f in alice_on_b.frames if f["type"] == "message.created"]
    assert seqs == [1, 2]


def test_typing_on_one_process_reaches_the_other_but_not_the_typist(
    pair: tuple[LiveServer, LiveServer],
    live_stack: LiveStack,  # noqa: F811
    make_user: Callable[..., User],
) -> None:
    a, b = pair
    alice, bob = make_user("alice"), make_user("bob")
    cid = start_direct(a, alice, bob)
    alice_on_a = live_stack.track(a.socket(token_for(alice)))
    bob_on_b = live_stack.track(b.socket(token_for(bob)))
    alice_on_a.open()
    bob_on_b.open()

    alice_on_a.send({"type": "typing", "conversation": cid, "is_typing": True, "ref": "t1"})
    assert alice_on_a.receive_until("ack")["forwarded"] is True
    typing = bob_on_b.receive_until("typing")
    assert typing == {"type": "typing", "conversation": cid, "user": alice.pk, "username": "alice", "is_typing": True}

    # A later durable event travels the same Redis channel after the typing frame, so
    # by the time the typist's socket has it, an echoed typing frame would be in front.
    send(b, bob, cid, "after typing")
    alice_on_a.receive_until("message.created")
    assert [f for f in alice_on_a.frames if f["type"] == "typing"] == []


def test_presence_crosses_processes(
    pair: tuple[LiveServer, LiveServer],
    live_stack: LiveStack,  # noqa: F811
    make_user: Callable[..., User],
) -> None:
    a, b = pair
    alice, bob, bob_on_b = bob_listening_on(b, a, live_stack, make_user)
    assert [f for f in bob_on_b.frames if f["type"] == "presence"] == []  # alice is not online yet

    alice_on_a = a.socket(token_for(alice))
    assert alice_on_a.open()["online"] == [bob.pk]  # bob is online, on the other process
    assert bob_on_b.receive_until("presence") == {"type": "presence", "user": alice.pk, "online": True}

    alice_on_a.close()
    assert bob_on_b.receive_until("presence") == {"type": "presence", "user": alice.pk, "online": False}


def test_offline_waits_out_its_grace_and_is_announced_by_a_process_with_sockets(
    live_stack: LiveStack,  # noqa: F811
    shared_redis_url: str,  # noqa: F811
    make_user: Callable[..., User],
) -> None:
    """Alice leaves process A and comes back on B within the grace: Bob hears nothing.
    She leaves again: B (A has no socket left, so no upkeep) announces her offline once
    the grace ran out, from the schedule in the shared cache."""
    a, b = live_stack.start_servers(2, redis_url=shared_redis_url, CHAT_PRESENCE_OFFLINE_GRACE_SECONDS="1.5")
    alice, bob, bob_on_b = bob_listening_on(b, a, live_stack, make_user)
    token = token_for(alice)
    alice_on_a = live_stack.track(a.socket(token))
    alice_on_a.open()
    assert bob_on_b.receive_until("presence") == {"type": "presence", "user": alice.pk, "online": True}
    alice_on_a.close()
    time.sleep(0.3)
    alice_on_b = live_stack.track(b.socket(token))
    assert alice_on_b.open()["online"] == [bob.pk]
    time.sleep(3.0)  # past the grace and an upkeep tick: still nothing, she is back
    assert [f for f in bob_on_b.collect(0.2) if f["type"] == "presence"] == []

    alice_on_b.close()
    closed = time.monotonic()
    assert bob_on_b.receive_until("presence", timeout=6) == {"type": "presence", "user": alice.pk, "online": False}
    assert time.monotonic() - closed >= 1.4  # not before the grace ran out
    assert [f for f in bob_on_b.collect(2.5) if f["type"] == "presence"] == []  # once


def test_a_socket_closed_during_its_opening_does_not_leave_its_user_online(
    pair: tuple[LiveServer, LiveServer],
    live_stack: LiveStack,  # noqa: F811
    shared_redis_url: str,  # noqa: F811
    make_user: Callable[..., User],
) -> None:
    a, b = pair
    alice, _, bob_on_b = bob_listening_on(b, a, live_stack, make_user)
    token = token_for(alice)
    for _ in range(3):
        a.socket(token).close()  # gone before the server finished opening it

    # Each of them gives its presence count back (before f1293ba they never did: alice
    # stayed "online" with no socket, and her real socket announced nothing). Settled
    # means absent twice in a row: a quick socket may not have been counted yet.
    presence_key = f"{live_stack.prefix}:1:presence:{alice.pk}"  # Django's KEY_PREFIX:VERSION:key
    redis = Redis.from_url(shared_redis_url)

    def settled() -> bool:
        if redis.exists(presence_key):
            return False
        time.sleep(0.3)
        return not redis.exists(presence_key)

    try:
        wait_for(settled, timeout=5, what="the closed sockets' presence counts to be given back")
        alice_on_a = live_stack.track(a.socket(token))
        alice_on_a.open()
        assert redis.get(presence_key) == b"1"  # the key checked above is the real one
    finally:
        redis.close()
    announced = bob_on_b.receive_until(lambda f: f["type"] == "presence" and f["online"])
    assert announced == {"type": "presence", "user": alice.pk, "online": True}
    alice_on_a.close()
    assert bob_on_b.receive_until("presence") == {"type": "presence", "user": alice.pk, "online": False}


def test_the_access_token_never_reaches_either_process_log(
    pair: tuple[LiveServer, LiveServer],
    live_stack: LiveStack,  # noqa: F811
    make_user: Callable[..., User],
) -> None:
    a, b = pair
    alice, bob = make_user("alice"), make_user("bob")
    cid = start_direct(a, alice, bob)
    token = token_for(alice)
    for server in (a, b):
        user_socket = server.socket(token)
        user_socket.open()
        conversation_socket = server.socket(token, cid, since=0)
        conversation_socket.open()
        user_socket.close()
        conversation_socket.close()
        with server.api(token) as client:
            assert client.get(f"/api/chat/conversations/{cid}/").status_code == 200
        # A bad token in the URL is logged no more than a good one.
        bad = server.socket(token + "x")
        assert bad.closed_with() == 4401
    for server in (a, b):
        server.stop()  # flushes and closes its output
        log = server.log_text()
        assert "/ws/chat/" in log or "WebSocket" in log or "GET /api/" in log, (
            f"server {server.name} logged no request at all, so this check proves nothing:\n{log[-2000:]}"
        )
        assert token not in log, f"the access token is in server {server.name}'s log:\n" + "\n".join(
            line for line in log.splitlines() if token in line
        )
        signature = token.rsplit(".", 1)[-1]
        assert signature not in log, f"the token's signature is in server {server.name}'s log"


def test_presence_is_announced_when_quick_sockets_of_the_same_user_race_a_real_one(
    pair: tuple[LiveServer, LiveServer],
    live_stack: LiveStack,  # noqa: F811
    make_user: Callable[..., User],
) -> None:
    a, b = pair
    alice, _, bob_on_b = bob_listening_on(b, a, live_stack, make_user)
    token = token_for(alice)
    views = []
    for _cycle in range(3):
        for _ in range(3):
            a.socket(token).close()  # e.g. a flaky network, or a client retrying fast
        real = live_stack.track(a.socket(token))
        real.open()  # `ready`: the server is done opening it
        news = [f["online"] for f in bob_on_b.collect(1.0) if f["type"] == "presence" and f["user"] == alice.pk]
        views.append(news[-1] if news else "never told")
        real.close()
        bob_on_b.collect(0.5)  # whatever the close announces
    assert views == [True, True, True], f"bob's view of alice while her socket was open: {views}"
