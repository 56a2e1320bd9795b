"""S4: WebSocket sender -> receiver latency, idle and at 500 messages/s.

Each pair is a direct conversation: `a` sends `message.send` on its conversation
socket, `b` receives `message.created` on its own. Latency runs from the scheduled
send time to the arrival at `b` (open loop: no coordinated omission). Idle: one pair,
one message at a time. Loaded: `profile.s4_rate` messages/s spread over 50 pairs.
The reference is a raw ASGI echo's round trip (client -> server -> client, the same
path with no framework).

Targets: idle p50 <= 2.5 ms, p99 <= 10 ms (each also as a multiple of one raw INSERT
transaction of the same run: the target's ms over that commit's ms); at 500/s p99 <= 25 ms; nothing lost.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import servers, wsclient
from bench.scenarios import Context, check
from bench.stats import Latency

LOADED_PAIRS = 50


async def echo_reference(url: str, count: int) -> Latency:
    latency = Latency()
    sock = await wsclient.websockets.connect(url, compression=None, ping_interval=None)
    try:
        for n in range(count):
            started = time.perf_counter()
            await sock.send(f"ping {n}")
            await sock.recv()
            latency.record(time.perf_counter() - started)
    finally:
        await sock.close()
    return latency


async def measure(
    ctx: Context, base: str, pairs: list[dict[str, Any]], *, rate: float, count: int
) -> tuple[Latency, int]:
    senders, _ = await wsclient.open_many(
        [wsclient.socket_url(base, ctx.token(p["a"]), conversation=p["id"]) for p in pairs], concurrency=20
    )
    receivers, _ = await wsclient.open_many(
        [wsclient.socket_url(base, ctx.token(p["b"]), conversation=p["id"]) for p in pairs], concurrency=20
    )
    await wsclient.drain(senders + receivers, quiet=0.3)
    sent: dict[str, float] = {}
    latency = Latency()
    arrived: set[str] = set()

    def on_frame(frame: dict[str, Any], at: float) -> None:
        if frame.get("type") == "message.created":
            key = frame["message"].get("client_id")
            if key in sent and key not in arrived:
                arrived.add(key)
                latency.record(at - sent[key])

    readers = [wsclient.reader(r, on_frame) for r in receivers]
    # Senders' own frames (acks, their copy of the message) are read and dropped.
    drops = [wsclient.reader(s, lambda f, t: None) for s in senders]

    async def send_one(n: int, due: float) -> None:
        key = f"s4-{time.monotonic_ns()}-{n}"
        sent[key] = due
        await wsclient.send(
            senders[n % len(senders)], {"type": "message.send", "content": f"latency probe {n}", "client_id": key}
        )

    if rate <= 0:  # idle: one at a time, each after the previous arrived
        for n in range(count):
            await send_one(n, time.perf_counter())
            deadline = time.perf_counter() + 5
            while len(arrived) <= n and time.perf_counter() < deadline:
                await asyncio.sleep(0.0002)
            await asyncio.sleep(0.005)
    else:
        await wsclient.paced(rate, count, send_one)
    deadline = time.perf_counter() + 10
    while len(arrived) < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    for task in readers + drops:
        task.cancel()
    await wsclient.close_all(senders + receivers)
    return latency, count - len(arrived)


def run(ctx: Context) -> None:
    with servers.raw_asgi(ctx.mode, workers=1) as raw:
        echo = wsclient.run(echo_reference(raw.ws_url + "/", 500))
    echo_p50, echo_p99 = echo.ms(50), echo.ms(99)
    ctx.refs["raw_ws_echo_p50_ms"] = echo_p50
    ctx.add("ref", "raw ASGI WebSocket echo round trip", echo_p50, "ms p50", note=f"p99 {echo_p99:.2f} ms")
    server = ctx.product()
    pairs = ctx.fixture["pairs"]
    idle, lost_idle = wsclient.run(measure(ctx, server.ws_url, pairs[:1], rate=0, count=ctx.profile.s4_idle))
    rate = ctx.profile.s4_rate
    loaded, lost = wsclient.run(
        measure(ctx, server.ws_url, pairs[:LOADED_PAIRS], rate=rate, count=int(rate * ctx.profile.seconds))
    )
    p50, p99 = idle.ms(50), idle.ms(99)
    ctx.add(
        "S4",
        "idle latency p50",
        p50,
        "ms",
        "<= 2.5",
        check(p50, at_most=2.5),
        reference="raw echo p50",
        ref_value=echo_p50,
        ratio=p50 / echo_p50,
    )
    ctx.add(
        "S4",
        "idle latency p99",
        p99,
        "ms",
        "<= 10",
        check(p99, at_most=10),
        reference="raw echo p99",
        ref_value=echo_p99,
        ratio=p99 / echo_p99,
        note=f"{lost_idle} lost" if lost_idle else "",
    )
    if ctx.refs.get("insert"):
        commit_ms = 1000 / ctx.refs["insert"]
        for name, value, target in (("p50", p50, 2.5), ("p99", p99, 10.0)):
            ctx.add(
                "S4",
                f"idle {name} / one raw INSERT transaction",
                value / commit_ms,
                "x",
                f"target {target / commit_ms:.1f}x here",
                reference="1 / raw INSERT rate (ms)",
                ref_value=commit_ms,
                ratio=value / commit_ms,
                note="the send: a rate-limit round trip, one pipelined transaction (lock + write), the publish",
            )
    lp99 = loaded.ms(99)
    ctx.add(
        "S4",
        f"latency p99 at {rate} msg/s",
        lp99,
        "ms",
        "<= 25",
        check(lp99, at_most=25) if not lost else False,
        reference="raw echo p99",
        ref_value=echo_p99,
        ratio=lp99 / echo_p99,
        note=f"p50 {loaded.ms(50):.1f} ms, {lost} lost of {loaded.count + lost}",
    )
