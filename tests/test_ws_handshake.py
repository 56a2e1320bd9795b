"""Handshake edges: paths that name no conversation, and sockets that skip the auth frame.

docs/websocket.md: a handshake is always accepted, then closed with a code the client
can act on, never answered with an HTTP 500; a socket without a token must send the
`auth` frame first, and anything else closes it with 4401 at once.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

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
