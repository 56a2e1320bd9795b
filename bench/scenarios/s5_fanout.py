"""S5: fan-out to a 100- and a 1,000-member group, one worker process.

Every member holds the group's conversation socket; member 0 sends. Two runs per group:

    burst    `profile.s5_messages` sends back to back: deliveries/s is the number of
             frames delivered (members x messages) over the time from the first send
             to the last arrival
    paced    5,000 deliveries/s (5 msg/s to 1,000 members, 50 msg/s to 100): the
             last recipient's latency per message, and losses (a socket missing a seq)

Connecting the members first makes every one of them come online, so the product
publishes `presence` to the group: that storm is measured too (it is N^2 frames).
The reference is bench.rawasgi's broadcast to the same number of sockets: the
client's and server's ceiling with no framework.

Targets: >= 5,000 deliveries/s per worker; 1,000 members: last recipient p99 <= 250 ms; 0 lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from typing import Any

from bench import servers, wsclient
from bench.scenarios import Context, check
from bench.stats import Latency

TARGET_DELIVERIES = 5000


async def raw_broadcast(url: str, members: int, messages: int) -> float:
    socks = [
        await wsclient.websockets.connect(url, compression=None, ping_interval=None, max_queue=None)
        for _ in range(members)
    ]
    got = 0
    done = asyncio.Event()
    total = members * messages

    async def read(ws: Any) -> None:
        nonlocal got
        async for _ in ws:
            got += 1
            if got >= total:
                done.set()

    tasks = [asyncio.ensure_future(read(s)) for s in socks]
    payload = "B" + '{"type":"message.created","conversation":1,"seq":1,"message":' + "x" * 450 + "}"
    started = time.perf_counter()
    for _ in range(messages):
        await socks[0].send(payload)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), 60)
    elapsed = time.perf_counter() - started
    for t in tasks:
        t.cancel()
    await asyncio.gather(*(s.close() for s in socks), return_exceptions=True)
    return got / elapsed


async def fanout(
    ctx: Context,
    base: str,
    group: dict[str, Any],
    messages: int,
    rate: float,
    *,
    storm_budget: float,
    measure: bool = True,
) -> dict[str, Any]:
    urls = [wsclient.socket_url(base, ctx.token(i), conversation=group["id"]) for i in group["members"]]
    started = time.perf_counter()
    socks, connect_s = await wsclient.open_many(urls, concurrency=50)
    storm_frames = await wsclient.drain(socks, quiet=1.0, limit=storm_budget)
    storm_s = time.perf_counter() - started
    settled = storm_s < connect_s + storm_budget
    results: dict[str, Any] = {
        "connect_s": connect_s,
        "storm_s": storm_s,
        "storm_frames": storm_frames,
        "settled": settled,
    }
    if measure and settled:
        results["burst"] = await phase(socks, "burst", 0.0, messages)
        results["paced"] = await phase(socks, "paced", rate, messages)
    await wsclient.close_all(socks)
    return results


async def phase(socks: list[wsclient.Sock], name: str, rate: float, messages: int) -> dict[str, Any]:
    """Member 0 sends `messages`; every socket's arrivals are timed (burst: back to back)."""
    sent: dict[str, float] = {}
    arrivals: dict[str, list[float]] = defaultdict(list)
    seqs: list[set[int]] = [set() for _ in socks]

    def on_frame_of(i: int) -> Any:
        def on_frame(frame: dict[str, Any], at: float) -> None:
            if frame.get("type") == "message.created":
                arrivals[frame["message"]["client_id"]].append(at)
                seqs[i].add(frame["seq"])

        return on_frame

    readers = [wsclient.reader(s, on_frame_of(i)) for i, s in enumerate(socks)]

    async def send_one(n: int, due: float) -> None:
        key = f"s5-{name}-{time.monotonic_ns()}-{n}"
        sent[key] = due if rate else time.perf_counter()
        await wsclient.send(socks[0], {"type": "message.send", "content": f"fan-out {n}", "client_id": key})

    first = time.perf_counter()
    if rate:
        await wsclient.paced(rate, messages, send_one)
    else:
        for n in range(messages):
            await send_one(n, 0.0)
    expected = len(socks) * messages
    deadline = time.perf_counter() + 60
    while sum(len(v) for v in arrivals.values()) < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    for task in readers:
        task.cancel()
    delivered = sum(len(v) for k, v in arrivals.items() if k in sent)
    last = max((max(v) for k, v in arrivals.items() if k in sent and v), default=first)
    latency = Latency()
    for key, at in sent.items():
        if arrivals.get(key):
            latency.record(max(arrivals[key]) - at)
    return {
        "deliveries_per_s": delivered / (last - first) if last > first else 0.0,
        "lost": expected - delivered,
        "last_p50_ms": latency.ms(50),
        "last_p99_ms": latency.ms(99),
        "gaps": sum(1 for s in seqs if s and max(s) - min(s) + 1 != len(s)),
    }


def run(ctx: Context) -> None:
    messages = ctx.profile.s5_messages
    quick = ctx.profile.name == "quick"
    budget = 20.0 if quick else 60.0
    with servers.raw_asgi(ctx.mode, workers=1) as raw:
        raw_rate = wsclient.run(raw_broadcast(raw.ws_url + "/", 1000, messages))
    ctx.refs["raw_fanout"] = raw_rate
    ctx.add("ref", "raw ASGI broadcast to 1,000 sockets", raw_rate, "deliveries/s")
    group100, group1000 = ctx.fixture["group100"], ctx.fixture["group1000"]
    with ctx.new_product(1) as server:
        r = wsclient.run(fanout(ctx, server.ws_url, group100, messages, TARGET_DELIVERIES / 100, storm_budget=budget))
        report(ctx, "", r, 100, raw_rate)
    with ctx.new_product(1) as server:
        # Measured only if the presence storm settles (the product caps presence since 141bddc).
        rate = TARGET_DELIVERIES / 1000
        storm = wsclient.run(fanout(ctx, server.ws_url, group1000, messages, rate, storm_budget=budget))
        report(ctx, "", storm, 1000, raw_rate)
    if quick:
        return  # the variants below are the full run's
    # The fan-out itself, with presence kept out of groups over 100 members.
    app, env = "bench.variants:application", {"BENCH_PRESENCE_CAP": "100"}
    if ctx.mode.production:
        capped = servers.gunicorn_asgi(ctx.mode, app, "presence-capped", workers=1, **env)
    else:
        capped = servers.uvicorn_app(ctx.mode, app, "presence-capped", **env)
    with capped as server:
        r = wsclient.run(fanout(ctx, server.ws_url, group1000, messages, TARGET_DELIVERIES / 1000, storm_budget=budget))
        report(ctx, " [presence capped]", r, 1000, raw_rate)
    if ctx.mode.production:
        # The channel layer decision: the same run on channels_redis' default layer.
        core = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_CHANNEL_LAYER": "core"}
        label = " [presence capped, RedisChannelLayer]"
        try:
            with servers.gunicorn_asgi(ctx.mode, app, "core-layer", workers=1, **core) as server:
                r = wsclient.run(
                    fanout(ctx, server.ws_url, group1000, messages, TARGET_DELIVERIES / 1000, storm_budget=budget)
                )
        except Exception as exc:  # noqa: BLE001 - the rejected layer failing is the finding
            ctx.add("S5", f"1,000 members{label}", None, "", note=f"failed: {exc.__class__.__name__}: {exc}"[:160])
            return
        report(ctx, label, r, 1000, raw_rate)


def report(ctx: Context, label: str, r: dict[str, Any], n: int, raw_rate: float) -> None:
    ctx.add(
        "S5",
        f"{n:,} members: connect + presence storm{label}",
        r["storm_s"],
        "s",
        met=None if r["settled"] else False,
        note=f"{r['storm_frames']:,} presence frames; handshakes {r['connect_s']:.1f} s"
        + ("" if r["settled"] else "; still flooding at the time limit"),
    )
    if "burst" not in r:
        return
    burst, paced = r["burst"], r["paced"]
    ctx.add(
        "S5",
        f"{n:,} members: burst deliveries/s (1 worker){label}",
        burst["deliveries_per_s"],
        "deliveries/s",
        ">= 5,000",
        check(burst["deliveries_per_s"], at_least=TARGET_DELIVERIES),
        reference="raw ASGI broadcast",
        ref_value=raw_rate,
        ratio=burst["deliveries_per_s"] / raw_rate if raw_rate else None,
        note=f"{burst['lost']} lost; last recipient p99 {burst['last_p99_ms']:.0f} ms",
    )
    target = n >= 1000
    ctx.add(
        "S5",
        f"{n:,} members: last recipient p99 at 5,000 deliveries/s{label}",
        paced["last_p99_ms"],
        "ms",
        "<= 250" if target else "",
        check(paced["last_p99_ms"], at_most=250) if target else None,
        note=f"p50 {paced['last_p50_ms']:.0f} ms; {paced['gaps']} sockets with gaps",
    )
    lost = paced["lost"] + burst["lost"]
    ctx.add("S5", f"{n:,} members: lost deliveries{label}", lost, "frames", "0", lost == 0)
