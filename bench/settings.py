"""The project's settings with the alternatives the benchmark measures, chosen by env:

    BENCH_DB_POOL=<n>            psycopg's connection pool in Django (OPTIONS["pool"],
                                 max_size n)
    BENCH_PERSISTENT=<s>         PostgreSQL without the pool: per-thread persistent
                                 connections (CONN_MAX_AGE=s, health checks), as before
                                 the product adopted the pool
    BENCH_CHANNEL_LAYER=core     channels_redis' RedisChannelLayer instead of the
                                 RedisPubSubChannelLayer the product uses
    BENCH_NO_HEALTH_CHECKS=1     CONN_HEALTH_CHECKS off
    BENCH_CONN_MAX_AGE=<s>       CONN_MAX_AGE where no pool is configured (SQLite: the
                                 product leaves it 0, so SQLite reconnects per request)

Unset, this is server.settings exactly.
"""

from __future__ import annotations

import os

from server.settings import *  # noqa: F403
from server.settings import CHANNEL_LAYERS, DATABASES, REDIS_URL

_db = DATABASES["default"]
_pool = int(os.environ.get("BENCH_DB_POOL", "0"))
if _pool and _db["ENGINE"].endswith("postgresql"):
    _db["CONN_MAX_AGE"] = 0  # Django refuses a pool with persistent connections
    _db["OPTIONS"]["pool"] = {"min_size": 2, "max_size": _pool, "timeout": 10}

if os.environ.get("BENCH_PERSISTENT") and _db["ENGINE"].endswith("postgresql"):
    # The settings before the pool (commit 28cbb64): per-thread persistent connections.
    _db["OPTIONS"].pop("pool", None)
    _db["CONN_MAX_AGE"] = int(os.environ["BENCH_PERSISTENT"])
    _db["CONN_HEALTH_CHECKS"] = True

if os.environ.get("BENCH_CHANNEL_LAYER") == "core" and REDIS_URL:
    CHANNEL_LAYERS["default"] = {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("CHANNEL_PREFIX", "parley")},
    }

if os.environ.get("BENCH_NO_HEALTH_CHECKS"):
    # CONN_HEALTH_CHECKS costs a `SELECT 1` round trip at the start of every request and
    # of every database_sync_to_async call.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False

if os.environ.get("BENCH_CONN_MAX_AGE") and "pool" not in _db.get("OPTIONS", {}):
    _db["CONN_MAX_AGE"] = int(os.environ["BENCH_CONN_MAX_AGE"])
