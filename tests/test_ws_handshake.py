"""Handshake edges: paths that name no conversation, and sockets that skip the auth frame.

docs/websocket.md: a handshake is always accepted, then closed with a code the client
can act on, never answered with an HTTP 500; a socket without a token must send the
`auth` frame first, and anything else closes it with 4401 at once.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from parley.models import Message
from parley.services.conversations import conversation_start_direct
from tests.ws import Socket, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def direct_of(a: Any, b: Any) -> int:
    conversation, _ = await db(conversation_start_direct)(user=a, other_user_id=b.pk)
    return conversation.pk


@pytest.mark.parametrize(
    "path",
    [
        "/ws/chat/abc/",
        "/ws/chat/-1/",
        "/ws/chat/99999999999999999999/",
        "/ws/chat/1.5/",
        "/ws/chat/%20/",
        "/ws/chat/12/extra/",
        "/ws/chat/abc",
    ],
)
async def test_a_path_naming_no_conversation_is_closed_4404_not_a_500(alice, path):
    sock = Socket(f"{path}?token={await atoken_for(alice)}")
    assert await sock.connect()  # accepted, so the client reads the code
    error = await sock.receive()
    assert error == {"type": "error", "ref": None, "code": "not_found", "detail": "Conversation not found."}
    assert await sock.closed_with() == 4404


async def test_a_path_naming_no_conversation_needs_no_token_to_be_refused():
    sock = Socket("/ws/chat/abc/")
    assert await sock.connect()
    assert (await sock.receive())["code"] == "not_found"
    assert await sock.closed_with() == 4404


@pytest.mark.parametrize(
    "first",
    [
        {"type": "message.send", "content": "too early", "ref": 1},
        {"type": "typing", "is_typing": True},
        {"type": "ping", "ref": "p"},
        {"content": "the original's send"},
    ],
)
@pytest.mark.parametrize("token", [None, ""])
async def test_a_command_before_the_auth_frame_closes_4401_at_once(alice, bob, settings, first, token):
    settings.PARLEY = {**settings.PARLEY, "WS_AUTH_TIMEOUT_SECONDS": 30}
    cid = await direct_of(alice, bob)
    sock = Socket(f"/ws/chat/{cid}/" + ("?token=" if token == "" else ""))
    assert await sock.connect()
    await sock.send(first)
    error = await sock.receive(timeout=1)
    assert error["type"] == "error" and error["code"] == "not_authenticated"
    assert error["ref"] == first.get("ref")
    assert await sock.closed_with(timeout=1) == 4401  # long before the 30 s auth timeout
    assert await db(Message.objects.count)() == 0


async def test_a_malformed_frame_before_the_auth_frame_closes_4401(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "WS_AUTH_TIMEOUT_SECONDS": 30}
    sock = Socket("/ws/chat/")
    assert await sock.connect()
    await sock.send_raw("not json")
    assert (await sock.receive(timeout=1))["code"] == "invalid_json"
    assert await sock.closed_with(timeout=1) == 4401


async def test_the_auth_frame_first_still_opens_the_socket(alice, bob):
    cid = await direct_of(alice, bob)
    sock = Socket(f"/ws/chat/{cid}/")
    assert await sock.connect()
    await sock.send({"type": "auth", "token": await atoken_for(alice)})
    assert (await sock.receive_until("ready"))["conversations"] == {str(cid): 0}
    await sock.send({"type": "ping", "ref": "after"})
    assert (await sock.receive_until("pong"))["ref"] == "after"
    await sock.close()
