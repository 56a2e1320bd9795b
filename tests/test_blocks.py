"""Blocking (SPEC 11): the block matrix on REST and sockets, the bad inputs, the flag,
and a block racing a send on PostgreSQL.

Runs in both projects (integer and UUID user keys).
"""

from __future__ import annotations

import threading
import time

import pytest
from channels.db import database_sync_to_async
from django.db import connection, transaction

from parley.common.errors import Blocked
from parley.models import Block, Message
from parley.services import blocks as block_services
from parley.services import conversations as conversation_services
from parley.services import messages as message_services
from tests.conftest import body
from tests.helpers import CONVERSATIONS, conv_url, group, send, start
from tests.hosts import uid
from tests.ws import Socket, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)


def block_url(user) -> str:
    return f"/api/users/{uid(user)}/block/"


def blocked_code(response) -> str:
    assert response.status_code == 403, response.text
    return body(response)["code"]


@pytest.mark.parametrize("who_blocks", ["blocker", "blocked"])
def test_a_block_stops_starting_and_sending_in_a_direct_conversation(alice, bob, api, who_blocks):
    direct = start(api(alice), bob)
    send(api(bob), direct["id"], "before the block")
    assert api(alice).post(block_url(bob)).status_code == 201
    # Whichever side tries: bob (blocked) or alice (the blocker).
    actor, other = (bob, alice) if who_blocks == "blocked" else (alice, bob)
    before = Message.objects.count()

    assert blocked_code(api(actor).post(f"{CONVERSATIONS}start/", json={"user2": uid(other)})) == "blocked"
    sent = api(actor).post(conv_url(direct["id"], "send_message"), json={"content": "after"})
    assert blocked_code(sent) == "blocked"
    assert Message.objects.count() == before
    # The history stays readable.
    assert [m["content"] for m in body(api(actor).get(conv_url(direct["id"], "messages")))["results"]] == [
        "before the block"
    ]


def test_a_block_stops_adding_to_a_group_either_way(alice, bob, carol, api):
    team = group(api(carol), [alice])
    assert api(alice).post(block_url(bob)).status_code == 201
    # alice may not add bob, nor create a group with him; carol may add bob to her group.
    add = api(alice).post(conv_url(team["id"], "add_participants"), json={"participants": [uid(bob)]})
    assert blocked_code(add) == "blocked"
    created = api(alice).post(CONVERSATIONS, json={"participants": [uid(bob)], "title": "no"})
    assert blocked_code(created) == "blocked"
    other = group(api(bob), [carol])
    add_back = api(bob).post(conv_url(other["id"], "add_participants"), json={"participants": [uid(alice)]})
    assert blocked_code(add_back) == "blocked"
    added = api(carol).post(conv_url(team["id"], "add_participants"), json={"participants": [uid(bob)]})
    assert added.status_code == 200


def test_in_a_shared_group_both_write_and_the_blocker_sees_the_flag(alice, bob, carol, api):
    team = group(api(carol), [alice, bob])
    assert api(alice).post(block_url(bob)).status_code == 201
    from_bob = send(api(bob), team["id"], "from bob")
    send(api(alice), team["id"], "from alice")

    seen_by_alice = body(api(alice).get(conv_url(team["id"], "messages")))["results"]
    assert [m.get("sender_blocked") for m in seen_by_alice] == [True, None]
    assert body(api(alice).get(f"/api/chat/messages/{from_bob['id']}/"))["sender_blocked"] is True
    [listed] = body(api(alice).get(CONVERSATIONS))
    assert listed["messages"][0]["sender_blocked"] is True and "sender_blocked" not in listed["last_message"]
    assert body(api(alice).get(conv_url(team["id"])))["messages"][0]["sender_blocked"] is True
    # Nobody else gets the key.
    for reader in (bob, carol):
        history = body(api(reader).get(conv_url(team["id"], "messages")))["results"]
        assert all("sender_blocked" not in m for m in history)


async def test_a_socket_send_to_a_blocker_gets_a_blocked_error(alice, bob):
    direct, _ = await database_sync_to_async(conversation_services.conversation_start_direct)(
        user=alice, other_user_id=bob.pk
    )
    await database_sync_to_async(block_services.block_create)(blocker=alice, user_id=bob.pk)
    sock = Socket.for_user(await atoken_for(bob), direct.pk)
    await sock.open()
    await sock.send({"type": "message.send", "content": "let me in", "ref": 1})
    error = await sock.receive_until("error")
    assert (error["code"], error.get("ref")) == ("blocked", 1)
    assert await database_sync_to_async(Message.objects.filter(conversation_id=direct.pk).count)() == 0
    await sock.close()


def test_list_and_unblock(alice, bob, carol, api):
    assert api(alice).post(block_url(bob)).status_code == 201
    created = api(alice).post(block_url(carol))
    assert body(created)["id"] == uid(carol) and body(created)["blocked"] is True
    listed = body(api(alice).get("/api/users/blocked/"))
    assert [(u["id"], u["username"]) for u in listed] == [(uid(carol), "carol"), (uid(bob), "bob")]
    assert body(api(bob).get("/api/users/blocked/")) == []
    assert api(alice).delete(block_url(bob)).status_code == 204
    assert [u["id"] for u in body(api(alice).get("/api/users/blocked/"))] == [uid(carol)]
    start(api(bob), alice)  # unblocked: direct chat works again


def test_bad_block_requests_change_nothing(alice, bob, api):
    myself = api(alice).post(block_url(alice))
    assert (myself.status_code, body(myself)["code"]) == (400, "self_block")
    assert api(alice).post(block_url(bob)).status_code == 201
    twice = api(alice).post(block_url(bob))
    assert (twice.status_code, body(twice)["code"]) == (400, "already_blocked")
    not_blocked = api(bob).delete(block_url(alice))
    assert (not_blocked.status_code, body(not_blocked)["code"]) == (404, "not_blocked")
    for junk in ("0", "nope", "99999999"):
        response = api(alice).post(f"/api/users/{junk}/block/")
        assert response.status_code in (400, 404), response.text
        assert "code" in body(response)
    assert Block.objects.count() == 1


def test_a_block_waiting_for_the_lock_refuses_the_send_behind_it(alice, bob):
    """The block holds the direct conversation's lock; a send queued behind it runs its
    gate after the block committed, and is refused."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks with concurrent connections: PostgreSQL only (SQLite admits one writer)")
    direct, _ = conversation_services.conversation_start_direct(user=alice, other_user_id=bob.pk)
    locked, outcome = threading.Event(), {}

    def block() -> None:
        try:
            with transaction.atomic():
                block_services.block_create(blocker=alice, user_id=bob.pk)
                locked.set()
                time.sleep(0.5)  # the send below queues on the lock meanwhile
        finally:
            connection.close()

    def send_message() -> None:
        locked.wait(5)
        try:
            message_services.message_send(sender=bob, conversation_id=direct.pk, content="racing")
            outcome["result"] = "sent"
        except Blocked:
            outcome["result"] = "blocked"
        finally:
            connection.close()

    threads = [threading.Thread(target=block), threading.Thread(target=send_message)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcome["result"] == "blocked"
    assert not Message.objects.filter(conversation_id=direct.pk).exists()


def test_blocks_and_sends_racing_never_store_a_message_after_the_block(make_user):
    """Many rounds of a block and sends released together: a send that began after
    the block was acknowledged is always refused, and once it is, every send is."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent connections: PostgreSQL only")
    for round_ in range(6):
        a, b = make_user(f"blk{round_}a"), make_user(f"blk{round_}b")
        direct, _ = conversation_services.conversation_start_direct(user=a, other_user_id=b.pk)
        barrier, results = threading.Barrier(4), []

        def work(i: int, a=a, b=b, cid=direct.pk, barrier=barrier, results=results) -> None:
            try:
                barrier.wait(10)
                if i == 0:
                    block_services.block_create(blocker=a, user_id=b.pk)
                    results.append(("block", time.monotonic()))
                else:
                    time.sleep(0.002 * i)  # spread the sends around the block
                    began = time.monotonic()
                    try:
                        message_services.message_send(sender=b, conversation_id=cid, content=f"m{i}")
                        results.append(("sent", began))
                    except Blocked:
                        results.append(("refused", began))
            finally:
                connection.close()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        # After the block, nothing more gets through.
        with pytest.raises(Blocked):
            message_services.message_send(sender=b, conversation_id=direct.pk, content="after")
        acknowledged = next(t for kind, t in results if kind == "block")
        assert all(began < acknowledged for kind, began in results if kind == "sent"), results
        assert Message.objects.filter(conversation_id=direct.pk).count() == sum(k == "sent" for k, _ in results)
