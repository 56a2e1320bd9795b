"""Keeping one socket from costing the others: a client that floods, one that stopped reading.

CommandBudget   a token bucket per socket (RATE_LIMITS["ws_command"]); far past
                it the socket is closed (4429)
send_watched    one send to the client, given up on (TooSlow: 4408) when it blocks
                too long or the socket's queue on the channel layer grows too deep
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from parley.common.ratelimit import parse_rate
from parley.conf import parley_settings
from parley.realtime.eager import eager

SEND_CHECK_SECONDS = 0.25  # how often a blocked send looks at the socket's backlog


class CommandBudget:
    """A token bucket: `burst` frames at once, `rate` a second after that. A refusal is
    `flooding` once more than `burst` came in a row.

    `clock` is when a frame is counted. A test that must not depend on how fast a busy
    machine runs the consumer sets it to a fixed time: then exactly `burst` frames pass,
    and the `burst + 1`-th refusal in a row closes the socket."""

    clock: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = self.clock()
        self.refusals = 0

    @classmethod
    def from_settings(cls) -> CommandBudget:
        count, seconds = parse_rate(parley_settings.RATE_LIMITS["ws_command"])
        return cls(rate=count / seconds, burst=count)

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.refusals = 0
            return True
        self.refusals += 1
        return False

    @property
    def flooding(self) -> bool:
        return self.refusals > self.burst


class TooSlow(Exception):
    """The client stopped reading."""

    def __init__(self, backlog: int) -> None:
        super().__init__(f"{backlog} frames behind")
        self.backlog = backlog


class Gone(Exception):
    """The client went away in the middle of a send (uvicorn's ClientDisconnected)."""


async def send_watched(send: Awaitable[None], *, backlog: Callable[[], int]) -> None:
    """Await one send to the client, or raise TooSlow.

    While a send is blocked, frames for this socket pile up in the channel layer's queue
    as fast as they are published: the queue is looked at every SEND_CHECK_SECONDS, not
    only when the send times out (at 250 sends/s, 10 s of a stalled reader held 8 MB per
    batch in tests/test_slow_reader.py). The client reconnects and catches up by `seq`.
    """
    task = eager(send)  # a send the transport takes at once costs no task and no wait
    if not task.done():
        deadline = time.monotonic() + parley_settings.WS_SEND_TIMEOUT_SECONDS
        try:
            while not (await asyncio.wait((task,), timeout=SEND_CHECK_SECONDS))[0]:
                behind = backlog()
                if behind > parley_settings.WS_MAX_BACKLOG or time.monotonic() >= deadline:
                    task.cancel()
                    raise TooSlow(behind)
        except asyncio.CancelledError:  # the consumer is stopping: the send goes with it
            task.cancel()
            raise
    try:
        task.result()
    except OSError:
        raise Gone() from None
