"""Every server frame type, exactly, on the wire: on a conversation socket and on the user socket.

Each test provokes one frame through the real ASGI app (REST writes with real tokens,
socket commands) and compares the whole frame, every key and value, and that it has
its declared shape (parley.events: a TypedDict, exactly these keys). A frame only the
user socket receives is checked to stay off conversation sockets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from parley import events
from parley.models import Event
from parley.services.conversations import conversation_create_group, conversation_start_direct
from tests import hosts
from tests.conftest import Api
from tests.hosts import uid
from tests.ws import Socket, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture(params=["conversation", "user"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def exact(frame: Mapping[str, Any], shape: type, expected: Mapping[str, Any]) -> None:
    assert dict(frame) == dict(expected)
    assert events.shape_of(frame) is shape, (shape.__name__, sorted(frame))


async def rest(user: Any, method: str, path: str, **kwargs: Any) -> Any:
    client = Api(await atoken_for(user))
    response = await db(client.request)(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def opened(user: Any, cid: int, kind: str) -> Socket:
    sock = Socket.for_user(await atoken_for(user), cid if kind == "conversation" else None)
    await sock.open()
    await sock.drain(0.05)  # live frames of the moment (presence)
    return sock


async def direct(a: Any, b: Any) -> int:
    conversation, _ = await db(conversation_start_direct)(user=a, other_user_id=b.pk)
    return int(conversation.pk)


async def group(creator: Any, *members: Any) -> int:
    conversation = await db(conversation_create_group)(
        creator=creator, title="team", participant_ids=[m.pk for m in members]
    )
    return int(conversation.pk)


def named(frame: Mapping[str, Any], cid: int, kind: str) -> dict[str, Any]:
    """A command frame as a client on this kind of socket sends it."""
    return {**frame, "conversation": cid} if kind == "user" else dict(frame)


# --- Durable ----------------------------------------------------------------------------------


async def test_message_created(alice, bob, kind):
    cid = await direct(alice, bob)
    sock = await opened(bob, cid, kind)
    sent = await rest(alice, "POST", f"/api/chat/conversations/{cid}/send_message/", json={"content": "hi"})
    frame = await sock.receive_until("message.created")
    exact(frame, events.MessageCreated, {"type": "message.created", "conversation": cid, "seq": 1, "message": sent})
    await sock.close()


async def test_message_updated(alice, bob, kind):
    cid = await direct(alice, bob)
    sent = await rest(alice, "POST", f"/api/chat/conversations/{cid}/send_message/", json={"content": "hi"})
    sock = await opened(bob, cid, kind)
    edited = await rest(alice, "POST", f"/api/chat/messages/{sent['id']}/edit_message/", json={"content": "hey"})
    frame = await sock.receive_until("message.updated")
    exact(frame, events.MessageUpdated, {"type": "message.updated", "conversation": cid, "seq": 2, "message": edited})
    await sock.close()


async def test_message_deleted(alice, bob, kind):
    cid = await direct(alice, bob)
    sent = await rest(alice, "POST", f"/api/chat/conversations/{cid}/send_message/", json={"content": "hi"})
    sock = await opened(bob, cid, kind)
    await rest(alice, "POST", f"/api/chat/messages/{sent['id']}/delete_message/")
    frame = await sock.receive_until("message.deleted")
    expected = {"type": "message.deleted", "conversation": cid, "seq": 2, "message_id": sent["id"]}
    exact(frame, events.MessageDeleted, expected)
    await sock.close()


async def test_message_read(alice, bob, kind):
    cid = await direct(alice, bob)
    sent = await rest(alice, "POST", f"/api/chat/conversations/{cid}/send_message/", json={"content": "hi"})
    sock = await opened(alice, cid, kind)
    await rest(bob, "POST", f"/api/chat/messages/{sent['id']}/mark_read/")
    frame = await sock.receive_until("message.read")
    read_at = (await db(Event.objects.get)(conversation_id=cid, seq=2)).data["read_at"]
    expected = {
        "type": "message.read",
        "conversation": cid,
        "seq": 2,
        "user": uid(bob),
        "message_id": sent["id"],
        "read_at": read_at,
    }
    exact(frame, events.MessageRead, expected)
    await sock.close()


async def test_members_added(alice, bob, carol, kind):
    gid = await group(alice, bob)
    sock = await opened(bob, gid, kind)
    await rest(alice, "POST", f"/api/chat/conversations/{gid}/add_participants/", json={"participants": [uid(carol)]})
    frame = await sock.receive_until("members.added")
    users = [{"id": uid(carol), "username": "carol"}]
    expected = {"type": "members.added", "conversation": gid, "seq": 1, "users": users, "by": uid(alice)}
    exact(frame, events.MembersAdded, expected)
    await sock.close()


async def test_member_removed(alice, bob, carol, kind):
    gid = await group(alice, bob, carol)
    sock = await opened(bob, gid, kind)
    await rest(alice, "POST", f"/api/chat/conversations/{gid}/remove_participant/", json={"user": uid(carol)})
    frame = await sock.receive_until("member.removed")
    expected = {"type": "member.removed", "conversation": gid, "seq": 1, "user": uid(carol), "by": uid(alice)}
    exact(frame, events.MemberRemoved, expected)
    await sock.close()


async def test_conversation_renamed(alice, bob, kind):
    gid = await group(alice, bob)
    sock = await opened(alice, gid, kind)
    await rest(bob, "PATCH", f"/api/chat/conversations/{gid}/", json={"title": "renamed"})
    frame = await sock.receive_until("conversation.renamed")
    expected = {"type": "conversation.renamed", "conversation": gid, "seq": 1, "title": "renamed", "by": uid(bob)}
    exact(frame, events.ConversationRenamed, expected)
    await sock.close()


async def test_reaction_added(alice, bob, kind):
    cid = await direct(alice, bob)
    sent = await rest(alice, "POST", f"/api/chat/conversations/{cid}/send_message/", json={"content": "hi"})
    sock = await opened(alice, cid, kind)
    await rest(bob, "POST", f"/api/chat/messages/{sent['id']}/reactions/", json={"emoji": ":thumbsup:"})
    frame = await sock.receive_until("reaction.added")
    expected = {
        "type": "reaction.added",
        "conversation": cid,
        "seq": 2,
        "message_id": sent["id"],
        "emoji": "👍",
        "user": uid(bob),
    }
    exact(frame, events.ReactionAdded, expected)
    await sock.close()


async def test_reaction_removed(alice, bob, kind):
    cid = await direct(alice, bob)
    sent = await rest(alice, "POST", f"/api/chat/conversations/{cid}/send_message/", json={"content": "hi"})
    await rest(bob, "POST", f"/api/chat/messages/{sent['id']}/reactions/", json={"emoji": "🎉"})
    sock = await opened(alice, cid, kind)
    await rest(bob, "DELETE", f"/api/chat/messages/{sent['id']}/reactions/?emoji=🎉")
    frame = await sock.receive_until("reaction.removed")
    expected = {
        "type": "reaction.removed",
        "conversation": cid,
        "seq": 3,
        "message_id": sent["id"],
        "emoji": "🎉",
        "user": uid(bob),
    }
    exact(frame, events.ReactionRemoved, expected)
    await sock.close()


async def test_message_pinned(alice, bob, kind):
    cid = await direct(alice, bob)
    sent = await rest(alice, "POST", f"/api/chat/conversations/{cid}/send_message/", json={"content": "hi"})
    sock = await opened(alice, cid, kind)
    pinned = await rest(bob, "POST", f"/api/chat/messages/{sent['id']}/pin/")
    frame = await sock.receive_until("message.pinned")
    assert pinned == {**sent, "pinned": True}
    exact(frame, events.MessagePinned, {"type": "message.pinned", "conversation": cid, "seq": 2, "message": pinned})
    await sock.close()


async def test_message_unpinned(alice, bob, kind):
    cid = await direct(alice, bob)
    sent = await rest(alice, "POST", f"/api/chat/conversations/{cid}/send_message/", json={"content": "hi"})
    await rest(alice, "POST", f"/api/chat/messages/{sent['id']}/pin/")
    sock = await opened(bob, cid, kind)
    await rest(alice, "POST", f"/api/chat/messages/{sent['id']}/unpin/")
    frame = await sock.receive_until("message.unpinned")
    expected = {"type": "message.unpinned", "conversation": cid, "seq": 3, "message_id": sent["id"]}
    exact(frame, events.MessageUnpinned, expected)
    await sock.close()


# --- Per user -----------------------------------------------------------------------------------


async def test_conversation_created(alice, bob, carol, kind):
    gid = await group(alice, bob)
    sock = await opened(carol, await direct(carol, alice), kind)
    await rest(alice, "POST", f"/api/chat/conversations/{gid}/add_participants/", json={"participants": [uid(carol)]})
    if kind == "conversation":
        assert "conversation.created" not in [f["type"] for f in await sock.drain(0.3)]
    else:
        frame = await sock.receive_until("conversation.created")
        view = await rest(carol, "GET", f"/api/chat/conversations/{gid}/?embed=0")
        exact(frame, events.ConversationCreated, {"type": "conversation.created", "conversation": view})
    await sock.close()


async def test_conversation_updated(alice, bob, kind):
    cid = await direct(alice, bob)
    sent = await rest(bob, "POST", f"/api/chat/conversations/{cid}/send_message/", json={"content": "hi"})
    sock = await opened(alice, cid, kind)
    await rest(alice, "POST", f"/api/chat/messages/{sent['id']}/mark_read/")
    if kind == "conversation":
        assert "conversation.updated" not in [f["type"] for f in await sock.drain(0.3)]
    else:
        frame = await sock.receive_until("conversation.updated")
        view = await rest(alice, "GET", f"/api/chat/conversations/{cid}/?embed=0")
        exact(frame, events.ConversationUpdated, {"type": "conversation.updated", "conversation": view})
    await sock.close()


async def test_conversation_removed(alice, bob, kind):
    gid = await group(alice, bob)
    sock = await opened(bob, gid, kind)
    await rest(alice, "DELETE", f"/api/chat/conversations/{gid}/")
    frame = await sock.receive_until("conversation.removed")
    expected = {"type": "conversation.removed", "conversation": {"id": gid}, "reason": "deleted"}
    exact(frame, events.ConversationRemoved, expected)
    if kind == "conversation":
        assert await sock.closed_with() == 4404
    await sock.close()


# --- Ephemeral ----------------------------------------------------------------------------------


async def test_typing(alice, bob, kind):
    cid = await direct(alice, bob)
    typist, reader = await opened(alice, cid, "conversation"), await opened(bob, cid, kind)
    await typist.send({"type": "typing", "is_typing": True})
    frame = await reader.receive_until("typing")
    expected = {"type": "typing", "conversation": cid, "user": uid(alice), "username": "alice", "is_typing": True}
    exact(frame, events.Typing, expected)
    await typist.close()
    await reader.close()


async def test_presence(alice, bob, kind, settings):
    settings.PARLEY = {**settings.PARLEY, "PRESENCE_OFFLINE_GRACE_SECONDS": 0}  # the offline frame at once
    cid = await direct(alice, bob)
    watcher = await opened(bob, cid, kind)
    arriving = await opened(alice, cid, "conversation")
    exact(
        await watcher.receive_until("presence"),
        events.Presence,
        {"type": "presence", "user": uid(alice), "online": True},
    )
    await arriving.close()
    offline = await watcher.receive_until("presence")
    exact(offline, events.Presence, {"type": "presence", "user": uid(alice), "online": False})
    await watcher.close()


# --- Replies ----------------------------------------------------------------------------------------


async def test_ready(alice, bob, kind):
    cid = await direct(alice, bob)
    await rest(bob, "POST", f"/api/chat/conversations/{cid}/send_message/", json={"content": "hi"})
    sock = Socket.for_user(await atoken_for(alice), cid if kind == "conversation" else None)
    ready = await sock.open()
    exact(ready, events.Ready, {"type": "ready", "user": uid(alice), "conversations": {str(cid): 1}, "online": []})
    await sock.close()


async def test_ready_names_who_is_online(alice, bob, kind):
    cid = await direct(alice, bob)
    bobs = await opened(bob, cid, "conversation")
    sock = Socket.for_user(await atoken_for(alice), cid if kind == "conversation" else None)
    exact(
        await sock.open(),
        events.Ready,
        {"type": "ready", "user": uid(alice), "conversations": {str(cid): 0}, "online": [uid(bob)]},
    )
    # The snapshot is in `ready`; no `presence` frame repeats it (bob's own arrival frame
    # went by before alice subscribed).
    assert [f for f in await sock.drain(0.3) if f["type"] == "presence"] == []
    await sock.close()
    await bobs.close()


async def test_ack_of_a_write(alice, bob, kind):
    cid = await direct(alice, bob)
    sock = await opened(alice, cid, kind)
    await sock.send(named({"type": "message.send", "content": "hi", "ref": "w"}, cid, kind))
    frame = await sock.receive_until("ack")
    stored = await rest(alice, "GET", f"/api/chat/messages/{frame['message']['id']}/")
    exact(frame, events.AckWrite, {"type": "ack", "ref": "w", "message": stored})
    await sock.close()


async def test_ack_of_typing(alice, bob, kind):
    cid = await direct(alice, bob)
    sock = await opened(alice, cid, kind)
    await sock.send(named({"type": "typing", "is_typing": True, "ref": 7}, cid, kind))
    exact(await sock.receive_until("ack"), events.AckTyping, {"type": "ack", "ref": 7, "forwarded": True})
    await sock.close()


async def test_ack_of_an_auth_frame(alice, bob, kind):
    cid = await direct(alice, bob)
    sock = await opened(alice, cid, kind)
    fresh = await db(hosts.access_token)(alice)
    await sock.send({"type": "auth", "token": fresh, "ref": "a"})
    expected = {"type": "ack", "ref": "a", "expires_at": int(AccessToken(fresh)["exp"])}
    exact(await sock.receive_until("ack"), events.AckAuth, expected)
    await sock.close()


async def test_error(alice, bob, kind):
    cid = await direct(alice, bob)
    sock = await opened(alice, cid, kind)
    await sock.send(named({"type": "launch", "ref": "e"}, cid, kind))
    expected = {"type": "error", "ref": "e", "code": "unknown_type", "detail": "Unknown frame type 'launch'."}
    exact(await sock.receive_until("error"), events.Error, expected)
    await sock.close()


async def test_pong(alice, bob, kind):
    cid = await direct(alice, bob)
    sock = await opened(alice, cid, kind)
    await sock.send({"type": "ping", "ref": "p"})
    exact(await sock.receive_until("pong"), events.Pong, {"type": "pong", "ref": "p"})
    await sock.close()


def test_every_declared_shape_has_its_exact_test() -> None:
    tested = set(re.findall(r"exact\([^,]+, events\.(\w+),", Path(__file__).read_text()))
    assert tested == {shape.__name__ for shape in events.SHAPES}


async def test_error_resync_required(alice, bob, kind):
    """History after the client's `since` was pruned (parley.retention): the conversation
    socket then closes 4410; the user socket goes on live."""
    from datetime import timedelta

    from django.utils import timezone

    from parley.retention import events_prune

    cid = await direct(alice, bob)
    for text in ("one", "two", "three"):
        await rest(alice, "POST", f"/api/chat/conversations/{cid}/send_message/", json={"content": text})
    assert await db(events_prune)(older_than=timezone.now() + timedelta(days=1)) == 2  # seq 3 is kept
    since = 0 if kind == "conversation" else {str(cid): 0}
    sock = Socket.for_user(await atoken_for(bob), cid if kind == "conversation" else None, since=since)
    assert await sock.connect()
    expected = {
        "type": "error",
        "ref": None,
        "code": "resync_required",
        "detail": "Events after your 'since' are no longer kept; reload the conversation and use its last_seq.",
        "conversation": cid,
        "oldest_seq": 3,
    }
    exact(await sock.receive_until("error"), events.ErrorResyncRequired, expected)
    if kind == "conversation":
        assert await sock.closed_with() == 4410
    else:
        assert (await sock.receive_until("ready"))["conversations"] == {str(cid): 3}
        await sock.close()
