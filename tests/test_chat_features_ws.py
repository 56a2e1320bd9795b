"""SPEC 10 over the socket (commands, their errors) and catch-up of every new event type:
what a client missed comes back, by REST `events?since=` and by a socket's `since`,
exactly as it was delivered live."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from parley.models import Event, Message, MessageMention, Reaction
from parley.services.conversations import conversation_create_group, conversation_start_direct
from tests.conftest import Api
from tests.hosts import uid
from tests.ws import Socket, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def rest(user: Any, method: str, path: str, **kwargs: Any) -> Any:
    client = Api(await atoken_for(user))
    response = await db(client.request)(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def direct(a: Any, b: Any) -> int:
    conversation, _ = await db(conversation_start_direct)(user=a, other_user_id=b.pk)
    return int(conversation.pk)


async def user_socket(user: Any, **kwargs: Any) -> Socket:
    sock = Socket.for_user(await atoken_for(user), **kwargs)
    await sock.open()
    await sock.drain(0.05)
    return sock


async def send(user: Any, cid: int, content: str = "hi", **fields: Any) -> dict[str, Any]:
    return await rest(user, "POST", f"/api/chat/conversations/{cid}/send_message/", json={"content": content, **fields})


async def command(sock: Socket, frame: dict[str, Any]) -> dict[str, Any]:
    await sock.send({**frame, "ref": "r"})
    while True:
        reply = await sock.receive()
        if reply.get("ref") == "r":
            return reply


async def test_reaction_commands_ack_with_the_message_and_publish(alice, bob):
    cid = await direct(alice, bob)
    sent = await send(alice, cid)
    bobs = await user_socket(bob)
    alices = await user_socket(alice)

    ack = await command(bobs, {"type": "reaction.add", "conversation": cid, "message_id": sent["id"], "emoji": "👍"})
    assert ack["type"] == "ack"
    assert ack["message"] == {**sent, "reactions": [{"emoji": "👍", "count": 1, "me": True}]}
    frame = await alices.receive_until("reaction.added")
    assert frame == {
        "type": "reaction.added",
        "conversation": cid,
        "seq": 2,
        "message_id": sent["id"],
        "emoji": "👍",
        "user": uid(bob),
    }
    ack = await command(bobs, {"type": "reaction.remove", "conversation": cid, "message_id": sent["id"], "emoji": "👍"})
    assert ack["message"]["reactions"] == []
    assert (await alices.receive_until("reaction.removed"))["seq"] == 3
    await bobs.close()
    await alices.close()


async def test_reaction_command_errors_store_nothing(alice, bob, carol):
    cid = await direct(alice, bob)
    other = await direct(alice, carol)
    sent = await send(alice, cid)
    elsewhere = await send(alice, other)
    gone = await send(alice, cid, "gone")
    await rest(alice, "POST", f"/api/chat/messages/{gone['id']}/delete_message/")
    sock = await user_socket(bob)
    base = {"type": "reaction.add", "conversation": cid}
    cases = [
        ({**base, "message_id": sent["id"], "emoji": "nope"}, "invalid_emoji"),
        ({**base, "message_id": gone["id"], "emoji": "👍"}, "message_deleted"),
        ({**base, "message_id": elsewhere["id"], "emoji": "👍"}, "not_found"),  # not bob's conversation
        ({**base, "message_id": sent["id"]}, "missing_field"),
        ({**base, "type": "reaction.remove", "message_id": sent["id"], "emoji": "👍"}, "reaction_not_found"),
    ]
    for frame, code in cases:
        reply = await command(sock, frame)
        assert (reply["type"], reply["code"]) == ("error", code), (frame, reply)
    alices = await user_socket(alice)
    reply = await command(alices, {**base, "conversation": other, "message_id": sent["id"], "emoji": "👍"})
    assert (reply["type"], reply["code"]) == ("error", "wrong_conversation")
    assert not await db(Reaction.objects.exists)()
    assert await db(Event.objects.filter(type__startswith="reaction").count)() == 0
    await sock.close()
    await alices.close()


async def test_send_command_takes_reply_to_and_mentions(alice, bob, carol):
    conversation = await db(conversation_create_group)(creator=alice, title="t", participant_ids=[bob.pk])
    gid = int(conversation.pk)
    parent = await send(bob, gid, "parent")
    sock = await user_socket(alice)
    ack = await command(
        sock,
        {
            "type": "message.send",
            "conversation": gid,
            "content": "re",
            "reply_to": parent["id"],
            "mentions": [uid(bob)],
        },
    )
    assert ack["message"]["reply_to"] == {
        "id": parent["id"],
        "sender_name": "bob",
        "content": "parent",
        "deleted": False,
    }
    assert ack["message"]["mentions"] == [uid(bob)]
    count = await db(Message.objects.count)()
    for extra, code in [({"reply_to": 999999}, "reply_to_invalid"), ({"mentions": [uid(carol)]}, "mention_not_member")]:
        reply = await command(sock, {"type": "message.send", "conversation": gid, "content": "x", **extra})
        assert (reply["type"], reply["code"]) == ("error", code)
    assert await db(Message.objects.count)() == count
    assert await db(MessageMention.objects.count)() == 1
    await sock.close()


async def test_catch_up_replays_every_new_event_type_as_delivered_live(alice, bob):
    cid = await direct(alice, bob)
    parent = await send(alice, cid, "parent")
    live = await user_socket(bob)
    await send(bob, cid, "a reply", reply_to=parent["id"], mentions=[uid(alice)])
    await rest(bob, "POST", f"/api/chat/messages/{parent['id']}/reactions/", json={"emoji": "👍"})
    await rest(alice, "POST", f"/api/chat/messages/{parent['id']}/pin/")
    await rest(bob, "DELETE", f"/api/chat/messages/{parent['id']}/reactions/?emoji=👍")
    await rest(bob, "POST", f"/api/chat/messages/{parent['id']}/unpin/")
    delivered = [
        await live.receive_until(kind)
        for kind in ("message.created", "reaction.added", "message.pinned", "reaction.removed", "message.unpinned")
    ]
    await live.close()
    assert [f["seq"] for f in delivered] == [2, 3, 4, 5, 6]

    polled = await rest(alice, "GET", f"/api/chat/conversations/{cid}/events/?since=1")
    # A replay renders a message as it is now: the pin and the reaction are gone again.
    now = {**delivered[2], "message": {**delivered[2]["message"], "pinned": False, "reactions": []}}
    assert polled["events"] == [delivered[0], delivered[1], now, delivered[3], delivered[4]]

    sock = Socket.for_user(await atoken_for(alice), cid, since=1)
    await sock.connect()
    replayed = [await sock.receive() for _ in range(5)]
    assert replayed == polled["events"]
    assert (await sock.receive())["type"] == "ready"
    await sock.close()
