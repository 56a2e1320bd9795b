"""Who is online: a count of open sockets per user in the shared cache.

The count lives in the cache every worker shares (Redis in production), so a user is
online while any of their sockets is open on any process. Each open socket refreshes
the key's expiry on its heartbeat; if a process dies without decrementing, the stale
count expires after `TTL` seconds instead of keeping the user online forever.
The same count enforces the per-user socket limit.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

from parley.common.cache import counters
from parley.selectors.notifications import presence_key

logger = logging.getLogger(__name__)

TTL = 120  # seconds; sockets refresh it every heartbeat (well under TTL)
HEARTBEAT_BATCH = 500


def _key(user_id: Any) -> str:
    return presence_key(user_id)  # the worker reads the same key (parley.selectors.notifications)


def _announced_key(user_id: Any) -> str:
    return f"presence-announced:{user_id}"


def socket_opened(user_id: int) -> int:
    """Count one more open socket; returns the new count (0 if the cache is down)."""
    try:
        return counters().count(_key(user_id), 1, ttl=TTL)
    except Exception:  # noqa: BLE001 - presence degrades, chat goes on
        logger.warning("presence cache unavailable")
        return 0


def socket_closed(user_id: int) -> int:
    """Count one socket fewer; returns the remaining count (never below 0)."""
    try:
        count = counters().count(_key(user_id), -1, ttl=TTL)
        if count <= 0:
            cache.delete(_key(user_id))
        return max(count, 0)
    except Exception:  # noqa: BLE001
        logger.warning("presence cache unavailable")
        return 0


def claim_announcement(user_id: int) -> bool:
    """True for exactly one socket per online period: the one that tells co-members.

    Not simply "the socket that counted 1": that socket may die before announcing
    (its client gone mid-handshake), and then nobody would.
    """
    try:
        return bool(cache.add(_announced_key(user_id), 1, timeout=TTL))
    except Exception:  # noqa: BLE001
        return False


def claim_and_online(user_id: Any, co_members: list[Any]) -> tuple[bool, set[Any]]:
    """`claim_announcement(user_id)` and `online_users(co_members)` in one round trip
    (a connect's presence work)."""
    try:
        claimed, found = counters().add_and_get_many(
            _announced_key(user_id), 1, ttl=TTL, keys=[_key(u) for u in co_members]
        )
    except Exception:  # noqa: BLE001
        logger.warning("presence cache unavailable")
        return False, set()
    return claimed, {u for u in co_members if (found.get(_key(u)) or 0) > 0}


def release_announcement(user_id: int) -> None:
    try:
        cache.delete(_announced_key(user_id))
    except Exception:  # noqa: BLE001
        logger.warning("presence cache unavailable")


def heartbeat_many(user_ids: list[int]) -> None:
    """Refresh the counts of every user with a socket in this process (parley.realtime.upkeep):
    one round trip per `HEARTBEAT_BATCH` users."""
    for start in range(0, len(user_ids), HEARTBEAT_BATCH):
        batch = user_ids[start : start + HEARTBEAT_BATCH]
        keys = [key for user_id in batch for key in (_key(user_id), _announced_key(user_id))]
        try:
            counters().touch_many(keys, ttl=TTL)
        except Exception:  # noqa: BLE001
            logger.debug("presence heartbeat failed")
            return


def online_users(user_ids: list[int]) -> set[int]:
    if not user_ids:
        return set()
    try:
        found = cache.get_many([_key(u) for u in user_ids])
    except Exception:  # noqa: BLE001
        return set()
    return {u for u in user_ids if (found.get(_key(u)) or 0) > 0}
