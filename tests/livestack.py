"""Real server processes for tests that cross a process boundary.

    LiveServer      `uvicorn server.asgi:application --lifespan off` on a free port, on
                    the pytest-django test database and a given Redis; its stdout and
                    stderr go to files the test can read (log hygiene checks)
    RedisServer     a private `redis-server` on a free port, which a fault test may stop
                    and start again on the same port (never the shared one on 6379)
    WsClient        a `websockets` client that keeps every frame it received
    LiveStack       what one test started; everything is stopped at teardown, servers
                    before the test database is flushed

Fixtures (import them into a test module to use them):

    live_stack          a LiveStack on the transactional test database
    shared_redis_url    REDIS_URL or redis://127.0.0.1:6379/0; skips when it does not answer
    redis_server_binary the path of `redis-server`; skips when it is not installed

The servers share the test's database (`transactional_db`: what the test writes is
committed, so another process sees it) and the tokens the test mints, because they get
the test process's SECRET_KEY. Every stack has its own CHANNEL_PREFIX and CACHE_PREFIX,
so parallel tests on one Redis never hear each other.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
START_TIMEOUT = 30.0

Frame = dict[str, Any]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], *, timeout: float, interval: float = 0.05, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def _stop_process(proc: subprocess.Popen[bytes], *, grace: float) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds: only this process, by its id."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# --- The test database, as a URL another process can open -------------------------------


def database_url_for_test() -> str:
    """DATABASE_URL of the database this test runs on (the pytest-django test database)."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"] == "django.db.backends.sqlite3":
        name = str(s["NAME"])
        if not name or name == ":memory:" or "mode=memory" in name:
            pytest.skip("a live server needs a file-based test database, not an in-memory SQLite")
        return f"sqlite:///{Path(name).resolve()}"
    if s["ENGINE"] == "django.db.backends.postgresql":
        user = quote(s.get("USER") or "", safe="")
        password = quote(s.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = s.get("HOST") or "127.0.0.1"
        port = s.get("PORT") or "5432"
        return f"postgres://{auth}{host}:{port}/{quote(s['NAME'], safe='')}"
    pytest.fail(f"no DATABASE_URL for engine {s['ENGINE']}")


# --- Redis ------------------------------------------------------------------------------


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


class RedisServer:
    """A private `redis-server` without persistence, on a port of its own."""

    def __init__(self, workdir: Path, binary: str) -> None:
        self.workdir = workdir
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = workdir / f"redis-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        """Start (or start again) on the same port; returns once it answers PING."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        argv = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(self.workdir),
        ]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)

        def up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited:\n{self.log_path.read_text()[-2000:]}")
            return redis_answers(self.url, timeout=0.5)

        wait_for(up, timeout=10, what=f"redis-server on port {self.port}")
        return self

    def stop(self) -> None:
        """Stop it; the port stays this server's for `start()` to use again."""
        if self.proc is not None:
            _stop_process(self.proc, grace=5)
            self.proc = None
        wait_for(lambda: not redis_answers(self.url, timeout=0.2), timeout=5, what="redis-server to stop")

    def channels(self) -> list[str]:
        """The pub/sub channels someone is subscribed to (PUBSUB CHANNELS)."""
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return sorted(c.decode() for c in client.pubsub_channels())
        finally:
            client.close()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


# --- The server -------------------------------------------------------------------------


class LiveServer:
    """One `uvicorn server.asgi:application` process."""

    def __init__(self, name: str, workdir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.workdir = workdir
        self.env = env
        self.port = 0
        self.stdout_path = workdir / f"{name}.stdout.log"
        self.stderr_path = workdir / f"{name}.stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def launch(self) -> None:
        self.port = free_port()
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "server.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--lifespan",
            "off",
            # As `make run`: the tests see what an operator's process does.
            "--ws-ping-interval",
            "20",
            "--ws-ping-timeout",
            "20",
            "--ws-max-size",
            "1048576",
            "--no-server-header",
            "--timeout-graceful-shutdown",
            "2",
        ]
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=err)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> bool:
        """True once it answers HTTP; False if it exited because the port was taken."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if "address already in use" in self.log_text().lower():
                    return False
                raise AssertionError(f"server {self.name} exited ({self.proc.returncode}):\n{self.log_text()[-3000:]}")
            try:
                httpx.get(self.url + "/api/auth/me/", timeout=1)
                return True
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError(f"server {self.name} did not answer within {timeout} s:\n{self.log_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None:
            _stop_process(self.proc, grace=8)
            self.proc = None

    def log_text(self) -> str:
        """Everything the process wrote so far, stdout then stderr."""
        parts = []
        for path in (self.stdout_path, self.stderr_path):
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    # --- Clients ------------------------------------------------------------------------

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def socket(self, token: str | None, conversation_id: int | None = None, *, since: Any = None) -> WsClient:
        """A connected WsClient (not yet waited for `ready`; see `WsClient.open`)."""
        path = f"/ws/chat/{conversation_id}/" if conversation_id is not None else "/ws/chat/"
        params = []
        if token is not None:
            params.append(f"token={token}")
        if since is not None:
            params.append(f"since={quote(json.dumps(since) if isinstance(since, dict) else str(since))}")
        return WsClient(self.ws_url + path + ("?" + "&".join(params) if params else ""))


class LiveStack:
    """The servers and Redis instances one test started."""

    def __init__(self, workdir: Path) -> None:
        from django.conf import settings

        self.workdir = workdir
        self.prefix = f"parley-live-{uuid.uuid4().hex[:10]}"
        self.servers: list[LiveServer] = []
        self.redis_servers: list[RedisServer] = []
        self.sockets: list[WsClient] = []
        self.base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
        for name in ("DATABASE_URL", "REDIS_URL"):
            self.base_env.pop(name, None)
        self.base_env.update(
            {
                "DJANGO_SETTINGS_MODULE": "server.settings",
                "PARLEY_ENV": "development",
                "DEBUG": "false",
                "DATABASE_URL": database_url_for_test(),
                "SECRET_KEY": settings.SECRET_KEY,
                "JWT_SIGNING_KEY": settings.SIMPLE_JWT["SIGNING_KEY"],
                "CHANNEL_PREFIX": self.prefix,
                "CACHE_PREFIX": self.prefix,
                "MEDIA_ROOT": str(workdir / "media"),
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
            }
        )

    def start_servers(self, count: int, *, redis_url: str | None, **env: str) -> list[LiveServer]:
        """`count` servers sharing the database, the Redis and the prefixes; started in
        parallel, returned once every one answers HTTP."""
        full_env = dict(self.base_env, **env)
        if redis_url:
            full_env["REDIS_URL"] = redis_url
        first = len(self.servers)
        servers = [LiveServer(chr(ord("a") + first + i), self.workdir, full_env) for i in range(count)]
        self.servers.extend(servers)
        for server in servers:
            server.launch()
        for server in servers:
            for _attempt in range(3):  # a free port can be taken before uvicorn binds it
                if server.wait_ready():
                    break
                server.launch()
            else:
                raise AssertionError(f"server {server.name} found no free port")
        return servers

    def start_server(self, *, redis_url: str | None, **env: str) -> LiveServer:
        return self.start_servers(1, redis_url=redis_url, **env)[0]

    def start_redis(self, binary: str) -> RedisServer:
        server = RedisServer(self.workdir, binary)
        self.redis_servers.append(server)
        return server.start()

    def track(self, client: WsClient) -> WsClient:
        self.sockets.append(client)
        return client

    def close(self) -> None:
        for client in self.sockets:
            client.close()
        for server in self.servers:
            server.stop()
        for redis_server in self.redis_servers:
            if redis_server.proc is not None:
                _stop_process(redis_server.proc, grace=5)
                redis_server.proc = None


# --- A WebSocket client -------------------------------------------------------------------


class WsClient:
    """The `websockets` sync client, reading Parley frames with timeouts.

    Every frame received is kept in `frames`; a close becomes a frame of type
    `__closed__` with its `code`, and `close_code` is set. A handshake the server
    refused with an HTTP status reads as a close 1006 with that `http_status`.
    """

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        from websockets.exceptions import InvalidStatus
        from websockets.sync.client import connect

        self.url = url
        self.frames: list[Frame] = []
        self.close_code: int | None = None
        self.http_status: int | None = None  # set when the handshake itself was refused
        try:
            self.ws = connect(
                url, open_timeout=10, close_timeout=2, max_size=2**22, legacy=True, additional_headers=headers
            )
        except InvalidStatus as exc:
            self.http_status = exc.response.status_code
            self.close_code = 1006

    def send(self, frame: Frame) -> None:
        self.ws.send(json.dumps(frame))

    def receive(self, timeout: float = 5) -> Frame:
        from websockets.exceptions import ConnectionClosed

        if self.close_code is not None:
            return {"type": "__closed__", "code": self.close_code, "http_status": self.http_status}
        try:
            text = self.ws.recv(timeout=timeout)
        except TimeoutError:
            raise AssertionError(f"no frame within {timeout} s on {self._redacted_url()}") from None
        except ConnectionClosed as exc:
            self.close_code = exc.rcvd.code if exc.rcvd is not None else 1006
            return {"type": "__closed__", "code": self.close_code}
        frame = json.loads(text)
        self.frames.append(frame)
        return frame

    def receive_until(self, match: str | Callable[[Frame], bool], timeout: float = 5) -> Frame:
        """The first frame of type `match` (or satisfying it); earlier frames are kept
        in `frames` too. Fails on close or after `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {match!r}; got {self.frames[-10:]}")
            frame = self.receive(remaining)
            if frame["type"] == "__closed__":
                raise AssertionError(f"socket closed with {frame['code']} while waiting for {match!r}")
            if (frame["type"] == match) if isinstance(match, str) else match(frame):
                return frame

    def open(self, timeout: float = 10) -> Frame:
        """Wait for `ready` (the catch-up is done); returns it."""
        return self.receive_until("ready", timeout)

    def collect(self, quiet: float) -> list[Frame]:
        """Frames arriving until none came for `quiet` seconds (or the socket closed)."""
        got = []
        while True:
            try:
                frame = self.receive(quiet)
            except AssertionError:
                return got
            got.append(frame)
            if frame["type"] == "__closed__":
                return got

    def closed_with(self, timeout: float = 5) -> int:
        deadline = time.monotonic() + timeout
        while True:
            frame = self.receive(max(0.01, deadline - time.monotonic()))
            if frame["type"] == "__closed__":
                return int(frame["code"])

    def close(self) -> None:
        if self.http_status is not None:
            return
        with contextlib.suppress(Exception):  # already gone
            self.ws.close()

    def _redacted_url(self) -> str:
        return self.url.split("?", 1)[0]


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture
def live_stack(transactional_db: None, tmp_path: Path) -> Iterator[LiveStack]:
    stack = LiveStack(tmp_path)
    try:
        yield stack
    finally:
        stack.close()


@pytest.fixture
def shared_redis_url() -> str:
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if not redis_answers(url):
        pytest.skip(f"needs a Redis: none answers at {url} (set REDIS_URL)")
    return url


@pytest.fixture
def redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs the redis-server program for a private Redis (apt-get install redis-server)")
    return binary
