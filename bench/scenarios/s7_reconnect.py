"""S7: a reconnect storm. Clients (members of groups of 100) hold conversation sockets,
all drop, `profile.s7_missed` messages go to each group while they are away, then all
reconnect at once with `?since=<their cursor>` while live messages keep coming (2/s
per group, over REST). A client is caught up when it holds every seq up to the last
one sent while it was away; at the end each client's seqs must be exactly
cursor+1 .. last, in order: no gap, no duplicate.

Target: all caught up within 10 s; 0 gaps, 0 duplicates.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

import httpx

from bench import wsclient
from bench.scenarios import Context, check

LIVE_PER_GROUP = 2.0


async def storm(ctx: Context, base_ws: str, base_http: str) -> dict[str, Any]:
    groups = ctx.fixture["s7_groups"]
    clients = [(g["id"], m) for g in groups for m in g["members"]][: ctx.profile.s7_clients]
    socks, _ = await wsclient.open_many(
        [wsclient.socket_url(base_ws, ctx.token(m), conversation=gid) for gid, m in clients], concurrency=64
    )
    cursors = [s.ready["conversations"][str(gid)] for s, (gid, _) in zip(socks, clients, strict=True)]
    await wsclient.drain(socks, quiet=0.5, limit=120)
    await wsclient.close_all(socks)
    await asyncio.sleep(1.0)

    last_seq: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=base_http, timeout=30) as http:

        async def post(gid: int, sender: int, text: str) -> None:
            r = await http.post(
                f"/api/chat/conversations/{gid}/send_message/", json={"content": text}, headers=ctx.auth(sender)
            )
            r.raise_for_status()
            last_seq[gid] = max(last_seq.get(gid, 0), r.json()["seq"])

        async def missed(g: dict[str, Any]) -> None:
            for n in range(ctx.profile.s7_missed):
                await post(g["id"], g["members"][n % 5], f"while you were away {n}")

        await asyncio.gather(*(missed(g) for g in groups))
        target = dict(last_seq)
        stop = asyncio.Event()

        async def live(g: dict[str, Any]) -> None:
            n = 0
            while not stop.is_set():
                await post(g["id"], g["members"][0], f"live {n}")
                n += 1
                await asyncio.sleep(1 / LIVE_PER_GROUP)

        live_tasks = [asyncio.ensure_future(live(g)) for g in groups]
        received: list[list[int]] = [[] for _ in clients]
        caught_at: list[float | None] = [None] * len(clients)
        started = time.perf_counter()

        async def reconnect(i: int) -> wsclient.Sock:
            gid = clients[i][0]
            sock = await wsclient.open_socket(
                wsclient.socket_url(base_ws, ctx.token(clients[i][1]), conversation=gid, since=cursors[i]), timeout=120
            )
            for frame in sock.early:
                on(i, frame, time.perf_counter())
            return sock

        def on(i: int, frame: dict[str, Any], at: float) -> None:
            if frame.get("seq") is None:
                return
            received[i].append(frame["seq"])
            if caught_at[i] is None and frame["seq"] >= target[clients[i][0]]:
                caught_at[i] = at - started

        socks = list(await asyncio.gather(*(reconnect(i) for i in range(len(clients)))))
        handshakes_s = time.perf_counter() - started
        readers = [wsclient.reader(s, lambda f, t, i=i: on(i, f, t)) for i, s in enumerate(socks)]
        deadline = time.perf_counter() + 60
        while any(c is None for c in caught_at) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*live_tasks)
        # The tail may still be in flight: wait for it (a frame missing after this is lost).
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline and any(
            not received[i] or received[i][-1] < last_seq[gid] for i, (gid, _) in enumerate(clients)
        ):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        for task in readers:
            task.cancel()
        await wsclient.close_all(socks)

    gaps = duplicates = 0
    for i, (gid, _) in enumerate(clients):
        seqs = received[i]
        duplicates += len(seqs) - len(set(seqs))
        expected = list(range(cursors[i] + 1, last_seq[gid] + 1))
        if sorted(set(seqs)) != expected or seqs != sorted(seqs):
            gaps += 1
            if gaps == 1 and os.environ.get("BENCH_DEBUG"):
                print("S7 first bad client", cursors[i], last_seq[gid], seqs[:10], seqs[-10:], file=sys.stderr)
    done = [c for c in caught_at if c is not None]
    return {
        "clients": len(clients),
        "caught_up": len(done),
        "all_caught_s": max(done) if len(done) == len(clients) else None,
        "p50_caught_s": sorted(done)[len(done) // 2] if done else None,
        "handshakes_s": handshakes_s,
        "gaps": gaps,
        "duplicates": duplicates,
        "frames": sum(len(r) for r in received),
    }


def run(ctx: Context) -> None:
    server = ctx.product()
    r = wsclient.run(storm(ctx, server.ws_url, server.url))
    n = r["clients"]
    ctx.add(
        "S7",
        f"{n:,} clients reconnect with since: all caught up",
        r["all_caught_s"],
        "s",
        "<= 10",
        check(r["all_caught_s"], at_most=10) if r["all_caught_s"] is not None else False,
        note=(
            f"{r['caught_up']}/{n} caught up; median {r['p50_caught_s'] or 0:.2f} s; "
            f"handshakes {r['handshakes_s']:.1f} s; {r['frames']:,} durable frames"
        ),
    )
    ctx.add(
        "S7",
        "clients with a gap / duplicate frames",
        r["gaps"] + r["duplicates"],
        "",
        "0",
        r["gaps"] + r["duplicates"] == 0,
        note=f"{r['gaps']} with a gap or out of order, {r['duplicates']} duplicates",
    )
