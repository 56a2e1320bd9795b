"""Graceful shutdown of a process's sockets: close them with 1012 so clients move on.

1012 ("service restart") tells a client to reconnect, to another process behind the
same address, with `?since=` its last `seq`: it misses nothing (SPEC 3). The server
calls `drain()` once it has stopped accepting connections (server.workers does so
under gunicorn) and before it waits for in-flight HTTP requests:

    idle socket                       closed at once
    socket in the middle of a frame   (a command, a delivery) closed as soon as that
                                      frame is handled, so an acknowledged command's
                                      `ack` reaches the client first
    socket still opening              closed once its handshake step returns

The consumer's only part is `handling()` around each frame it dispatches.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from parley.realtime.upkeep import upkeep

logger = logging.getLogger(__name__)

CLOSE_SERVICE_RESTART = 1012


class Closable(Protocol):
    @property
    def closing(self) -> bool: ...

    async def close_with(self, code: int, /) -> None: ...


class _State:
    draining = False
    busy: set[Any] = set()


state = _State()


class handling:  # used as `async with shutdown.handling(socket)`
    """Around one dispatched frame: a drain that began meanwhile closes the socket
    right after it. A class, not a generator: it runs for every frame of every socket."""

    __slots__ = ("socket",)

    def __init__(self, socket: Closable) -> None:
        self.socket = socket

    async def __aenter__(self) -> None:
        state.busy.add(self.socket)

    async def __aexit__(self, *exc_info: object) -> None:
        state.busy.discard(self.socket)
        if state.draining and not self.socket.closing:
            await self.socket.close_with(CLOSE_SERVICE_RESTART)


async def drain(*, timeout: float) -> int:
    """Close every open socket of this process with 1012; wait up to `timeout` s for
    them to be released. Returns how many were asked to close."""
    state.draining = True
    sockets = [s for s in list(upkeep.sockets) if not s.closing and s not in state.busy]
    started = time.monotonic()
    await asyncio.gather(*(s.close_with(CLOSE_SERVICE_RESTART) for s in sockets), return_exceptions=True)
    while upkeep.sockets and time.monotonic() - started < timeout:
        await asyncio.sleep(0.05)
    logger.info(
        "closed %d socket(s) for shutdown (1012); %d still open after %.1f s",
        len(sockets),
        len(upkeep.sockets),
        time.monotonic() - started,
    )
    return len(sockets)


def draining() -> bool:
    return state.draining
