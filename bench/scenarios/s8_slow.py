"""S8: a slow consumer. In the 100-member group, 20 members read normally and member 0
sends `profile.s8_rate` messages/s of `profile.s8_content` characters for
`profile.s8_seconds`; the run is done twice on a fresh one-worker server, without and
then with one more member whose socket never reads (a raw TCP client with a small
receive buffer that stops after the handshake). Measured: the worker's peak RSS growth
during each run, and the readers' latency p99.

Targets: with the slow client, RSS growth <= 50 MiB; readers' p99 not raised (<= 1.2x
the run without it, or within 5 ms).
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from typing import Any

from bench import servers, wsclient
from bench.scenarios import Context, PeakRss, check
from bench.stats import Latency

READERS = 20


def slow_socket(port: int, path: str) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)  # byte by byte: leave every frame after the handshake unread
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"slow client refused: {head[:100]!r}")
    return s


async def traffic(ctx: Context, server: servers.Server, group: dict[str, Any], *, slow: bool) -> dict[str, Any]:
    base = server.ws_url
    members = group["members"]
    sender = await wsclient.open_socket(wsclient.socket_url(base, ctx.token(members[0]), conversation=group["id"]))
    readers, _ = await wsclient.open_many(
        [wsclient.socket_url(base, ctx.token(m), conversation=group["id"]) for m in members[1 : 1 + READERS]],
        concurrency=20,
    )
    lazy = None
    if slow:
        path = f"/ws/chat/{group['id']}/?token={ctx.token(members[1 + READERS])}"
        lazy = await asyncio.get_running_loop().run_in_executor(None, slow_socket, server.port, path)
    await wsclient.drain([sender, *readers], quiet=0.5)
    sent: dict[str, float] = {}
    latency = Latency()

    def on_frame(frame: dict[str, Any], at: float) -> None:
        if frame.get("type") == "message.created":
            key = frame["message"]["client_id"]
            if key in sent:
                latency.record(at - sent[key])

    tasks = [wsclient.reader(r, on_frame) for r in readers] + [wsclient.reader(sender, lambda f, t: None)]
    content = ("slow consumer payload " * (ctx.profile.s8_content // 22 + 1))[: ctx.profile.s8_content]

    async def send_one(n: int, due: float) -> None:
        key = f"s8-{slow}-{n}"
        sent[key] = due
        await wsclient.send(sender, {"type": "message.send", "content": content, "client_id": key})

    rate, seconds = ctx.profile.s8_rate, ctx.profile.s8_seconds
    before = server.rss()
    with PeakRss(server) as peak:
        await wsclient.paced(rate, int(rate * seconds), send_one)
        await asyncio.sleep(2.0)
    for task in tasks:
        task.cancel()
    closed_by_server = False
    if lazy is not None:
        lazy.setblocking(False)
        try:
            closed_by_server = lazy.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            closed_by_server = False
        except OSError:
            closed_by_server = True
        lazy.close()
    await wsclient.close_all([sender, *readers])
    expected = int(rate * seconds) * len(readers)
    return {
        "growth_mib": (peak.peak - before) / 2**20,
        "p50_ms": latency.ms(50),
        "p99_ms": latency.ms(99),
        "lost": expected - latency.count,
        "closed": closed_by_server,
        "mib_sent_to_slow": int(rate * seconds) * ctx.profile.s8_content / 2**20,
    }


def run(ctx: Context) -> None:
    group = ctx.fixture["group100"]
    with ctx.new_product(1) as server:
        base = wsclient.run(traffic(ctx, server, group, slow=False))
        slow = wsclient.run(traffic(ctx, server, group, slow=True))
    growth = slow["growth_mib"]
    ctx.add(
        "S8",
        "server RSS growth with a never-reading client",
        growth,
        "MiB",
        "<= 50",
        check(growth, at_most=50),
        reference="same run, no slow client",
        ref_value=base["growth_mib"],
        note=f"{slow['mib_sent_to_slow']:.0f} MiB of frames addressed to it; closed by server: {slow['closed']}",
    )
    raised = slow["p99_ms"] / base["p99_ms"] if base["p99_ms"] else None
    ok = slow["p99_ms"] <= max(1.2 * base["p99_ms"], base["p99_ms"] + 5)
    ctx.add(
        "S8",
        "readers' p99 with the slow client",
        slow["p99_ms"],
        "ms",
        "<= 1.2x or +5 ms",
        ok and slow["lost"] == 0,
        reference="readers' p99 without it",
        ref_value=base["p99_ms"],
        ratio=raised,
        note=f"{slow['lost']} lost (without: {base['lost']})",
    )
