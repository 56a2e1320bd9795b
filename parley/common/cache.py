"""Django's cache backends with two things the chat's counters need.

1. One Redis connection pool per process. Django keeps a cache object per context
   (`caches` is context-local), and every REST request served on a thread pool and
   every `database_sync_to_async` hop of a socket runs in a fresh context: with the
   stock backend each of them built a new client and opened a new TCP connection to
   Redis (bench S1: a connect per request, 23 % of a send's samples).
2. `count(key, delta, ttl)`: add to a counter and (re)set its expiry in one round trip.
   Django's `incr` is EXISTS + INCRBY (two round trips, and a racing expiry between
   them raises), and `add` + `incr` + `touch` for a counter with an expiry is four.

3. `add_and_get_many(key, value, ttl=, keys=)`: an `add` and a `get_many` in one round
   trip (a socket's presence claim and its co-members' counts, at every connect).

`count`, `touch_many` and `add_and_get_many` exist on both backends the settings name, so callers need not
know which one runs: Redis in production, local memory in the embedded mode. A host
that keeps its own cache backend gets them through PortableCounters.
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

    def touch_many(self, keys: Iterable[str], *, ttl: int) -> None:
        """Refresh the expiry of every existing key in `keys`: one round trip."""
        names = [self.make_and_validate_key(key) for key in keys]
        if not names:
            return
        pipe = self._cache.get_client(names[0], write=True).pipeline(transaction=False)
        for name in names:
            pipe.expire(name, ttl)
        pipe.execute()

    def add_and_get_many(self, key: str, value: Any, *, ttl: int, keys: Iterable[str]) -> tuple[bool, dict[str, Any]]:
        """`add(key, value, ttl)` and `get_many(keys)`, in one round trip."""
        name = self.make_and_validate_key(key)
        names = {self.make_and_validate_key(k): k for k in keys}
        client = self._cache.get_client(name, write=True)
        serializer = self._cache._serializer  # type: ignore[attr-defined]
        pipe = client.pipeline(transaction=False)
        pipe.set(name, serializer.dumps(value), ex=ttl, nx=True)
        if names:
            pipe.mget(list(names))
        results = pipe.execute()
        found = results[1] if names else []
        values = {names[n]: serializer.loads(v) for n, v in zip(names, found, strict=True) if v is not None}
        return bool(results[0]), values


class LocMemCache(DjangoLocMemCache):
    _count_lock = threading.Lock()  # counters are only ever changed through count()

    def count(self, key: str, delta: int, *, ttl: int) -> int:
        with self._count_lock:
            value = int(self.get(key, 0)) + delta
            self.set(key, value, timeout=ttl)
            return value

    def touch_many(self, keys: Iterable[str], *, ttl: int) -> None:
        for key in keys:
            self.touch(key, ttl)

    def add_and_get_many(self, key: str, value: Any, *, ttl: int, keys: Iterable[str]) -> tuple[bool, dict[str, Any]]:
        return bool(self.add(key, value, timeout=ttl)), self.get_many(list(keys))


class PortableCounters:
    """`count` and `touch_many` on any other Django cache backend (a host's own): the
    same results, in a few round trips instead of one. Use the two backends above for
    the one-round-trip versions."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def count(self, key: str, delta: int, *, ttl: int) -> int:
        self.backend.add(key, 0, timeout=ttl)
        try:
            value = int(self.backend.incr(key, delta))
        except ValueError:  # expired between add and incr
            self.backend.set(key, delta, timeout=ttl)
            value = delta
        self.backend.touch(key, ttl)
        return value

    def touch_many(self, keys: Iterable[str], *, ttl: int) -> None:
        for key in keys:
            self.backend.touch(key, ttl)

    def add_and_get_many(self, key: str, value: Any, *, ttl: int, keys: Iterable[str]) -> tuple[bool, dict[str, Any]]:
        return bool(self.backend.add(key, value, timeout=ttl)), self.backend.get_many(list(keys))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


def counters() -> RedisCache | LocMemCache | PortableCounters:
    """The default cache, with Parley's counter operations."""
    backend = caches["default"]
    if isinstance(backend, RedisCache | LocMemCache):
        return backend
    return PortableCounters(backend)
