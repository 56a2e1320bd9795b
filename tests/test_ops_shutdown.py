"""The pieces of a graceful shutdown, in process (the whole of it runs under gunicorn in
tests/test_ops_metrics.py and tests/test_ops_rolling_restart_slow.py).

`parley.shutdown.drain` closes every open socket with 1012 and waits for it to be
released; a socket still opening is closed once its handshake step returns; /readyz
answers 503 `draining` meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async

from parley import shutdown
from parley.services.conversations import conversation_start_direct
from parley.upkeep import upkeep
from server.ops.metrics import route_label
from tests.conftest import Api, body
from tests.ws import Socket, atoken_for


@pytest.fixture
def draining_reset() -> Iterator[None]:
    yield
    shutdown.state.draining = False  # process-wide: never leak into the next test


@pytest.mark.django_db(transaction=True)
async def test_drain_closes_open_sockets_with_1012(alice: Any, bob: Any, draining_reset: None) -> None:
    cid = (await database_sync_to_async(conversation_start_direct)(user=alice, other_user_id=bob.pk))[0].pk
    user_socket = Socket.for_user(await atoken_for(alice))
    conversation_socket = Socket.for_user(await atoken_for(bob), cid)
    await user_socket.open()
    await conversation_socket.open()
    for _ in range(100):  # registered just after `ready` goes out
        if len(upkeep.sockets) == 2:
            break
        await asyncio.sleep(0.01)
    assert len(upkeep.sockets) == 2
    assert await shutdown.drain(timeout=2) == 2
    assert await user_socket.closed_with() == 1012
    assert await conversation_socket.closed_with() == 1012
    # Opened while draining: closed as soon as its handshake step is done.
    late = Socket.for_user(await atoken_for(alice))
    assert await late.connect()
    assert await late.closed_with() == 1012


def test_readyz_is_503_draining_while_the_worker_drains(db: None, draining_reset: None) -> None:
    shutdown.state.draining = True
    response = Api().get("/readyz")
    assert response.status_code == 503 and body(response)["status"] == "draining"
    assert Api().get("/healthz").status_code == 200  # alive all the same


@pytest.mark.parametrize(
    ("pattern", "label"),
    [
        ("api/chat/conversations/(?P<pk>[0-9]{1,18})/send_message/$", "/api/chat/conversations/<pk>/send_message/"),
        ("api/auth/login/?$", "/api/auth/login/"),
        ("api/chat/^messages/(?P<pk>(?:[0-9]+|me))/x/$", "/api/chat/messages/<pk>/x/"),
        ("admin/parley/message/<path:object_id>/change/", "/admin/parley/message/<path:object_id>/change/"),
        ("", "/"),
    ],
)
def test_route_labels_are_patterns_never_paths(pattern: str, label: str) -> None:
    assert route_label(pattern) == label


def test_request_id_is_taken_only_when_it_is_plain(db: None) -> None:
    mine = "abcdefgh-1234:5678.ok"
    assert Api().get("/api/auth/me/", headers={"X-Request-ID": mine}).headers["X-Request-ID"] == mine
    for bad in ("short", "x" * 129, 'with "quotes" and spaces'):
        returned = Api().get("/api/auth/me/", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert returned != bad and len(returned) == 32
