"""DATABASES from DATABASE_URL: SQLite in WAL mode (embedded) or pooled PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import environ


def databases(env: environ.Env, var_dir: Path) -> dict[str, dict[str, Any]]:
    db: dict[str, Any] = env.db_url("DATABASE_URL", default=f"sqlite:///{var_dir / 'parley.sqlite3'}")
    if db["ENGINE"] == "django.db.backends.sqlite3":
        var_dir.mkdir(parents=True, exist_ok=True)
        # Keep connections: each new one runs the pragmas below and checkpoints the WAL when
        # closed (bench: WebSocket send -> ack 21.6 -> 3.3 ms with 600 s).
        db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=600)
        db["OPTIONS"] = {
            # Writers take the lock at BEGIN, so two writers queue instead of deadlocking
            # on a read-to-write upgrade; WAL lets readers run beside the writer.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;PRAGMA foreign_keys=ON"
            ),
        }
        # A file, not Django's shared in-memory database: threads in the concurrency tests
        # then get SQLite's real locking (busy timeout) instead of "table is locked".
        # One file per test process, so that two test runs never share one.
        db["TEST"] = {"NAME": str(var_dir / f"test-parley-{os.getpid()}.sqlite3")}
    else:
        # A connection pool per process, not persistent per-thread connections: under ASGI
        # each request runs in a thread of its own, and CONN_MAX_AGE left one open
        # connection behind per thread until PostgreSQL ran out (tests/test_durability_slow).
        db["CONN_MAX_AGE"] = 0
        db.setdefault("OPTIONS", {})
        db["OPTIONS"].setdefault("connect_timeout", 5)
        # A worker needs at most HTTP_THREADS + 1 connections at once, so a wait for one
        # means the database is unreachable: answer 503 after a few seconds, not ten.
        db["OPTIONS"]["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
            "timeout": env.float("DB_POOL_TIMEOUT", default=3.0),
            # Give up a reconnection series quickly; the next request starts a fresh one.
            # psycopg's default backs off for five minutes, so after a long outage the
            # pool could wait half as long again before it tried the database.
            "reconnect_timeout": 5.0,
        }
    return {"default": db}
