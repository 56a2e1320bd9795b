"""A real `gunicorn -c server/gunicorn.py` (as `make serve-prod` runs it) for tests.

    Gunicorn    the master on a free port with N ParleyWorker processes, on a
                LiveStack's environment (the test database, its prefixes); its
                output goes to a file; `workers()` lists the worker pids, and
                `restart_worker(pid)` sends one SIGTERM and waits for its successor

Everything is stopped by the test's LiveStack teardown through `stack.track_process`
or the context manager here; only processes this module started are signalled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.livestack import ROOT, LiveStack, free_port, wait_for


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in {"Z", "X"}:
            found.append(int(entry.name))
    return sorted(found)


class Gunicorn:
    def __init__(self, stack: LiveStack, *, workers: int, name: str = "gunicorn", **env: str) -> None:
        self.stack = stack
        self.port = free_port()
        self.count = workers
        self.log_path = stack.workdir / f"{name}.log"
        self.metrics_dir = stack.workdir / f"{name}-metrics"
        self.env = {
            **stack.base_env,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(workers),
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "server.asgi:application", "-c", "server/gunicorn.py"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._all_up, timeout=45, interval=0.1, what=f"gunicorn with {self.count} workers")
        return self

    def _all_up(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{self.log_text()[-3000:]}")
        if len(self.workers()) != self.count:
            return False
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def workers(self) -> list[int]:
        assert self.proc is not None
        return children_of(self.proc.pid)

    def restart_worker(self, pid: int, *, timeout: float = 40) -> tuple[int, float]:
        """SIGTERM one worker; wait for it to exit and for its successor to answer.
        Returns (the new worker's pid, seconds the old one took to exit)."""
        before = set(self.workers())
        assert pid in before
        started = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not Path(f"/proc/{pid}").exists() or pid not in self.workers(), timeout=timeout, what="exit")
        exited_after = time.monotonic() - started
        new = wait_for(
            lambda: [p for p in self.workers() if p not in before] if len(self.workers()) == self.count else [],
            timeout=timeout,
            what="a replacement worker",
        )
        time.sleep(1.0)  # the new worker imports Django before it accepts
        return new[0], exited_after

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
