"""S1 .. S8 of the benchmark issue, one module each, and what they share.

Each module has `run(ctx) -> None` that appends `Row`s to `ctx.rows`: a figure, its
target, and the reference point it is a ratio of, all measured in this run.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench import servers
from bench.modes import Mode
from bench.profiles import Profile


@dataclass
class Row:
    scenario: str
    metric: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None
    reference: str = ""
    ref_value: float | None = None
    ratio: float | None = None
    note: str = ""


# `--config recommended`: every change bench/README.md recommends, applied together
# through bench.variants and bench.settings (the product's code is not touched).
RECOMMENDED = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "BENCH_HTTP": "a2wsgi",
    "BENCH_WS_THREADS": "parallel",
    "BENCH_PRESENCE_CAP": "100",
    "BENCH_CONN_MAX_AGE": "600",
}


@dataclass
class Context:
    mode: Mode
    profile: Profile
    fixture: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    refs: dict[str, float] = field(default_factory=dict)  # reference figures by name
    variants: bool = False
    config: str = "as-is"
    _servers: dict[str, servers.Server] = field(default_factory=dict)

    @property
    def workers(self) -> int:
        return 2 if self.mode.production else 1

    def token(self, index: int) -> str:
        return str(self.fixture["users"][index]["token"])

    def user_id(self, index: int) -> int:
        return int(self.fixture["users"][index]["id"])

    def auth(self, index: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(index)}"}

    def product(self, workers: int | None = None) -> servers.Server:
        """The product as the mode serves it, started once and shared by scenarios."""
        workers = workers or self.workers
        key = f"product-{workers}"
        if key not in self._servers:
            self._servers[key] = self.new_product(workers).start()
        return self._servers[key]

    def new_product(self, workers: int) -> servers.Server:
        """A fresh, unstarted product server (for scenarios that measure its memory)."""
        if self.config == "recommended":
            app, name = "bench.variants:application", "recommended"
            if self.mode.production:
                return servers.gunicorn_asgi(self.mode, app, name, workers=workers, **RECOMMENDED)
            return servers.uvicorn_app(self.mode, app, name, **RECOMMENDED)
        return servers.product(self.mode, workers=workers)

    def stop_servers(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()

    def add(self, *args: Any, **kwargs: Any) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        return row


class PeakRss:
    """Samples a server's RSS in a thread; `peak` is the highest seen."""

    def __init__(self, server: servers.Server, every: float = 0.2) -> None:
        self.server, self.every = server, every
        self.peak = server.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss())
            time.sleep(self.every)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def check(value: float | None, *, at_least: float | None = None, at_most: float | None = None) -> bool | None:
    if value is None:
        return None
    if at_least is not None and value < at_least:
        return False
    return not (at_most is not None and value > at_most)
