"""Reference points of the data stores, measured in the same run as the scenarios.

insert_rate     one connection, one row per transaction (each commit waits for the
                log flush, as message_send's does), into a scratch table shaped like
                parley_message; SQLite with the product's pragmas (WAL, NORMAL)
publish_rate    one redis-py connection, PUBLISH of a 600-byte frame, one round trip
                each (no pipelining), as the channel layer publishes
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import psycopg
import redis

ROW = ("x" * 90, 1)
FRAME = b"x" * 600
SCRATCH = (
    "CREATE TABLE bench_scratch (id bigserial PRIMARY KEY, content text NOT NULL, n bigint NOT NULL,"
    " at timestamptz DEFAULT now())"
)


def insert_rate(database_url: str, *, seconds: float) -> dict[str, Any]:
    if database_url.startswith("sqlite:///"):
        return _sqlite_insert_rate(database_url.removeprefix("sqlite:///"), seconds=seconds)
    dsn = database_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_scratch")
        conn.execute(SCRATCH)
        count = 0
        deadline = time.perf_counter() + seconds
        start = time.perf_counter()
        while time.perf_counter() < deadline:
            with conn.transaction():
                conn.execute("INSERT INTO bench_scratch (content, n) VALUES (%s, %s)", ROW)
            count += 1
        elapsed = time.perf_counter() - start
        conn.execute("DROP TABLE bench_scratch")
    return {"rate": count / elapsed, "count": count}


def _sqlite_insert_rate(path: str, *, seconds: float) -> dict[str, Any]:
    conn = sqlite3.connect(path, isolation_level=None, timeout=20)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("DROP TABLE IF EXISTS bench_scratch")
        conn.execute(
            "CREATE TABLE bench_scratch (id integer PRIMARY KEY AUTOINCREMENT, content text NOT NULL,"
            " n integer NOT NULL)"
        )
        count = 0
        deadline = time.perf_counter() + seconds
        start = time.perf_counter()
        while time.perf_counter() < deadline:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO bench_scratch (content, n) VALUES (?, ?)", ROW)
            conn.execute("COMMIT")
            count += 1
        elapsed = time.perf_counter() - start
        conn.execute("DROP TABLE bench_scratch")
    finally:
        conn.close()
    return {"rate": count / elapsed, "count": count}


def publish_rate(redis_url: str, *, seconds: float) -> dict[str, Any]:
    client = redis.Redis.from_url(redis_url)
    try:
        count = 0
        deadline = time.perf_counter() + seconds
        start = time.perf_counter()
        while time.perf_counter() < deadline:
            client.publish("bench.ref", FRAME)
            count += 1
        elapsed = time.perf_counter() - start
    finally:
        client.close()
    return {"rate": count / elapsed, "count": count}
