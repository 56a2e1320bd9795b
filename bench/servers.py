"""Server processes: the product as each mode serves it, the variants measured against
it, and the reference servers. Each runs in its own process group, started and stopped
here by its pid.

    product          embedded: `make run`'s uvicorn; production: `make serve-prod`'s gunicorn
    a2wsgi           production, HTTP through Django's WSGI handler inside the same ASGI app
    wsgi-gthread     production, plain gunicorn gthread WSGI workers (REST only)
    granian          production, granian's ASGI interface
    ref-django-*     bench.refapp: a bare Django view (no DRF, no auth), WSGI or ASGI
    raw-asgi         bench.rawasgi: HTTP "ok" and a WebSocket echo/broadcast
"""

from __future__ import annotations

import contextlib
import http.client
import os
import resource
import signal
import subprocess
import time
from dataclasses import dataclass, field

import psutil

from bench.modes import PY, ROOT, VAR, Mode, free_port

BIN = os.path.dirname(PY)
UVICORN_FLAGS = [
    "--ws-ping-interval",
    "20",
    "--ws-ping-timeout",
    "20",
    "--ws-max-size",
    "1048576",
    "--lifespan",
    "off",
    "--no-server-header",
]


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def raise_nofile() -> None:
    _raise_nofile()


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    probe: str = "/"
    proc: subprocess.Popen[bytes] | None = None
    log_path: str = ""
    started_at: float = field(default=0.0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Server:
        VAR.mkdir(parents=True, exist_ok=True)
        self.log_path = str(VAR / f"server-{self.name}.log")
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
            preexec_fn=_raise_nofile,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", self.probe)
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise TimeoutError(f"{self.name} did not answer on {self.port}; see {self.log_path}")
        self._wait_workers()
        self.started_at = time.monotonic()
        return self

    def _wait_workers(self) -> None:
        """gunicorn answers once one worker is up: wait for every expected worker."""
        expected = int(self.env.get("WEB_CONCURRENCY", "1")) if "gunicorn" in " ".join(self.argv) else 0
        deadline = time.monotonic() + 30
        while expected and time.monotonic() < deadline and len(self.workers()) < expected:
            time.sleep(0.1)
        time.sleep(0.3)

    def workers(self) -> list[psutil.Process]:
        """The processes that serve requests: gunicorn's workers, or the server itself."""
        if self.proc is None:
            return []
        try:
            parent = psutil.Process(self.proc.pid)
            return parent.children(recursive=True) or [parent]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        total = 0
        for p in self.workers():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += p.memory_info().rss
        return total

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.workers():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group, by its id
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> Server:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- The product ------------------------------------------------------------------------------


def product(mode: Mode, *, workers: int = 2, settings: str = "server.settings", **env: str) -> Server:
    port = free_port()
    full_env = mode.django_env(DJANGO_SETTINGS_MODULE=settings, **env)
    if mode.production:
        full_env.update({"HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(workers)})
        argv = [f"{BIN}/gunicorn", "server.asgi:application", "-c", "server/gunicorn.py"]
        return Server(f"{mode.name}-product-w{workers}", argv, full_env, port, probe="/api/auth/me/")
    argv = [f"{BIN}/uvicorn", "server.asgi:application", "--host", "127.0.0.1", "--port", str(port), *UVICORN_FLAGS]
    return Server(f"{mode.name}-product", argv, full_env, port, probe="/api/auth/me/")


def gunicorn_asgi(mode: Mode, app: str, name: str, *, workers: int = 2, **env: str) -> Server:
    """Any ASGI app under production's gunicorn + ParleyWorker command."""
    port = free_port()
    full_env = mode.django_env(HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY=str(workers), **env)
    argv = [f"{BIN}/gunicorn", app, "-c", "server/gunicorn.py"]
    return Server(f"{mode.name}-{name}-w{workers}", argv, full_env, port, probe="/api/auth/me/")


def gunicorn_wsgi(mode: Mode, app: str, name: str, *, workers: int = 2, threads: int = 4, **env: str) -> Server:
    port = free_port()
    full_env = mode.django_env(**env)
    argv = [
        f"{BIN}/gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--threads",
        str(threads),
        "--keep-alive",
        "5",
        "--log-level",
        "warning",
    ]
    return Server(f"{mode.name}-{name}-w{workers}t{threads}", argv, full_env, port, probe="/api/auth/me/")


def granian(mode: Mode, app: str, name: str, *, workers: int = 2, **env: str) -> Server:
    port = free_port()
    full_env = mode.django_env(**env)
    argv = [
        f"{BIN}/granian",
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-ws" if env.get("BENCH_NO_WS") else "--ws",
        "--log-level",
        "warning",
        app,
    ]
    return Server(f"{mode.name}-{name}-w{workers}", argv, full_env, port, probe="/api/auth/me/")


def uvicorn_app(mode: Mode, app: str, name: str, **env: str) -> Server:
    """One uvicorn process with `make run`'s flags (embedded mode's way of serving)."""
    port = free_port()
    argv = [f"{BIN}/uvicorn", app, "--host", "127.0.0.1", "--port", str(port), *UVICORN_FLAGS]
    return Server(f"{mode.name}-{name}", argv, mode.django_env(**env), port, probe="/")


# --- References ---------------------------------------------------------------------------------


def ref_django(mode: Mode, *, kind: str, workers: int = 2, threads: int = 4) -> Server:
    """bench.refapp served as `kind`: product (the mode's own server command), wsgi, asgi."""
    env = {"DJANGO_SETTINGS_MODULE": "bench.refapp"}
    if kind == "wsgi":
        return gunicorn_wsgi(
            mode, "bench.refapp:wsgi_application", "ref-django-wsgi", workers=workers, threads=threads, **env
        )
    if mode.production:
        return gunicorn_asgi(mode, "bench.refapp:asgi_application", "ref-django-asgi", workers=workers, **env)
    return uvicorn_app(mode, "bench.refapp:asgi_application", "ref-django-asgi", **env)


def raw_asgi(mode: Mode, *, workers: int = 1) -> Server:
    if mode.production:
        return gunicorn_asgi(mode, "bench.rawasgi:application", "raw-asgi", workers=workers)
    return uvicorn_app(mode, "bench.rawasgi:application", "raw-asgi")
