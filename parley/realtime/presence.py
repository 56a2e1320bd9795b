"""Who is online: a count of open sockets per user in the shared cache.

The count lives in the cache every worker shares (Redis in production), so a user is
online while any of their sockets is open on any process. Each open socket refreshes
the key's expiry on its heartbeat; if a process dies without decrementing, the stale
count expires after `TTL` seconds instead of keeping the user online forever.
The same count enforces the per-user socket limit.

Offline has a grace period (PARLEY["PRESENCE_OFFLINE_GRACE_SECONDS"], as Matrix's 30 s
sync timeout): the last socket's close puts the user on a schedule in the shared cache,
and the upkeep task of any process with sockets takes them off when it runs out
(`gone_offline`). A user is online, to everyone, while their announcement key stands:
a socket opened within the grace finds it, and announces nothing. So a reload, a
network blip or a restarted server tells co-members nothing, where it told them
"offline" then "online" (1,000 reconnecting members of groups of 100: about 99,000
frames, bench S7).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from parley import events
from parley.common.cache import counters
from parley.conf import parley_settings
from parley.selectors.notifications import presence_key

logger = logging.getLogger(__name__)

TTL = 120  # seconds; sockets refresh it every heartbeat (well under TTL)
HEARTBEAT_BATCH = 500


def _key(user_id: Any) -> str:
    return presence_key(user_id)  # the worker reads the same key (parley.selectors.notifications)


def _announced_key(user_id: Any) -> str:
    return f"presence-announced:{user_id}"


OFFLINE_DUE = "presence-offline-due"  # the schedule: users whose last socket closed, by when


@dataclass(frozen=True)
class Opened:
    allowed: bool  # False: the user has WS_MAX_SOCKETS_PER_USER open already; not counted
    announce: bool  # this socket tells co-members the user is online
    online: set[Any] | None  # co-members online now; None: unknown (the cache is down)


def socket_opened(user_id: Any, co_members: list[Any], *, limit: int) -> Opened:
    """A connect's presence work, in one round trip: count the socket (not over `limit`),
    claim the user's announcement, and read which co-members are online.

    The claim is True for exactly one socket per online period, the one that tells
    co-members; not simply "the socket that counted 1": that socket may die before
    announcing (its client gone mid-handshake), and then nobody would."""
    try:
        count, claimed, found = counters().open_claim_and_get_many(
            _key(user_id), _announced_key(user_id), limit=limit, ttl=TTL, keys=[_announced_key(u) for u in co_members]
        )
    except Exception:  # noqa: BLE001 - presence degrades, chat goes on
        logger.warning("presence cache unavailable")
        return Opened(allowed=True, announce=False, online=None)
    return Opened(count <= limit, claimed, {u for u in co_members if found.get(_announced_key(u))})


def socket_closed(user_id: int) -> int:
    """Count one socket fewer; returns the remaining count (never below 0)."""
    try:
        return max(counters().uncount(_key(user_id), ttl=TTL), 0)
    except Exception:  # noqa: BLE001
        logger.warning("presence cache unavailable")
        return 0


def announce(user_id: Any, *, online: bool, conversations: list[int]) -> None:
    """Tell the user's co-members in `conversations` (the small ones: PRESENCE_MAX_MEMBERS)."""
    frame = events.presence(user_id=user_id, online=online)
    for cid in conversations:
        events.publish_ephemeral(frame, conversation=cid)


def last_socket_closed(user_id: Any) -> bool:
    """The user's last socket closed: True to announce them offline now; with a grace
    period, False, and they go on the schedule instead (`gone_offline`)."""
    grace = float(parley_settings.PRESENCE_OFFLINE_GRACE_SECONDS)
    if grace <= 0:
        release_announcement(user_id)
        return True
    try:
        # The claim must outlive the grace: its last heartbeat may be TTL - 30 s ago.
        counters().touch_many([_announced_key(user_id)], ttl=TTL)
        counters().schedule(OFFLINE_DUE, str(user_id), at=time.time() + grace)
    except Exception:  # noqa: BLE001
        logger.warning("presence cache unavailable")
    return False


def gone_offline(limit: int = 500) -> list[str]:
    """Users whose grace ran out with no socket open again (their announcement is
    released here, once, whichever process asks): to be announced offline."""
    try:
        due = counters().take_due(OFFLINE_DUE, now=time.time(), limit=limit)
        released = counters().delete_unless_counted([(_key(u), _announced_key(u)) for u in due])
    except Exception:  # noqa: BLE001
        logger.warning("presence cache unavailable")
        return []
    return [user for user, gone in zip(due, released, strict=True) if gone]


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
        found = cache.get_many([_announced_key(u) for u in user_ids])
    except Exception:  # noqa: BLE001
        return set()
    return {u for u in user_ids if found.get(_announced_key(u))}
