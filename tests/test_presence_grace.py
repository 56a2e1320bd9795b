"""Presence's offline grace (PARLEY["PRESENCE_OFFLINE_GRACE_SECONDS"]): a user is announced
offline only once the grace ran out with none of their sockets open again, and a socket
opened within it announces nothing. Against the real ASGI app and the configured cache
(local memory, or Redis when REDIS_URL is set); the schedule's cross-process case is in
tests/test_ws_multiprocess.py.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache as StockLocMemCache

from parley.checks import presence_grace_in_range
from parley.common.cache import PortableCounters, counters
from parley.realtime import presence, upkeep
from parley.services.conversations import conversation_start_direct
from tests.hosts import uid
from tests.ws import Socket, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def grace(settings, monkeypatch):
    """A short grace, and an upkeep that ticks often enough to notice its end."""
    monkeypatch.setattr(upkeep, "TICK_SECONDS", 0.1)

    def set_grace(seconds: float) -> None:
        settings.PARLEY = {**settings.PARLEY, "PRESENCE_OFFLINE_GRACE_SECONDS": seconds}

    return set_grace


async def opened(user: Any, cid: int | None = None) -> Socket:
    sock = Socket.for_user(await atoken_for(user), cid)
    await sock.open()
    return sock


async def presence_frames(sock: Socket, quiet: float) -> list[dict[str, Any]]:
    frames = []
    while not await sock.nothing(quiet):
        frame = await sock.receive(1)
        if frame["type"] == "presence":
            frames.append(frame)
    return frames


async def test_a_reconnect_within_the_grace_announces_nothing(alice, bob, grace):
    grace(30)
    conversation, _ = await database_sync_to_async(conversation_start_direct)(user=alice, other_user_id=bob.pk)
    watcher = await opened(bob, conversation.pk)
    leaving = await opened(alice, conversation.pk)
    assert await watcher.receive_until("presence") == {"type": "presence", "user": uid(alice), "online": True}
    await leaving.close()
    assert await presence_frames(watcher, 0.5) == []  # 0.5 s: five upkeep ticks
    back = await opened(alice)
    assert await presence_frames(watcher, 0.5) == []  # no second "online" either
    # Still online to a newcomer too: everyone sees the same state.
    newcomer = Socket.for_user(await atoken_for(bob))
    assert (await newcomer.open())["online"] == [uid(alice)]
    for sock in (back, newcomer, watcher):
        await sock.close()


async def test_offline_is_announced_once_when_the_grace_runs_out(alice, bob, grace):
    grace(0.6)
    conversation, _ = await database_sync_to_async(conversation_start_direct)(user=alice, other_user_id=bob.pk)
    watcher = await opened(bob, conversation.pk)
    leaving = await opened(alice, conversation.pk)
    await watcher.receive_until("presence")
    await leaving.close()
    closed = time.monotonic()
    assert await watcher.receive_until("presence", timeout=3) == {
        "type": "presence",
        "user": uid(alice),
        "online": False,
    }
    assert time.monotonic() - closed >= 0.55
    assert await presence_frames(watcher, 0.8) == []  # once
    # The next arrival is a new online period: announced again.
    await opened(alice)
    assert await watcher.receive_until("presence") == {"type": "presence", "user": uid(alice), "online": True}
    await watcher.close()


# --- The shared schedule (parley.common.cache) -----------------------------------------------


@pytest.fixture(params=["configured", "portable"])
def schedule(request):
    """The configured cache's own operations (Redis or Parley's local memory), and
    PortableCounters over a stock backend (a host's own cache)."""
    if request.param == "configured":
        backend = counters()
    else:
        backend = PortableCounters(StockLocMemCache("parley-test-portable", {}))
    backend.delete(presence.OFFLINE_DUE)
    yield backend
    backend.delete(presence.OFFLINE_DUE)


def test_each_due_member_goes_to_exactly_one_taker(schedule):
    now = time.time()
    for n in range(200):
        schedule.schedule(presence.OFFLINE_DUE, f"u{n}", at=now - 1 if n < 150 else now + 60)
    schedule.schedule(presence.OFFLINE_DUE, "u0", at=now - 2)  # moved, not added twice
    taken: list[list[str]] = [[], [], [], []]

    def take(i: int) -> None:
        while batch := schedule.take_due(presence.OFFLINE_DUE, now=now, limit=7):
            taken[i].extend(batch)

    takers = [threading.Thread(target=take, args=(i,)) for i in range(4)]
    for t in takers:
        t.start()
    for t in takers:
        t.join()
    everything = [m for batch in taken for m in batch]
    assert sorted(everything) == sorted(f"u{n}" for n in range(150))  # each once; none not yet due
    assert len(schedule.take_due(presence.OFFLINE_DUE, now=now + 61, limit=100)) == 50


def test_a_socket_over_the_limit_is_refused_uncounted_and_claims_nothing(schedule):
    for key in ("grace-open-count", "grace-open-claim", "grace-open-other"):
        schedule.delete(key)
    schedule.set("grace-open-other", 1, timeout=60)
    opened = [
        schedule.open_claim_and_get_many(
            "grace-open-count", "grace-open-claim", limit=2, ttl=60, keys=["grace-open-other", "grace-open-none"]
        )
        for _ in range(3)
    ]
    assert opened == [(1, True, {"grace-open-other": 1}), (2, False, {"grace-open-other": 1}), (3, False, {})]
    assert int(schedule.get("grace-open-count")) == 2  # the refused one is not counted
    schedule.delete("grace-open-claim")
    assert schedule.open_claim_and_get_many("grace-open-count", "grace-open-claim", limit=2, ttl=60, keys=[]) == (
        3,
        False,
        {},
    )
    assert schedule.get("grace-open-claim") is None  # refused: no claim either
    for key in ("grace-open-count", "grace-open-other"):
        schedule.delete(key)


def test_delete_unless_counted_keeps_the_key_of_a_counted_user(schedule):
    schedule.count("grace-count-a", 1, ttl=60)
    schedule.set("grace-key-a", 1, timeout=60)
    schedule.count("grace-count-b", 1, ttl=60)
    schedule.count("grace-count-b", -1, ttl=60)
    schedule.set("grace-key-b", 1, timeout=60)
    pairs = [("grace-count-a", "grace-key-a"), ("grace-count-b", "grace-key-b"), ("grace-count-c", "grace-key-c")]
    assert schedule.delete_unless_counted(pairs) == [False, True, False]  # c: nothing to delete
    assert schedule.get("grace-key-a") == 1
    assert schedule.get("grace-key-b") is None
    for key in ("grace-count-a", "grace-key-a", "grace-count-b"):
        schedule.delete(key)


def test_the_last_socket_closing_schedules_offline_instead_of_announcing(settings):
    settings.PARLEY = {**settings.PARLEY, "PRESENCE_OFFLINE_GRACE_SECONDS": 0.2}
    caches["default"].delete(presence.OFFLINE_DUE)
    user = "grace-user"
    assert presence.socket_opened(user, [], limit=5) == presence.Opened(allowed=True, announce=True, online=set())
    assert presence.socket_closed(user) == 0
    assert presence.last_socket_closed(user) is False
    assert presence.online_users([user]) == {user}  # still online while the grace runs
    assert presence.gone_offline() == []
    time.sleep(0.25)
    assert presence.gone_offline() == [user]
    assert presence.online_users([user]) == set()
    assert presence.gone_offline() == []


@pytest.mark.parametrize(("value", "ok"), [(0, True), (30.0, True), (90, True), (-1, False), (91, False), ("x", False)])
def test_the_grace_setting_is_checked(settings, value, ok):
    settings.PARLEY = {**settings.PARLEY, "PRESENCE_OFFLINE_GRACE_SECONDS": value}
    assert [e.id for e in presence_grace_in_range()] == ([] if ok else ["parley.E002"])


def test_uncount_deletes_the_counter_at_zero_and_never_leaves_it_below(schedule):
    schedule.delete("grace-uncount")
    schedule.count("grace-uncount", 2, ttl=60)
    assert schedule.uncount("grace-uncount", ttl=60) == 1
    assert int(schedule.get("grace-uncount")) == 1
    assert schedule.uncount("grace-uncount", ttl=60) == 0
    assert schedule.get("grace-uncount") is None
    assert schedule.uncount("grace-uncount", ttl=60) == -1  # a stray close: nothing is left at -1
    assert schedule.get("grace-uncount") is None


def test_a_catch_up_that_fails_after_counting_gives_the_count_and_the_claim_back(alice, monkeypatch):
    from parley.realtime import commands

    caches["default"].delete(f"presence:{alice.pk}")
    caches["default"].delete(f"presence-announced:{alice.pk}")

    def broken(**kwargs: Any) -> dict[int, int]:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(commands.selectors, "member_conversation_seqs", broken)
    with pytest.raises(RuntimeError):
        commands.socket_catch_up(
            user_id=alice.pk, conversation_ids=[], since={}, all_conversations=True, presence_in=[]
        )
    # Not counted, not claimed: her next socket is her first, and announces her.
    assert presence.socket_opened(alice.pk, [], limit=5) == presence.Opened(allowed=True, announce=True, online=set())
    assert presence.socket_closed(alice.pk) == 0


def test_presence_unknown_when_the_cache_fails(monkeypatch):
    def down() -> Any:
        raise ConnectionError("cache down")

    monkeypatch.setattr(presence, "counters", down)
    assert presence.socket_opened("someone", ["other"], limit=5) == presence.Opened(
        allowed=True, announce=False, online=None
    )


def test_the_sweep_reads_every_gone_users_conversations_in_one_query(
    alice, bob, carol, settings, django_assert_max_num_queries
):
    from parley.realtime import commands
    from parley.services.conversations import conversation_create_group

    settings.PARLEY = {**settings.PARLEY, "PRESENCE_OFFLINE_GRACE_SECONDS": 0.01, "PRESENCE_MAX_MEMBERS": 2}
    direct, _ = conversation_start_direct(user=alice, other_user_id=bob.pk)
    conversation_create_group(creator=alice, title="three", participant_ids=[bob.pk, carol.pk])  # over the cap
    caches["default"].delete(presence.OFFLINE_DUE)
    for user in (alice, bob, carol):
        presence.socket_opened(user.pk, [], limit=5)
        presence.socket_closed(user.pk)
        presence.last_socket_closed(user.pk)
    time.sleep(0.05)
    with django_assert_max_num_queries(1):
        gone = dict(commands.presence_gone_offline())
    assert gone == {alice.pk: [direct.pk], bob.pk: [direct.pk], carol.pk: []}


async def test_ready_says_null_when_presence_is_unknown(alice, bob, monkeypatch):
    def down() -> Any:
        raise ConnectionError("cache down")

    conversation, _ = await database_sync_to_async(conversation_start_direct)(user=alice, other_user_id=bob.pk)
    monkeypatch.setattr(presence, "counters", down)
    sock = Socket.for_user(await atoken_for(alice), conversation.pk)
    assert (await sock.open())["online"] is None  # not [], which a client reads as "everyone is offline"
    await sock.close()
