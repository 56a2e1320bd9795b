"""Django's cache backends with two things the chat's counters need.

1. One Redis connection pool per process. Django keeps a cache object per context
   (`caches` is context-local), and every REST request served on a thread pool and
   every `database_sync_to_async` hop of a socket runs in a fresh context: with the
   stock backend each of them built a new client and opened a new TCP connection to
   Redis (bench S1: a connect per request, 23 % of a send's samples).
2. `count(key, delta, ttl)`: add to a counter and (re)set its expiry in one round trip.
   Django's `incr` is EXISTS + INCRBY (two round trips, and a racing expiry between
   them raises), and `add` + `incr` + `touch` for a counter with an expiry is four.

3. `open_claim_and_get_many(counter, claim, limit=, ttl=, keys=)`: a connect's presence
   work in one round trip: count the socket, refuse it over `limit`, else claim the
   user's announcement and read the co-members' keys.
4. A schedule shared by every process: `schedule(key, member, at=)` and `take_due(key,
   now=)`, which hands each due member to exactly one caller; and
   `delete_unless_counted(pairs)`, which deletes a key only while its counter is at 0,
   in one step (presence's offline grace, parley.realtime.presence).

These exist on both backends the settings name, so callers need not know which one
runs: Redis in production, local memory in the embedded mode. A host that keeps its
own cache backend gets them through PortableCounters (in a few round trips, and the
schedule is not atomic across processes there).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache as DjangoLocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[str, RedisCacheClient] = {}
_clients_lock = threading.Lock()


class _SharedClient(RedisCacheClient):
    """Keeps its `redis.Redis` objects: the stock client builds one per call (its
    __init__ showed as 5 % of a WebSocket connect's CPU). With several servers in
    LOCATION, a process reads from one replica picked once instead of one per call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis: dict[bool, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        client = self._redis.get(write)
        if client is None:
            client = self._redis[write] = super().get_client(key, write=write)
        return client


class RedisCache(DjangoRedisCache):
    # Set by Django's base class (not in its type stubs).
    _servers: list[str]
    _options: dict[str, Any]

    @cached_property
    def _cache(self) -> RedisCacheClient:
        # One client (and so one connection pool) per configuration, per process.
        key = repr((self._servers, sorted(self._options.items())))
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = _SharedClient(self._servers, **self._options)
            return client

    def count(self, key: str, delta: int, *, ttl: int) -> int:
        """Add `delta` to the counter at `key` (absent counts as 0), give it `ttl`
        seconds to live, and return the new value: one round trip."""
        name = self.make_and_validate_key(key)
        pipe = self._cache.get_client(name, write=True).pipeline(transaction=False)
        pipe.incrby(name, delta)
        pipe.expire(name, ttl)
        value, _ = pipe.execute()
        return int(value)

    def uncount(self, key: str, *, ttl: int) -> int:
        """Take 1 from the counter at `key` and delete it at 0 or below, in one step (a
        socket counting itself in between keeps its count); returns the new value."""
        name = self.make_and_validate_key(key)
        return int(_script(self._cache.get_client(name, write=True), _UNCOUNT)(keys=[name]))

    def touch_many(self, keys: Iterable[str], *, ttl: int) -> None:
        """Refresh the expiry of every existing key in `keys`: one round trip."""
        names = [self.make_and_validate_key(key) for key in keys]
        if not names:
            return
        pipe = self._cache.get_client(names[0], write=True).pipeline(transaction=False)
        for name in names:
            pipe.expire(name, ttl)
        pipe.execute()

    def open_claim_and_get_many(
        self, counter: str, claim: str, *, limit: int, ttl: int, keys: Iterable[str]
    ) -> tuple[int, bool, dict[str, Any]]:
        """Add 1 to `counter` (its expiry `ttl`). Over `limit`: take it back, and do
        nothing else. Else `add(claim, 1, ttl)` and `get_many(keys)`. Returns the new
        count, whether the claim was added, and the values found: one round trip."""
        counter_name, claim_name = self.make_and_validate_key(counter), self.make_and_validate_key(claim)
        names = {self.make_and_validate_key(k): k for k in keys}
        client = self._cache.get_client(counter_name, write=True)
        serializer = self._cache._serializer  # type: ignore[attr-defined]
        script = _script(client, _OPEN_CLAIM_AND_GET_MANY)
        reply = script(keys=[counter_name, claim_name, *names], args=[ttl, limit, serializer.dumps(1)])
        count, claimed, found = int(reply[0]), bool(reply[1]), reply[2] if len(reply) > 2 else []
        values = {names[n]: serializer.loads(v) for n, v in zip(names, found, strict=False) if v is not None}
        return count, claimed, values

    def schedule(self, key: str, member: str, *, at: float) -> None:
        """Put `member` in the schedule at `key`, due at `at` (a member already there moves)."""
        name = self.make_and_validate_key(key)
        self._cache.get_client(name, write=True).zadd(name, {member: at})

    def take_due(self, key: str, *, now: float, limit: int = 500) -> list[str]:
        """Take the members due by `now` off the schedule: each goes to exactly one caller
        (of every process), the one whose ZREM removed it."""
        name = self.make_and_validate_key(key)
        client = self._cache.get_client(name, write=True)
        due: list[bytes] = client.zrangebyscore(name, "-inf", now, start=0, num=limit)  # type: ignore[assignment]
        if not due:
            return []
        pipe = client.pipeline(transaction=False)
        for member in due:
            pipe.zrem(name, member)
        return [member.decode() for member, won in zip(due, pipe.execute(), strict=True) if won]

    def delete_unless_counted(self, pairs: list[tuple[str, str]]) -> list[bool]:
        """For each `(counter, key)`: delete `key` unless the counter is above 0, reading
        and deleting in one step; True where a key was deleted. One round trip."""
        if not pairs:
            return []
        names = [(self.make_and_validate_key(c), self.make_and_validate_key(k)) for c, k in pairs]
        client = self._cache.get_client(names[0][0], write=True)
        script = _script(client, _DELETE_UNLESS_COUNTED)
        pipe = client.pipeline(transaction=False)
        for counter, name in names:
            script(keys=[counter, name], client=pipe)
        return [bool(deleted) for deleted in pipe.execute()]


def _script(client: Any, source: str) -> Any:
    """A Lua script registered once per client (redis-py sends EVALSHA, loading it on a miss)."""
    script = _scripts.get((id(client), source))
    if script is None:
        script = _scripts[(id(client), source)] = client.register_script(source)
    return script


# A socket that counts itself between a separate read and delete would be announced offline.
_DELETE_UNLESS_COUNTED = (
    "if (tonumber(redis.call('GET', KEYS[1])) or 0) > 0 then return 0 end return redis.call('DEL', KEYS[2])"
)
_UNCOUNT = "local n = redis.call('DECRBY', KEYS[1], 1) if n <= 0 then redis.call('DEL', KEYS[1]) end return n"
_OPEN_CLAIM_AND_GET_MANY = """
local n = redis.call('INCRBY', KEYS[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
if n > tonumber(ARGV[2]) then
  redis.call('DECRBY', KEYS[1], 1)
  return {n, 0}
end
local claimed = 0
if redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[1], 'NX') then claimed = 1 end
if #KEYS > 2 then return {n, claimed, redis.call('MGET', unpack(KEYS, 3))} end
return {n, claimed}
"""
_scripts: dict[tuple[int, str], Any] = {}


class _ScheduleInCache:
    """The schedule and `delete_unless_counted` over plain get/set/delete, for backends
    without Redis' commands: atomic within a process (one lock), not across processes."""

    _schedule_lock = threading.Lock()

    def _backend(self) -> Any:
        return self

    def schedule(self, key: str, member: str, *, at: float) -> None:
        backend = self._backend()
        with self._schedule_lock:
            backend.set(key, {**(backend.get(key) or {}), member: at}, timeout=None)

    def take_due(self, key: str, *, now: float, limit: int = 500) -> list[str]:
        backend = self._backend()
        with self._schedule_lock:
            waiting: dict[str, float] = backend.get(key) or {}
            due = sorted((m for m, at in waiting.items() if at <= now), key=waiting.__getitem__)[:limit]
            if due:
                backend.set(key, {m: at for m, at in waiting.items() if m not in due}, timeout=None)
            return due

    def delete_unless_counted(self, pairs: list[tuple[str, str]]) -> list[bool]:
        backend = self._backend()
        deleted = []
        with self._schedule_lock:
            for counter, key in pairs:
                gone = int(backend.get(counter) or 0) <= 0 and backend.get(key) is not None
                if gone:
                    backend.delete(key)
                deleted.append(gone)
        return deleted


class LocMemCache(_ScheduleInCache, DjangoLocMemCache):
    _count_lock = threading.RLock()  # counters are only ever changed under it

    def count(self, key: str, delta: int, *, ttl: int) -> int:
        with self._count_lock:
            value = int(self.get(key, 0)) + delta
            self.set(key, value, timeout=ttl)
            return value

    def touch_many(self, keys: Iterable[str], *, ttl: int) -> None:
        for key in keys:
            self.touch(key, ttl)

    def uncount(self, key: str, *, ttl: int) -> int:
        with self._count_lock:
            value = self.count(key, -1, ttl=ttl)
            if value <= 0:
                self.delete(key)
            return value

    def open_claim_and_get_many(
        self, counter: str, claim: str, *, limit: int, ttl: int, keys: Iterable[str]
    ) -> tuple[int, bool, dict[str, Any]]:
        with self._count_lock:
            count = self.count(counter, 1, ttl=ttl)
            if count > limit:
                self.count(counter, -1, ttl=ttl)
                return count, False, {}
        return count, bool(self.add(claim, 1, timeout=ttl)), self.get_many(list(keys))


class PortableCounters(_ScheduleInCache):
    """`count` and `touch_many` on any other Django cache backend (a host's own): the
    same results, in a few round trips instead of one. Use the two backends above for
    the one-round-trip versions."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def _backend(self) -> Any:
        return self.backend

    def count(self, key: str, delta: int, *, ttl: int) -> int:
        self.backend.add(key, 0, timeout=ttl)
        try:
            value = int(self.backend.incr(key, delta))
        except ValueError:  # expired between add and incr
            self.backend.set(key, delta, timeout=ttl)
            value = delta
        self.backend.touch(key, ttl)
        return value

    def uncount(self, key: str, *, ttl: int) -> int:
        value = self.count(key, -1, ttl=ttl)
        if value <= 0:
            self.backend.delete(key)
        return value

    def touch_many(self, keys: Iterable[str], *, ttl: int) -> None:
        for key in keys:
            self.backend.touch(key, ttl)

    def open_claim_and_get_many(
        self, counter: str, claim: str, *, limit: int, ttl: int, keys: Iterable[str]
    ) -> tuple[int, bool, dict[str, Any]]:
        count = self.count(counter, 1, ttl=ttl)
        if count > limit:
            self.count(counter, -1, ttl=ttl)
            return count, False, {}
        return count, bool(self.backend.add(claim, 1, timeout=ttl)), self.backend.get_many(list(keys))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


def counters() -> RedisCache | LocMemCache | PortableCounters:
    """The default cache, with Parley's counter operations."""
    backend = caches["default"]
    if isinstance(backend, RedisCache | LocMemCache):
        return backend
    return PortableCounters(backend)
