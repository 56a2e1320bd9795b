"""Shared test wiring: users with real JWTs, and an HTTP client on the real ASGI app.

`api(user)` sends requests through the product's ASGI router (the body limit, the
protocol router, Django's ASGI handler, DRF) with a real access token, so a test sees
exactly what a client on the wire sees.
"""

from __future__ import annotations

import glob
import itertools
import json as jsonlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache

from tests import hosts

User = Any  # the project's user model (tests/hosts.py)

PASSWORD = "correct-horse-battery-staple"
_names = itertools.count(1)


_application: Any = None


def pytest_ignore_collect(collection_path: Any, config: Any) -> bool | None:
    """tests/host/ holds the example host's own tests: collected only in its run."""
    if collection_path.name == "host" and collection_path.parent.name == "tests":
        return hosts.is_standalone()
    return None


def in_process_application() -> Any:
    """The product's ASGI router with Django's own ASGI handler for HTTP.

    Production serves REST through Django's WSGI handler on a2wsgi's threads
    (server/asgi.py); those threads have their own database connections and cannot
    see a test's open transaction, so in-process tests run the same views through
    Django's ASGI handler, which runs them on the test's thread. The production path
    is what the live-server tests (tests/livestack.py, tests/browser) exercise.
    """
    global _application
    if _application is None:
        _application = hosts.in_process_asgi()
    return _application


class Api:
    """A synchronous HTTP client for the ASGI application."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self._transport = httpx.ASGITransport(app=in_process_application(), client=("127.0.0.1", 40000))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        return async_to_sync(self._request)(method, path, headers=headers, **kwargs)

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(transport=self._transport, base_url="http://testserver") as client:
            response = await client.request(method, path, **kwargs)
            await response.aread()
            return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


def body(response: httpx.Response) -> Any:
    """The JSON body, asserting the response is JSON (never an HTML error page)."""
    assert response.headers.get("content-type", "").startswith("application/json"), (
        response.status_code,
        response.headers.get("content-type"),
        response.text[:300],
    )
    return jsonlib.loads(response.content)


def remove_sqlite_test_database(name: str | Path) -> list[Path]:
    """Delete the files of one SQLite test database: the database (if Django left it)
    and its WAL and shared-memory files, which Django's teardown leaves behind while
    threads of async tests still hold connections. `name` is this process's TEST NAME
    (it carries the pid), so another run's files are never touched."""
    path = Path(name)
    removed = sorted(path.parent.glob(glob.escape(path.name) + "*"))
    for leftover in removed:
        leftover.unlink(missing_ok=True)
    return removed


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """`make test` leaves no var/test-* files (each xdist worker removes its own)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    name = database.get("TEST", {}).get("NAME")
    if database["ENGINE"] == "django.db.backends.sqlite3" and name and name != ":memory:":
        remove_sqlite_test_database(name)


@pytest.fixture(autouse=True, scope="session")
def _keep_test_connections_open() -> Iterator[None]:
    """Django's ASGI handler closes "old" connections at request start and end; in
    tests that would close the connection holding the test transaction (Django's own
    test clients disconnect the same receiver)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """In-process tests run without the PostgreSQL pool. The tests keep Django from
    closing connections at request end (above), and every thread of an async test
    holds its own connection, so a pool of 20 would run dry; the pool's bound is
    checked on a real server (tests/test_durability_slow.py)."""
    from django.conf import settings

    settings.DATABASES["default"].get("OPTIONS", {}).pop("pool", None)


@pytest.fixture(autouse=True, scope="session")
def _end_stray_database_sessions(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Threads of async tests (database_sync_to_async) keep their own connections open;
    PostgreSQL would refuse to drop the test database while they live."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture(autouse=True, scope="session")
def _isolated_redis_names() -> Iterator[None]:
    """Parallel test workers share one Redis: give each its own channel and cache prefix
    (their test databases reuse the same ids, so `conv.1` must not cross workers)."""
    import copy
    import os

    from django.conf import settings
    from django.test.utils import override_settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"].setdefault("CONFIG", {})
    if "channels_redis" in layers["default"]["BACKEND"]:
        layers["default"]["CONFIG"]["prefix"] = f"parley-test-{worker}-{os.getpid()}"
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"parley-test-{worker}-{os.getpid()}"
    with override_settings(CHANNEL_LAYERS=layers, CACHES=caches):
        yield


@pytest.fixture(autouse=True)
def _fresh_rate_limits_and_media(settings: Any, tmp_path: Any) -> Iterator[None]:
    """Each test starts with empty rate-limit and presence counters and its own media
    root. On Redis the cache gets a fresh key prefix instead of FLUSHDB, which would
    wipe what other workers (and other users of that Redis) keep there."""
    import uuid

    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The production hasher costs ~0.2 s per user; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if "LocMem" in settings.CACHES["default"]["BACKEND"]:
        cache.clear()
    else:
        caches = {**settings.CACHES, "default": {**settings.CACHES["default"]}}
        caches["default"]["KEY_PREFIX"] = f"parley-test-{uuid.uuid4().hex[:12]}"
        settings.CACHES = caches
    yield


@pytest.fixture
def frozen_command_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sockets count their commands at one fixed instant, so the command budget never
    refills while a test floods it: how many frames pass no longer depends on how fast
    a loaded machine runs the consumer."""
    from parley.realtime.backpressure import CommandBudget

    monkeypatch.setattr(CommandBudget, "clock", staticmethod(lambda: 1_000.0))


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str | None = None, *, password: str = PASSWORD, **fields: Any) -> User:
        return hosts.create_user(username or f"user{next(_names)}", password=password, **fields)

    return make


@pytest.fixture
def api() -> Callable[[User | None], Api]:
    """`api(user)` is a client authenticated with a fresh real JWT; `api(None)` is anonymous."""

    def make(user: User | None = None) -> Api:
        return Api(hosts.access_token(user) if user is not None else None)

    return make


@pytest.fixture
def alice(make_user: Callable[..., User]) -> User:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., User]) -> User:
    return make_user("bob")


@pytest.fixture
def carol(make_user: Callable[..., User]) -> User:
    return make_user("carol")


@pytest.fixture
def direct(alice: User, bob: User, api: Callable[[User | None], Api]) -> dict[str, Any]:
    """A direct conversation of alice and bob, started by alice."""
    response = api(alice).post("/api/chat/conversations/start/", json={"user2": hosts.uid(bob)})
    assert response.status_code == 201, response.text
    return body(response)
