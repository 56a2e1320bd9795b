"""The pieces of a graceful shutdown, in process (the whole of it runs under gunicorn in
tests/test_ops_metrics.py and tests/test_ops_rolling_restart_slow.py).

`parley.shutdown.drain` closes every open socket with 1012 and waits for it to be
released; a socket still opening is closed once its handshake step returns; /readyz
answers 503 `draining` meanwhile; and under gunicorn, an upload in flight when SIGTERM
arrives still completes while the worker's sockets close at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async

from parley import shutdown
from parley.realtime.upkeep import upkeep
from parley.services.conversations import conversation_start_direct
from server.ops.metrics import route_label
from tests.conftest import Api, body
from tests.livestack import live_stack  # noqa: F401
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


@pytest.mark.django_db(transaction=True)
def test_a_draining_worker_finishes_the_upload_in_flight(
    live_stack: Any,  # noqa: F811
    alice: Any,
    bob: Any,
) -> None:
    """SIGTERM in the middle of a slow upload: the socket closes with 1012 at once, the
    upload still completes (201) and is stored, then the worker exits."""
    import os
    import signal
    import threading
    import time

    import httpx

    from parley.models import Message
    from tests.gunicornstack import Gunicorn
    from tests.livestack import WsClient
    from tests.ws import token_for

    cid = conversation_start_direct(user=alice, other_user_id=bob.pk)[0].pk
    with Gunicorn(live_stack, workers=1, GRACEFUL_TIMEOUT="10") as gunicorn:
        [worker] = gunicorn.workers()
        listener = live_stack.track(WsClient(f"{gunicorn.ws_url}/ws/chat/{cid}/?token={token_for(bob)}"))
        listener.open()
        boundary = "parley-boundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="content"\r\n\r\nslow\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="client_id"\r\n\r\nslow-1\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachment"; filename="slow.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        chunk, chunks = b"x" * 64 * 1024, 20
        started = threading.Event()

        def body() -> Any:
            yield head
            for i in range(chunks):
                if i == 2:
                    started.set()
                time.sleep(0.1)  # 2 s in all: the SIGTERM lands in the middle
                yield chunk
            yield tail

        result: dict[str, Any] = {}

        def upload() -> None:
            result["response"] = httpx.post(
                f"{gunicorn.url}/api/chat/conversations/{cid}/send_message/",
                content=body(),
                headers={
                    "Authorization": f"Bearer {token_for(alice)}",
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Content-Length": str(len(head) + len(chunk) * chunks + len(tail)),
                },
                timeout=30,
            )

        sender = threading.Thread(target=upload)
        sender.start()
        assert started.wait(10)
        signalled = time.monotonic()
        os.kill(worker, signal.SIGTERM)
        assert listener.closed_with(timeout=5) == 1012
        closed_after = time.monotonic() - signalled
        sender.join(30)
        response = result["response"]
        assert response.status_code == 201, response.text
        assert Message.objects.filter(conversation_id=cid, client_id="slow-1").count() == 1
        assert closed_after < 1.5  # the socket did not wait for the upload
        deadline = time.monotonic() + 15
        while worker in gunicorn.workers() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker not in gunicorn.workers()
