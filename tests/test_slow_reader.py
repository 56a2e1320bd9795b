"""A slow reader does not grow server memory without bound.

A real server on a private Redis (the production channel layer). Bob opens a socket
and then never reads: his TCP receive window fills and stays full. Alice sends
thousands of 8 KB messages into their conversation. The server's resident memory is
sampled before and after each batch; with a bound, memory levels off once the
socket's buffers are full and the server closes the stalled socket (4408, after
CHAT_WS_SEND_TIMEOUT_SECONDS blocked in a send or CHAT_WS_MAX_BACKLOG frames behind),
while a server that queued every frame for it would grow by about the volume sent.
Figure: MB published to the stalled socket, server memory growth in MB per batch.
"""

from __future__ import annotations

import itertools
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from parley.services.conversations import conversation_start_direct
from tests.figures import record
from tests.livestack import LiveServer, LiveStack, live_stack, redis_server_binary  # noqa: F401
from tests.ws import token_for

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

BATCHES = 3
PER_BATCH = 1000
CONTENT = "x" * 8000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def stalled_socket(server: LiveServer, path: str) -> socket.socket:
    """A WebSocket handshake, then nothing is ever read again."""
    url = urlsplit(server.ws_url + path)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((url.hostname, url.port))
    request = (
        f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    raw.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += raw.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return raw


def send_batch(sender: Any, cid: int, count: int, start: int) -> None:
    """Pipelined sends over alice's socket, reading everything she is sent."""
    for n in range(start, start + count):
        sender.send({"type": "message.send", "content": CONTENT, "ref": n})
        sender.receive_until(lambda f, n=n: f.get("ref") == n, timeout=30)
        sender.frames.clear()


def test_a_stalled_socket_does_not_grow_server_memory_without_bound(
    live_stack: LiveStack,  # noqa: F811
    redis_server_binary: str,  # noqa: F811
    make_user: Any,
) -> None:
    redis = live_stack.start_redis(redis_server_binary)
    server = live_stack.start_server(redis_url=redis.url, RATE_LIMITS_ENABLED="false", RATE_LIMIT_WS_COMMAND="100000/1")
    assert server.proc is not None
    alice, bob = make_user("alice"), make_user("bob")
    conversation, _ = conversation_start_direct(user=alice, other_user_id=bob.pk)
    cid = conversation.pk
    sender = live_stack.track(server.socket(token_for(alice), cid))
    sender.open()
    send_batch(sender, cid, 200, 0)  # warm up: caches, connections, allocator
    stalled = stalled_socket(server, f"/ws/chat/{cid}/?token={token_for(bob)}")
    time.sleep(1)
    samples = [rss_mb(server.proc.pid)]
    started = time.monotonic()
    for batch in range(BATCHES):
        send_batch(sender, cid, PER_BATCH, 1000 + batch * PER_BATCH)
        time.sleep(1)
        samples.append(rss_mb(server.proc.pid))
    elapsed = time.monotonic() - started
    # Reading now, the stalled client finds what fit in the buffers, then the end of the
    # connection: the server gave up on it (a close frame cannot pass the full buffers).
    stalled.settimeout(15)
    try:
        while stalled.recv(1 << 16):
            pass
        closed_by_server = True
    except ConnectionResetError:
        closed_by_server = True
    except TimeoutError:
        closed_by_server = False
    stalled.close()
    growth = [round(b - a, 1) for a, b in itertools.pairwise(samples)]
    published_mb = BATCHES * PER_BATCH * (len(CONTENT) + 400) / 1e6
    record(
        "slow_reader",
        published_to_stalled_socket_mb=round(published_mb, 1),
        rss_mb=[round(s, 1) for s in samples],
        growth_per_batch_mb=growth,
        batch_mb=round(published_mb / BATCHES, 1),
        seconds=round(elapsed, 1),
        stalled_socket_closed_by_server=closed_by_server,
    )
    # Bounded: the last batch grows memory by well under what it published.
    assert growth[-1] < published_mb / BATCHES / 2, (samples, growth)
    assert closed_by_server
