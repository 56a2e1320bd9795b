"""The socket side's database calls: Channels' `database_sync_to_async`, minus the
connection churn.

Channels closes the thread's connections before and after every call. With the
connection pool (CONN_MAX_AGE=0) that meant giving the connection back to the pool and
taking it again for every command and every handshake step: 0.6 ms of a 3 ms
`message.send` (bench S4). Every socket call of a process runs on the same thread
(thread-sensitive), so that thread keeps its connection, one slot of the pool, and
lets it go only when it broke: a query that failed on a dead connection is followed by
a fresh one, as before. Commands run on a small pool of threads instead (`db_command`).
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import SyncToAsync
from django.db import connections

from parley.conf import parley_settings


def _drop_broken_connections() -> None:
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and connection.errors_occurred:
            if connection.is_usable():
                connection.errors_occurred = False
            else:
                connection.close()


class SocketDatabaseCall(SyncToAsync):  # type: ignore[type-arg]
    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        _drop_broken_connections()
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            _drop_broken_connections()


@functools.cache
def db_call(func: Any) -> SocketDatabaseCall:
    """`func` (a module-level function) on the socket thread. One wrapper per function,
    made once: building a SyncToAsync was 2.5 % of a handshake's CPU (`hotpath connect`)."""
    return SocketDatabaseCall(func)


@functools.cache
def db_command(func: Any) -> SocketDatabaseCall:
    """For a socket's commands (send, edit, delete, read): a thread from a small pool
    (PARLEY["WS_COMMAND_THREADS"]) instead of the one socket thread. A send spends most of
    its time waiting for its commit, and on one thread those waits queued behind each
    other (bench S4 at 500 sends/s). A socket's own commands still run one after
    another (the consumer awaits each), and the conversation lock orders writers across
    sockets. Each pool thread keeps its own pooled connection."""
    return SocketDatabaseCall(func, thread_sensitive=False, executor=_command_threads())


@functools.cache
def _command_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=parley_settings.WS_COMMAND_THREADS, thread_name_prefix="parley-command")
