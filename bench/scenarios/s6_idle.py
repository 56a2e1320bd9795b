"""S6: idle sockets on one worker process: memory per socket and authenticated connects/s.

Users of the seeded direct pairs open user sockets (`/ws/chat/`, up to 10 each, under
the per-user limit of 20), 64 handshakes in flight; a connect counts when its `ready`
frame arrived (token checked, groups joined, catch-up read). Memory is the worker's
RSS growth over the sockets, after a warm-up of 100. The reference is the raw ASGI
server holding the same number of sockets.

Targets: >= 10,000 sockets per worker at <= 40 KiB each; >= 300 authenticated connects/s,
and >= 0.25x the raw ASGI server's connects/s; <= 2.5 ms of worker CPU per handshake.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from bench import servers, wsclient
from bench.scenarios import Context, check

PER_USER = 10
IN_FLIGHT = 64


async def open_within(urls: list[str], *, budget: float) -> list[wsclient.Sock]:
    """Open sockets until all are open or `budget` seconds have passed (upkeep of the
    open ones can starve new handshakes: then the count falls short, and says so)."""
    deadline = time.perf_counter() + budget
    gate = asyncio.Semaphore(IN_FLIGHT)
    opened: list[wsclient.Sock] = []

    async def one(url: str) -> None:
        async with gate:
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            with contextlib.suppress(Exception):
                opened.append(await asyncio.wait_for(wsclient.open_socket(url, timeout=60), left + 30))

    await asyncio.gather(*(one(u) for u in urls))
    return opened


async def hold(server: servers.Server, urls: list[str], *, raw: bool, budget: float = 600) -> dict[str, float]:
    warm = (
        [await wsclient.websockets.connect(u, ping_interval=None, compression=None) for u in urls[:100]]
        if raw
        else (await wsclient.open_many(urls[:100], concurrency=IN_FLIGHT))[0]
    )
    if raw:
        await asyncio.gather(*(w.close() for w in warm))
    else:
        await wsclient.close_all(warm)
    await asyncio.sleep(1.0)
    before = server.rss()
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    if raw:
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def one(u: str) -> object:
            async with gate:
                return await wsclient.websockets.connect(u, ping_interval=None, compression=None, open_timeout=60)

        socks: list[object] = list(await asyncio.gather(*(one(u) for u in urls)))
    else:
        socks = await open_within(urls, budget=budget)
    connect_s = time.perf_counter() - started
    cpu_s = server.cpu_seconds() - cpu_before
    if not raw:
        await wsclient.drain(socks, quiet=0.5, limit=60)  # presence frames of the new arrivals
    await asyncio.sleep(2.0)
    after = server.rss()
    open_now = sum(1 for s in socks if (s.ws if not raw else s).state.name == "OPEN")  # type: ignore[attr-defined]
    if raw:
        await asyncio.gather(*(s.close() for s in socks), return_exceptions=True)  # type: ignore[attr-defined]
    else:
        await wsclient.close_all(socks)  # type: ignore[arg-type]
    n = max(1, len(socks))
    return {
        "connects_per_s": n / connect_s,
        "cpu_ms_per_connect": 1000 * cpu_s / n,
        "kib_per_socket": (after - before) / n / 1024,
        "open": open_now,
        "rss_mib": after / 2**20,
    }


def run(ctx: Context) -> None:
    n = ctx.profile.s6_sockets
    users = [i for p in ctx.fixture["pairs"] for i in (p["a"], p["b"])]
    per_user = max(1, -(-n // len(users)))
    if per_user > PER_USER:
        raise RuntimeError("not enough seeded users for S6")
    urls = [wsclient.socket_url("", ctx.token(users[k % len(users)])) for k in range(n)]
    with servers.raw_asgi(ctx.mode, workers=1) as raw:
        ref = wsclient.run(hold(raw, [raw.ws_url + "/"] * n, raw=True))
    with ctx.new_product(1) as server:
        budget = 60.0 if ctx.profile.name == "quick" else 240.0
        ours = wsclient.run(hold(server, [server.ws_url + u for u in urls], raw=False, budget=budget))
    kib = ours["kib_per_socket"]
    ctx.add(
        "S6",
        f"{n:,} idle sockets, 1 worker: memory per socket",
        kib,
        "KiB",
        "<= 40",
        check(kib, at_most=40) if ours["open"] == n else False,
        reference="raw ASGI socket",
        ref_value=ref["kib_per_socket"],
        ratio=kib / ref["kib_per_socket"] if ref["kib_per_socket"] > 0 else None,
        note=f"{ours['open']:,}/{n:,} open within the time limit; worker RSS {ours['rss_mib']:.0f} MiB",
    )
    rate, raw_rate = ours["connects_per_s"], ref["connects_per_s"]
    ctx.add(
        "S6",
        "authenticated connects/s",
        rate,
        "connects/s",
        ">= 300",
        check(rate, at_least=300),
        reference="raw ASGI connects/s",
        ref_value=raw_rate,
        ratio=rate / raw_rate,
    )
    ctx.add(
        "S6",
        "authenticated connects / raw ASGI connects",
        rate / raw_rate,
        "x",
        ">= 0.25",
        check(rate / raw_rate, at_least=0.25),
        reference="raw ASGI connects/s",
        ref_value=raw_rate,
        ratio=rate / raw_rate,
    )
    cpu = ours["cpu_ms_per_connect"]
    ctx.add(
        "S6",
        "worker CPU per handshake",
        cpu,
        "ms",
        "<= 2.5",
        check(cpu, at_most=2.5),
        reference="raw ASGI handshake CPU (ms)",
        ref_value=ref["cpu_ms_per_connect"],
        ratio=cpu / ref["cpu_ms_per_connect"] if ref["cpu_ms_per_connect"] > 0 else None,
        note="the worker's user + system CPU while the sockets opened, over the sockets",
    )
    headroom = raw_rate / rate if rate else None
    ctx.add("ref", "load generator: WS connects raw / ours", headroom, "x", ">= 3", check(headroom, at_least=3))
