"""Per-process upkeep of open sockets: one task, not one per socket.

Every open socket needs two chores now and then: refreshing its user's presence key
(so a dead process's count expires) and comparing its cursors with the database (so
a doorbell lost while Redis was away is noticed). Done per socket, 10,000 sockets
cost 333 thread hops and 167 queries a second; done here, one hop per heartbeat and
one query per resync for the whole process. A failed publish in this process
triggers a resync at the next tick instead of waiting for the period. Each tick also
announces the users whose offline grace ran out (parley.realtime.presence), whichever
process their last socket was on.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from typing import Any, Protocol

from parley import events, metrics
from parley.conf import parley_settings
from parley.realtime import commands, presence
from parley.realtime.dbcalls import db_call

logger = logging.getLogger(__name__)

TICK_SECONDS = 2.0


class Tended(Protocol):
    @property
    def cursors(self) -> dict[int, int]: ...

    @property
    def closing(self) -> bool: ...

    @property
    def user_id(self) -> int | None: ...

    async def resync(self, latest: dict[int, int] | None = None) -> None: ...


class Upkeep:
    def __init__(self) -> None:
        self.sockets: weakref.WeakSet[Any] = weakref.WeakSet()
        self.task: asyncio.Task[None] | None = None

    def register(self, socket: Tended) -> None:
        if socket not in self.sockets:
            metrics.websocket_connections.inc()
        self.sockets.add(socket)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self._run())

    def unregister(self, socket: Tended) -> None:
        if socket in self.sockets:
            metrics.websocket_connections.dec()
        self.sockets.discard(socket)

    async def _run(self) -> None:
        last_beat = last_resync = time.monotonic()
        failures = events.failed_publishes()
        while self.sockets:
            tick = min(TICK_SECONDS, parley_settings.WS_HEARTBEAT_SECONDS, parley_settings.WS_RESYNC_SECONDS)
            await asyncio.sleep(tick * (0.8 + 0.4 * random.random()))
            now = time.monotonic()
            try:
                if now - last_beat >= parley_settings.WS_HEARTBEAT_SECONDS:
                    last_beat = now
                    await self._heartbeat()
                if now - last_resync >= parley_settings.WS_RESYNC_SECONDS or events.failed_publishes() != failures:
                    last_resync, failures = now, events.failed_publishes()
                    await self._resync()
                if parley_settings.PRESENCE_OFFLINE_GRACE_SECONDS > 0:
                    await self._announce_gone_offline()
            except Exception:  # an upkeep round must never end the upkeep
                logger.exception("socket upkeep round failed")

    def _live(self) -> list[Any]:
        return [s for s in list(self.sockets) if s.user_id is not None and not s.closing]

    async def _heartbeat(self) -> None:
        users = sorted({s.user_id for s in self._live()})
        if users:
            await db_call(presence.heartbeat_many)(users)

    async def _announce_gone_offline(self) -> None:
        for user_id, conversations in await db_call(commands.presence_gone_offline)():
            presence.announce(user_id, online=False, conversations=conversations)

    async def _resync(self) -> None:
        sockets = [s for s in self._live() if s.cursors]
        conversations = sorted({cid for s in sockets for cid in s.cursors})
        if not conversations:
            return
        latest = await db_call(commands.socket_last_seqs)(conversation_ids=conversations)
        lagging = [s for s in sockets if any(latest.get(cid, seq) > seq for cid, seq in list(s.cursors.items()))]
        await asyncio.gather(*(s.resync(latest) for s in lagging), return_exceptions=True)


upkeep = Upkeep()
