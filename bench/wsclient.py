"""An asyncio WebSocket client on `websockets` (and uvloop) for the socket scenarios.

Senders and receivers live in one process, so a latency is one clock's difference:
the time a frame was scheduled to be sent (open loop: a late sender does not hide its
own lateness) to the time its `message.created` arrived. Histograms are HDR (bench.stats).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import uvloop
import websockets
from websockets.asyncio.client import ClientConnection

from bench.servers import raise_nofile


def run(coro: Awaitable[Any]) -> Any:
    raise_nofile()
    return uvloop.run(coro)  # type: ignore[arg-type]


def socket_url(base: str, token: str, *, conversation: int | None = None, since: Any = None) -> str:
    path = f"/ws/chat/{conversation}/" if conversation is not None else "/ws/chat/"
    url = f"{base}{path}?token={token}"
    if since is not None:
        url += "&since=" + quote(json.dumps(since) if isinstance(since, dict) else str(since))
    return url


@dataclass
class Sock:
    ws: ClientConnection
    ready: dict[str, Any]
    early: list[dict[str, Any]] = field(default_factory=list)  # frames before `ready` (catch-up)
    connect_seconds: float = 0.0


async def open_socket(url: str, *, timeout: float = 60.0, max_queue: int | None = 1024) -> Sock:
    """Connect and read up to the `ready` frame (authenticated and subscribed)."""
    started = time.perf_counter()
    ws = await websockets.connect(
        url, open_timeout=timeout, max_size=2**22, max_queue=max_queue, ping_interval=None, compression=None
    )
    early: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == "ready":
                return Sock(ws, frame, early, time.perf_counter() - started)
            if frame.get("type") == "error":
                await ws.close()
                raise RuntimeError(f"socket refused: {frame}")
            early.append(frame)


async def open_many(urls: Iterable[str], *, concurrency: int, timeout: float = 120.0) -> tuple[list[Sock], float]:
    """Open sockets with at most `concurrency` handshakes in flight; returns them and the seconds taken."""
    gate = asyncio.Semaphore(concurrency)

    async def one(url: str) -> Sock:
        async with gate:
            return await open_socket(url, timeout=timeout)

    started = time.perf_counter()
    socks = await asyncio.gather(*(one(u) for u in urls))
    return list(socks), time.perf_counter() - started


async def close_all(socks: Iterable[Sock]) -> None:
    async def one(s: Sock) -> None:
        with contextlib.suppress(Exception):  # best effort at the end of a scenario
            await asyncio.wait_for(s.ws.close(), 5)

    await asyncio.gather(*(one(s) for s in socks))


async def drain(socks: Iterable[Sock], *, quiet: float = 0.3, limit: float = 120.0) -> int:
    """Read and drop frames until every socket has been silent for `quiet` seconds."""
    count = 0

    async def one(s: Sock) -> None:
        nonlocal count
        while True:
            try:
                await asyncio.wait_for(s.ws.recv(), quiet)
                count += 1
            except TimeoutError:
                return
            except websockets.ConnectionClosed:
                return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(one(s) for s in socks)), limit)
    return count


def reader(sock: Sock, on_frame: Callable[[dict[str, Any], float], None]) -> asyncio.Task[None]:
    """A task that hands each frame, with its arrival time, to `on_frame`."""

    async def loop() -> None:
        try:
            async for raw in sock.ws:
                on_frame(json.loads(raw), time.perf_counter())
        except websockets.ConnectionClosed:
            pass

    return asyncio.ensure_future(loop())


async def send(sock: Sock, frame: dict[str, Any]) -> None:
    await sock.ws.send(json.dumps(frame))


async def paced(rate: float, count: int, action: Callable[[int, float], Awaitable[None]]) -> float:
    """Call `action(n, scheduled_time)` `count` times at `rate` per second, open loop
    (each call starts on schedule, not after the previous one ends). Returns the
    seconds taken to issue them all."""
    started = time.perf_counter()
    tasks = []
    for n in range(count):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(action(n, due)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - started
