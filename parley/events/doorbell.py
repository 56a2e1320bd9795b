"""The doorbell: sends channel-layer messages from any thread, without waiting for them.

The only caller of the channel layer's send side (tests/test_publishing.py holds every
other module to that). The channel layer is at-most-once and may be down; the database
is the record, so a send that fails or times out is logged and dropped.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import time
from typing import Any

from channels.layers import get_channel_layer

from parley import metrics
from parley.conf import parley_settings

logger = logging.getLogger(__name__)

_KINDS = {"parley.event": "conversation", "parley.user": "user", "parley.revoke": "revoke"}  # metric labels


class Doorbell:
    """Sends channel-layer messages from any thread without waiting for them.

    Under an ASGI server the messages are scheduled on the server's event loop, where
    the channel layer's connections live (the in-memory layer is not thread-safe, and
    channels-redis keeps one connection set per loop). Outside one (WSGI workers,
    management commands) a daemon thread runs a private loop. Each send has a short
    timeout; failures are logged and dropped, since clients recover by `seq`.
    """

    max_pending = 10_000

    def __init__(self) -> None:
        self._server_loop: asyncio.AbstractEventLoop | None = None
        self._own_loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._pending = 0
        self._dropped = 0
        self.failures = 0  # sends that failed; parley.realtime.upkeep resyncs sockets when it moves

    def bind_server_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._server_loop = loop

    def ring(self, group: str, message: dict[str, Any]) -> None:
        with self._lock:
            if self._pending >= self.max_pending:
                self._dropped += 1
                metrics.publish_failures.labels(reason="backlog_full").inc()
                if self._dropped % 1000 == 1:
                    logger.warning("publish backlog full; dropped %d doorbells so far", self._dropped)
                return
            self._pending += 1
        loop = self._loop()
        try:
            loop.call_soon_threadsafe(self._start, group, message)
        except RuntimeError:  # the loop closed between the check and the call
            self._done()

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop = self._server_loop
        if loop is not None and loop.is_running() and not loop.is_closed():
            return loop
        with self._lock:
            if self._own_loop is None or self._own_loop.is_closed():
                self._own_loop = asyncio.new_event_loop()
                threading.Thread(target=self._own_loop.run_forever, name="parley-doorbell", daemon=True).start()
                atexit.register(self.drain)
            return self._own_loop

    def drain(self) -> None:
        """Wait (briefly) for pending sends: a short-lived process, such as a management
        command deactivating a user, must not exit before its doorbells ring."""
        deadline = time.monotonic() + 2 * parley_settings.PUBLISH_TIMEOUT
        while self._pending > 0 and time.monotonic() < deadline:
            time.sleep(0.01)

    def _start(self, group: str, message: dict[str, Any]) -> None:
        asyncio.get_running_loop().create_task(self._send(group, message))

    async def _send(self, group: str, message: dict[str, Any]) -> None:
        try:
            layer = get_channel_layer()
            if layer is not None:
                async with asyncio.timeout(parley_settings.PUBLISH_TIMEOUT):  # no second task per publish
                    await layer.group_send(group, message)
                metrics.events_published.labels(kind=_KINDS.get(message["type"], "other")).inc()
        except Exception as exc:  # noqa: BLE001 - the doorbell never fails a write
            self.failures += 1
            metrics.publish_failures.labels(reason="timeout" if isinstance(exc, TimeoutError) else "error").inc()
            logger.warning("publish to %s failed: %s", group, exc.__class__.__name__)
        finally:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1


doorbell = Doorbell()


def bind_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The event loop that serves this process: publishes from request threads go there."""
    doorbell.bind_server_loop(loop)


def failed_publishes() -> int:
    """How many sends failed in this process so far (parley.realtime.upkeep resyncs when it moves)."""
    return doorbell.failures
