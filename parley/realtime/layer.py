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
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import get_channel_layer

from parley.conf import parley_settings
from parley.realtime.eager import eager

logger = logging.getLogger(__name__)

Receive = Callable[[], Awaitable[dict[str, Any]]]
T = TypeVar("T")


class LayerLink:
    def __init__(self, *, on_lost: Callable[[], None], alias: str = DEFAULT_CHANNEL_LAYER) -> None:
        self.alias = alias
        self.layer: Any = None
        self._local: Any = None  # channels_redis' per-event-loop layer, looked up once
        self._queue: _Notifying | None = None  # this socket's queue in it (pub/sub layer only)
        self._listener: Callable[[], None] | None = None
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
                    local = layer._get_layer() if hasattr(layer, "_get_layer") else layer
                    self.channel_name = self._own_queue(local) or await _within(layer.new_channel())
                    self.layer, self._local = layer, local
                for group in list(self.groups):
                    await _within(layer.group_add(group, self.channel_name))
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
            await _within(call)
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

    def _own_queue(self, local: Any) -> str:
        """channels_redis' pub/sub layer: this socket's queue, made here instead of by
        its `new_channel`, which SUBSCRIBEs to the channel's own name (a Redis round
        trip at every connect and another at every close) and fills a plain asyncio
        queue that its `receive` awaits (a task per message). Parley never sends to a
        socket's own channel, only to groups, so the queue is all the socket needs; it
        also wakes the socket's Inbox, which takes messages straight from it (`take`).
        "" for any other layer: its own new_channel and receive are used."""
        if type(local).__module__ != "channels_redis.pubsub":
            return ""
        name = f"{local.prefix}specific.{uuid.uuid4().hex}"
        self._queue = local.channels[name] = _Notifying()
        self._queue.listener = self._listener
        return name

    @property
    def direct(self) -> bool:
        """Messages are taken with `take` (the pub/sub layer), not awaited with `receive`."""
        return self._queue is not None

    def take(self) -> dict[str, Any] | None:
        """The next message already in this socket's queue, or None."""
        queue = self._queue
        if queue is None or queue.empty():
            return None
        message: dict[str, Any] = self._local.channel_layer.deserialize(queue.get_nowait())
        return message

    def listen(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever a message is put in this socket's queue."""
        self._listener = listener
        if self._queue is not None:
            self._queue.listener = listener

    def backlog(self) -> int:
        """Frames waiting in the channel layer for this socket (0 if the layer hides it)."""
        if self._local is None:
            return 0
        try:
            queue = self._local.channels.get(self.channel_name)
            return int(queue.qsize()) if queue is not None else 0
        except Exception:  # noqa: BLE001 - internals of a layer we do not know
            return 0

    def inbox(self, client: Receive, *, deliver: Callable[[dict[str, Any]], Awaitable[None]] | None = None) -> Receive:
        """The one receive Channels' loop awaits (Inbox); `deliver` handles layer messages."""
        self._inbox = Inbox(client, self.receive, direct=self, deliver=deliver)
        return self._inbox

    def close(self) -> None:
        if self._inbox is not None:
            self._inbox.close()
        if self._queue is not None:  # the queue _own_queue made (never subscribed to)
            self._queue.listener = None
            self._queue = None
            self._local.channels.pop(self.channel_name, None)


class _Notifying(asyncio.Queue):  # type: ignore[type-arg]
    listener: Callable[[], None] | None = None

    def put_nowait(self, item: Any) -> None:
        super().put_nowait(item)
        if self.listener is not None:
            self.listener()


class Direct(Protocol):
    @property
    def direct(self) -> bool: ...

    def take(self) -> dict[str, Any] | None: ...

    def listen(self, listener: Callable[[], None]) -> None: ...


DELIVERIES_PER_TURN = 32  # layer messages an Inbox delivers before it yields to the event loop


class Inbox:
    """One receive over two sources, the client's and the layer's. Channels' dispatch
    loop awaits it, then hands the message to `dispatch` before asking again, so client
    frames and layer messages are handled one at a time, as Channels' own loop does with
    its two sources; a message that arrived meanwhile waits for the next call.

    The client's receive is a task that stays pending between calls (it mostly waits,
    and one started first keeps a client frame ahead). Layer messages are taken straight
    from the socket's queue when the layer allows it (`direct`, LayerLink.take), else
    each is awaited through the layer's receive, started eagerly (parley.realtime.eager).
    Whichever completes wakes one future of our own: no task and no `asyncio.wait` per
    layer message (bench S5: a 1,000-member fan-out is 1,000 of these per message).

    With `deliver` (the consumer's own `dispatch`), a layer message is handled here, in
    the call Channels' loop is awaiting, and the call goes on to the next message; only
    client messages are returned. Still one message at a time, the client's first, but
    Channels' loop makes its task and its `asyncio.wait` once per client message instead
    of once per delivered frame (18-20 % of a 1,000-member fan-out's CPU, bench/README.md
    "Fourth look"). A handler's exception, StopConsumer included, reaches Channels' loop
    as if its own dispatch had raised it."""

    def __init__(
        self,
        client: Receive,
        layer: Receive,
        *,
        direct: Direct | None = None,
        deliver: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    ) -> None:
        self._sources = (client, layer)
        self._deliver = deliver
        self._direct = direct
        self._pending: list[asyncio.Future[dict[str, Any]] | None] = [None, None]
        self._waiter: asyncio.Future[None] | None = None
        if direct is not None:
            direct.listen(self._wake_now)

    async def __call__(self) -> dict[str, Any]:
        in_a_row = 0
        while True:
            ready = self._next()
            if ready is None:
                in_a_row = 0
                await self._wait()
                continue
            message, from_client = ready
            if from_client or self._deliver is None:
                return message
            await self._deliver(message)
            in_a_row += 1
            if in_a_row % DELIVERIES_PER_TURN == 0:
                # A send the transport takes at once does not yield: let the event loop
                # run the client's receive and the other sockets between long backlogs.
                await asyncio.sleep(0)

    def _next(self) -> tuple[dict[str, Any], bool] | None:
        """The next message ready and whether it is the client's (first, when both are
        ready); None when none is."""
        direct = self._direct
        while True:
            self._start(0)
            client = self._pending[0]
            if client is not None and client.done():
                self._pending[0] = None
                return client.result(), True
            layer = self._pending[1]
            if layer is not None and layer.done():
                self._pending[1] = None
                return layer.result(), False
            if direct is not None and direct.direct:
                message = direct.take()
                return None if message is None else (message, False)
            if layer is None:
                self._start(1)
                continue
            return None

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _start(self, i: int) -> None:
        if self._pending[i] is None:
            source = self._sources[i]
            started = asyncio.ensure_future(source()) if i == 0 else eager(source())
            if not started.done():
                started.add_done_callback(self._wake)
            self._pending[i] = started

    def _wake(self, _: object) -> None:
        self._wake_now()

    def _wake_now(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def close(self) -> None:
        for future in self._pending:
            if future is not None:
                future.cancel()
        self._pending = [None, None]


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


async def _within(call: Awaitable[T]) -> T:
    """`call`, or TimeoutError after `_timeout()`: in the caller's task (`asyncio.wait_for`
    made a task of every subscribe, two or more per handshake)."""
    async with asyncio.timeout(_timeout()):
        return await call
