"""The uvicorn worker class gunicorn runs in production (`make serve-prod`).

On SIGTERM the worker drains, in this order, within gunicorn's `graceful_timeout`:

1. stop accepting connections (the other workers, and other hosts, take new ones);
2. close its WebSockets with 1012 (parley.shutdown): clients reconnect elsewhere with
   `?since=` and miss nothing; a socket busy with a command is closed once it is done;
3. let in-flight HTTP requests finish (uvicorn's own shutdown), for at most
   `graceful_timeout` less a margin, so the worker exits by itself before the
   master's SIGKILL.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from gunicorn.arbiter import Arbiter
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker

SOCKET_DRAIN_SECONDS = 5.0  # at most this long for the sockets to acknowledge their close
EXIT_MARGIN_SECONDS = 2.0  # exit this much before gunicorn's deadline


class DrainingServer(Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        from parley import shutdown

        for server in self.servers:
            server.close()  # uvicorn's shutdown does it again: harmless
        await shutdown.drain(timeout=min(SOCKET_DRAIN_SECONDS, self.config.timeout_graceful_shutdown or 5.0))
        await super().shutdown(sockets)


class ParleyWorker(UvicornWorker):
    CONFIG_KWARGS = {
        "loop": "auto",
        "http": "auto",
        "lifespan": "off",  # Channels' router has no lifespan handler
        # Protocol-level pings keep idle sockets open through proxies and find dead peers.
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
        # Frames over 1 MiB are refused by the server; the app's own limit is 64 KiB.
        "ws_max_size": 1024 * 1024,
        "server_header": False,
        "proxy_headers": True,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn waits for in-flight requests without a bound unless told one.
        self.config.timeout_graceful_shutdown = max(1, int(self.cfg.graceful_timeout - EXIT_MARGIN_SECONDS))

    async def _serve(self) -> None:
        # uvicorn_worker's own _serve, with the draining server.
        self.config.app = self.wsgi
        server = DrainingServer(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
