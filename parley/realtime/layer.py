"""A socket's place on the channel layer, which may be missing at any moment.

The layer is a doorbell, not the record (SPEC 3): a socket opened while Redis is
unreachable is accepted and served from the database (`degraded`: it polls), and
attaches to the layer once it answers again.

    LayerLink          the socket's channel and groups; every call has a timeout and a
                       failure degrades the socket instead of ending it
    LayerLink.inbox    one `receive` over the client and the layer, for Channels' own
                       dispatch loop (the consumer tells Channels it has no layer, so
                       that Channels never opens the channel itself: its __call__ ends
                       the consumer when new_channel() fails)
    poll_degraded      what a degraded socket does instead of listening
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import get_channel_layer

from parley.conf import parley_settings
from parley.realtime.eager import eager

logger = logging.getLogger(__name__)

Receive = Callable[[], Awaitable[dict[str, Any]]]


class LayerLink:
    def __init__(self, *, on_lost: Callable[[], None], alias: str = DEFAULT_CHANNEL_LAYER) -> None:
        self.alias = alias
        self.layer: Any = None
        self._local: Any = None  # channels_redis' per-event-loop layer, looked up once
        self.channel_name = ""
        self.groups: set[str] = set()
        self.degraded = False
        self._on_lost = on_lost
        self._attached = asyncio.Event()
        self._changing = asyncio.Lock()  # attach, subscribe and unsubscribe see one group set
        self._inbox: Inbox | None = None

    async def attach(self) -> bool:
        """Open a channel (once) and (re)subscribe every group; False leaves the socket
        degraded, to try again on its next poll."""
        async with self._changing:
            layer = self.layer or get_channel_layer(self.alias)
            if layer is None:
                return False
            try:
                if not self.channel_name:
                    self.channel_name = await asyncio.wait_for(layer.new_channel(), timeout=_timeout())
                    self.layer = layer
                    self._local = layer._get_layer() if hasattr(layer, "_get_layer") else layer
                for group in list(self.groups):
                    await asyncio.wait_for(layer.group_add(group, self.channel_name), timeout=_timeout())
            except Exception as exc:  # noqa: BLE001 - Redis unreachable: serve from the database
                logger.warning("channel layer unavailable, socket degraded to polling: %s", exc.__class__.__name__)
                self.degraded = True
                return False
            self.degraded = False
            self._attached.set()
            return True

    async def subscribe(self, group: str) -> None:
        async with self._changing:
            if group not in self.groups:
                self.groups.add(group)
                if self.layer is not None and not self.degraded:
                    await self._call(self.layer.group_add(group, self.channel_name))

    async def unsubscribe(self, group: str) -> None:
        async with self._changing:
            if group in self.groups:
                self.groups.discard(group)
                if self.layer is not None:
                    await self._call(self.layer.group_discard(group, self.channel_name))

    async def leave(self) -> None:
        """Leave every group (the socket is closing)."""
        for group in list(self.groups):
            await self.unsubscribe(group)

    async def _call(self, call: Awaitable[Any]) -> None:
        try:
            await asyncio.wait_for(call, timeout=_timeout())
        except Exception as exc:  # noqa: BLE001
            logger.warning("channel layer call failed, socket degraded to polling: %s", exc.__class__.__name__)
            self._lose()

    def _lose(self) -> None:
        if not self.degraded:
            self.degraded = True
            self._on_lost()

    async def receive(self) -> dict[str, Any]:
        """The next channel-layer message for this socket; waits while there is no layer."""
        while True:
            await self._attached.wait()
            try:
                message: dict[str, Any] = await self._local.receive(self.channel_name)
                return message
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the layer went away: poll until it is back
                logger.warning("channel layer receive failed, socket degraded: %s", exc.__class__.__name__)
                self._attached.clear()
                self._lose()

    def backlog(self) -> int:
        """Frames waiting in the channel layer for this socket (0 if the layer hides it)."""
        if self._local is None:
            return 0
        try:
            queue = self._local.channels.get(self.channel_name)
            return int(queue.qsize()) if queue is not None else 0
        except Exception:  # noqa: BLE001 - internals of a layer we do not know
            return 0

    def inbox(self, client: Receive) -> Receive:
        self._inbox = Inbox(client, self.receive)
        return self._inbox

    def close(self) -> None:
        if self._inbox is not None:
            self._inbox.close()


class Inbox:
    """One receive over two sources. Channels' dispatch loop awaits it, then hands the
    message to `dispatch` before asking again, so client frames and layer messages are
    handled one at a time, as Channels' own loop does with its two sources; a message
    that arrived meanwhile waits, already received, for the next call.

    The layer's next receive starts eagerly (parley.realtime.eager): a message already
    waiting in its queue is taken with no task and no `asyncio.wait` (a fan-out burst);
    one future of our own is woken by whichever source completes. The client's receive
    (the first source) mostly waits, and stays a task started at once, as before, so
    that a client frame that arrived meanwhile still comes first."""

    def __init__(self, *sources: Receive) -> None:
        self._sources = sources
        self._pending: list[asyncio.Future[dict[str, Any]] | None] = [None] * len(sources)
        self._waiter: asyncio.Future[None] | None = None

    async def __call__(self) -> dict[str, Any]:
        for i, source in enumerate(self._sources):
            if self._pending[i] is None:
                started = asyncio.ensure_future(source()) if i == 0 else eager(source())
                if not started.done():
                    started.add_done_callback(self._wake)
                self._pending[i] = started
        while True:
            for i, future in enumerate(self._pending):  # the client first, when both are ready
                if future is not None and future.done():
                    self._pending[i] = None
                    return future.result()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _wake(self, _: asyncio.Future[dict[str, Any]]) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def close(self) -> None:
        for future in self._pending:
            if future is not None:
                future.cancel()
        self._pending = [None] * len(self._sources)


class Polled(Protocol):
    @property
    def closing(self) -> bool: ...

    async def still_authorized(self) -> bool: ...

    async def session_ended(self) -> None: ...

    async def resync(self, latest: dict[int, int] | None = None) -> None: ...


async def poll_degraded(link: LayerLink, socket: Polled) -> None:
    """A socket without a channel layer polls: it checks that its session still stands
    (it cannot hear a logout), catches up from the database, and tries to re-attach."""
    while link.degraded and not socket.closing:
        await asyncio.sleep(parley_settings.WS_DEGRADED_POLL_SECONDS)
        if not await socket.still_authorized():
            await socket.session_ended()
            return
        if await link.attach():
            logger.info("channel layer back; socket re-attached")
        await socket.resync()


def _timeout() -> float:
    return float(parley_settings.PUBLISH_TIMEOUT) * 4
