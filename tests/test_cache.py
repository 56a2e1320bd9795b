"""The counter cache (common.cache) on both backends, and one Redis pool per process."""

from __future__ import annotations

import contextvars
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache import caches

from parley.common.cache import LocMemCache, RedisCache
from tests.conftest import Api
from tests.livestack import shared_redis_url  # noqa: F401 - a fixture


@pytest.fixture(params=["locmem", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[LocMemCache | RedisCache]:
    if request.param == "locmem":
        yield LocMemCache(f"test-{uuid.uuid4().hex}", {})
        return
    url = request.getfixturevalue("shared_redis_url")
    cache = RedisCache(url, {"KEY_PREFIX": f"parley-test-cache-{uuid.uuid4().hex[:12]}"})
    yield cache
    cache.delete_many(["c", "gone", "a", "b"])


def test_count_starts_at_zero_adds_and_subtracts(backend: Any) -> None:
    assert backend.count("c", 1, ttl=60) == 1
    assert backend.count("c", 1, ttl=60) == 2
    assert backend.count("c", -1, ttl=60) == 1
    assert backend.get("c") == 1
    assert backend.count("gone", -1, ttl=60) == -1


def test_count_sets_the_expiry_each_time(backend: Any) -> None:
    backend.count("c", 5, ttl=1)
    backend.count("c", 1, ttl=1)
    time.sleep(1.3)
    assert backend.get("c") is None
    assert backend.count("c", 1, ttl=60) == 1  # an expired counter starts again


def test_touch_many_extends_existing_keys_and_creates_none(backend: Any) -> None:
    backend.set("a", 1, timeout=1)
    backend.touch_many(["a", "b"], ttl=60)
    time.sleep(1.3)
    assert backend.get("a") == 1
    assert backend.get("b") is None


def test_redis_cache_objects_share_one_client_per_process(shared_redis_url: str) -> None:  # noqa: F811
    # Django builds a cache object per context; they must not each open connections.
    made: list[Any] = []

    def build() -> None:
        made.append(RedisCache(shared_redis_url, {})._cache)

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in made}) == 1


@pytest.mark.django_db
def test_requests_reuse_the_redis_connections(
    alice: Any, direct: dict[str, Any], api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the default cache is Redis only when REDIS_URL is set")
    client: Api = api(alice)
    url = f"/api/chat/conversations/{direct['id']}/send_message/"
    assert client.post(url, json={"content": "warm"}).status_code == 201
    opened: list[object] = []
    make_connection = redis.ConnectionPool.make_connection

    def counting(pool: redis.ConnectionPool) -> Any:
        opened.append(pool)
        return make_connection(pool)

    monkeypatch.setattr(redis.ConnectionPool, "make_connection", counting)

    for n in range(20):
        # Served as production serves it: a request thread's context is a fresh one,
        # in which Django's context-local `caches` builds a new cache object.
        response = contextvars.Context().run(client.post, url, json={"content": f"m{n}"})
        assert response.status_code == 201

    # With Django's stock backend each of those cache objects opened its own
    # connection (20 here); now they share the process's pool.
    assert len(opened) <= 1
