"""The two run modes as the benchmark sets them up, with their own data stores.

    embedded     SQLite (WAL) file under var/bench/, in-memory channel layer,
                 `make run`'s uvicorn command
    production   a private PostgreSQL cluster (initdb'd once under /tmp with Debian's
                 default settings, started and stopped here on a free port) holding
                 the database `parley_bench`, dropped and created per run; a private
                 redis-server on a free port; `make serve-prod`'s gunicorn command

Private servers, because a benchmark must not take the shared services' connections
(under Django's ASGI handler the product opens one PostgreSQL connection per request
thread: 100 clients exhausted max_connections in the first trial) nor be slowed by
other people's test runs. BENCH_PG_DSN=postgres://user@host:port points at another
server instead (its `parley_bench` database is dropped and created).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PY = sys.executable
PG_DB = "parley_bench"
PG_BIN = os.environ.get("BENCH_PG_BIN", "")
PG_DATA = Path(os.environ.get("BENCH_PG_DATA", f"/tmp/parley-bench-pg-{os.getuid()}"))
SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


@dataclass
class Mode:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    redis_port: int | None = None
    pg_dsn: str = ""
    _redis: subprocess.Popen[bytes] | None = None
    _pg_started: bool = False

    @property
    def production(self) -> bool:
        return self.name == "production"

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def django_env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PARLEY_", "DATABASE_", "REDIS_"))}
        env.update(self.env)
        env.update(extra)
        return env

    # --- Lifecycle ------------------------------------------------------------------------

    def setup(self) -> None:
        VAR.mkdir(parents=True, exist_ok=True)
        if self.production:
            self._start_redis()
            self._start_postgres()
            admin = self.pg_dsn + "/postgres"
            _run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {PG_DB}", "-c", f"CREATE DATABASE {PG_DB}"])
            self.env["DATABASE_URL"] = f"{self.pg_dsn}/{PG_DB}"
        else:
            path = Path(self.database_url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        _run([PY, "manage.py", "migrate", "--noinput", "-v0"], env=self.django_env())
        if self.production:
            _run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], env=self.django_env())

    def teardown(self) -> None:
        if self._pg_started:
            _run([_pg_tool("pg_ctl"), "-D", str(PG_DATA), "-m", "fast", "-w", "stop"], user="postgres")
            self._pg_started = False
        if self._redis is not None:
            self._redis.terminate()
            try:
                self._redis.wait(10)
            except subprocess.TimeoutExpired:
                self._redis.kill()
            self._redis = None

    def redis_flush(self) -> None:
        if self.redis_port is not None:
            _run(["redis-cli", "-p", str(self.redis_port), "FLUSHALL"])

    def _start_postgres(self) -> None:
        if os.environ.get("BENCH_PG_DSN"):
            self.pg_dsn = os.environ["BENCH_PG_DSN"].rstrip("/")
            return
        if not (PG_DATA / "PG_VERSION").exists():
            PG_DATA.mkdir(parents=True, exist_ok=True)
            shutil.chown(PG_DATA, "postgres", "postgres")
            _run(
                [_pg_tool("initdb"), "-D", str(PG_DATA), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                user="postgres",
            )
        port = free_port()
        options = f"-p {port} -k {PG_DATA} -c listen_addresses=127.0.0.1"
        _run(
            [_pg_tool("pg_ctl"), "-D", str(PG_DATA), "-o", options, "-l", str(PG_DATA / "log"), "-w", "start"],
            user="postgres",
        )
        self._pg_started = True
        self.pg_dsn = f"postgres://postgres@127.0.0.1:{port}"

    def _start_redis(self) -> None:
        if not shutil.which("redis-server"):
            raise RuntimeError("production mode needs redis-server (apt-get install redis-server)")
        self.redis_port = free_port()
        self._redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.redis_port)
        self.env["REDIS_URL"] = f"redis://127.0.0.1:{self.redis_port}/0"


COMMON_ENV = {
    "SECRET_KEY": SECRET,
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "LOG_LEVEL": "WARNING",
    # Tokens are minted once per run; the send budgets are raised so that the limiter
    # still runs (its cache round trip is part of the cost) but never refuses.
    "ACCESS_TOKEN_MINUTES": "720",
    "RATE_LIMIT_SEND": "100000000/60",
    "RATE_LIMIT_WS_COMMAND": "100000/1",
    "CHANNEL_PREFIX": "bench",
    "CACHE_PREFIX": "bench",
    "CHAT_WS_MAX_SOCKETS_PER_USER": "20",
}


def embedded() -> Mode:
    return Mode("embedded", env={**COMMON_ENV, "DATABASE_URL": f"sqlite:///{VAR / 'embedded.sqlite3'}"})


def production() -> Mode:
    return Mode("production", env={**COMMON_ENV, "PARLEY_ENV": "production"})


def _pg_tool(name: str) -> str:
    if PG_BIN:
        return str(Path(PG_BIN) / name)
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"production mode needs PostgreSQL's {name} (apt-get install postgresql)")
    return path


def _run(argv: list[str], env: dict[str, str] | None = None, user: str | None = None) -> None:
    if user is not None and os.getuid() == 0:
        argv = ["runuser", "-u", user, "--", *argv]
    cwd = "/" if user else ROOT
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
