"""Fixed-window rate limits kept in the shared cache, so every worker counts together.

In production the cache is Redis, so a user's budget is one budget across all worker
processes and hosts. If the cache itself is down the limiter lets requests through:
a rate limit must never turn a Redis outage into a chat outage.
"""

from __future__ import annotations

import logging
import time

from parley.common.cache import counters
from parley.common.errors import RateLimited
from parley.conf import parley_settings

logger = logging.getLogger(__name__)


def parse_rate(rate: str) -> tuple[int, int]:
    count, seconds = rate.split("/")
    return int(count), int(seconds)


def rate_limit_hit(*, scope: str, key: str | int) -> None:
    """Count one request of `key` in `scope`; raise RateLimited when over the budget."""
    if not parley_settings.RATE_LIMITS_ENABLED:
        return
    limit, window = parse_rate(parley_settings.RATE_LIMITS[scope])
    now = time.time()
    bucket = int(now // window)
    try:
        count = counters().count(f"rl:{scope}:{key}:{bucket}", 1, ttl=window + 1)
    except Exception:  # noqa: BLE001 - a cache outage must not block chat
        logger.warning("rate limit cache unavailable; allowing %s", scope)
        return
    if count > limit:
        retry_after = max(1, int(window - (now % window)))
        raise RateLimited(f"Rate limit of {limit} per {window} s exceeded.", retry_after=retry_after)
