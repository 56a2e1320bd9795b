"""Start an awaitable at once, and make a task of it only if it has to wait.

A socket's per-frame work (bench S5: a 1,000-member fan-out is 1,000 of these per
message) used to wrap every send to the client and every read of the channel layer in
a new Task plus an `asyncio.wait`: 40 % of the worker's samples. Most of those
awaitables finish without suspending (the transport takes the frame; the layer's queue
already holds the next message), so `eager` runs the first step in the caller, as
Python 3.12's eager task factory does, and hands the rest to a Task only when the
awaitable really waits.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Generator
from typing import Any, TypeVar

T = TypeVar("T")


def eager(awaitable: Awaitable[T]) -> asyncio.Future[T]:
    """A future for `awaitable`'s result: already done if it finished without waiting,
    else a Task that goes on from where it suspended."""
    steps = awaitable.__await__()
    loop = asyncio.get_running_loop()
    try:
        first = steps.send(None)
    except StopIteration as done:
        future: asyncio.Future[T] = loop.create_future()
        future.set_result(done.value)
        return future
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - handed to whoever awaits the future
        future = loop.create_future()
        if isinstance(error, asyncio.CancelledError):
            future.cancel()
        else:
            future.set_exception(error)
        return future
    return loop.create_task(_go_on(steps, first))


async def _go_on(steps: Generator[Any, Any, T], first: Any) -> T:
    return await _resume(steps, first)  # type: ignore[no-any-return]


@types.coroutine
def _resume(steps: Generator[Any, Any, T], yielded: Any) -> Generator[Any, Any, T]:
    """Drive `steps` on from its first suspension: pass the task's wake-ups (and
    cancellation) in, its yields (the futures it waits for) out."""
    while True:
        try:
            sent = yield yielded
        except GeneratorExit:
            steps.close()
            raise
        except BaseException as error:  # noqa: BLE001 - thrown in by the task (cancel)
            try:
                yielded = steps.throw(error)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
        else:
            try:
                yielded = steps.send(sent)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
