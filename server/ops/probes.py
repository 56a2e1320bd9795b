"""Readiness: can this process serve requests now? The database and Redis, checked apart.

Each check runs on a thread of its own with a short deadline (`READINESS_TIMEOUT`,
1 s by default), both at once, so a probe answers within that bound even when a
dependency hangs rather than refuses. A check still running from an earlier probe
is not started again (a hung database must not pile up threads one per second);
the probe reports it as timed out. The database check is one `SELECT 1` on a
connection from the pool, with no ORM query built; Redis is one PING.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections


@dataclass
class Check:
    name: str
    probe: Callable[[], None]
    executor: ThreadPoolExecutor
    running: Future[None] | None = None

    async def run(self, timeout: float) -> dict[str, Any]:
        started = time.perf_counter()
        if self.running is not None and not self.running.done():
            return {"status": "down", "error": "timeout", "detail": "an earlier check has not returned yet"}
        self.running = self.executor.submit(self.probe)
        try:
            await asyncio.wait_for(asyncio.wrap_future(self.running), timeout=timeout)
        except TimeoutError:
            return {"status": "down", "error": "timeout", "latency_ms": round(timeout * 1000, 1)}
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            return {"status": "down", "error": exc.__class__.__name__, "latency_ms": _ms(started)}
        return {"status": "ok", "latency_ms": _ms(started)}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def database_probe() -> None:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # Back to the pool (PostgreSQL), or dropped when it broke; SQLite keeps its
        # connection (closing one checkpoints the WAL).
        if connection.vendor != "sqlite" or connection.errors_occurred:
            connection.close()


class RedisProbe:
    def __init__(self, url: str, timeout: float) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)

    def __call__(self) -> None:
        self.client.ping()


class Readiness:
    def __init__(self) -> None:
        self.timeout = settings.READINESS_TIMEOUT
        self.checks = [Check("database", database_probe, ThreadPoolExecutor(1, thread_name_prefix="ready-db"))]
        if settings.REDIS_URL:
            redis_probe = RedisProbe(settings.REDIS_URL, self.timeout)
            self.checks.append(Check("redis", redis_probe, ThreadPoolExecutor(1, thread_name_prefix="ready-redis")))

    async def report(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body): 200 when every check passed, else 503."""
        results = await asyncio.gather(*(check.run(self.timeout) for check in self.checks))
        checks = {check.name: result for check, result in zip(self.checks, results, strict=True)}
        if not settings.REDIS_URL:
            checks["redis"] = {"status": "not_configured"}
        ready = all(r["status"] in {"ok", "not_configured"} for r in checks.values())
        return (200 if ready else 503), {"status": "ready" if ready else "unavailable", "checks": checks}
