"""Profile one socket hot path of the product in production mode, under py-spy.

    python -m bench.hotpath connect [--seconds 10] [--top 25]   # 100 x seconds user sockets, as S6 opens them
    python -m bench.hotpath send                                # message.send -> delivery, idle pair
    python -m bench.hotpath fanout                              # a 1,000-member group, member 0 sends

Sets up the private PostgreSQL and Redis (bench.modes), seeds the quick data, starts
`make serve-prod`'s gunicorn with one worker, records that worker with py-spy (`--gil`
for CPU: samples only while it holds the GIL; `--wall` for waiting too) while the load
runs, and prints the worker's CPU per operation and the profile's top entries: by own
samples, and by samples under each parley/ function (inclusive).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import uvloop

from bench import modes, servers, wsclient

PY_SPY = str(Path(modes.PY).parent / "py-spy")


async def connect_load(base: str, tokens: list[str], count: int) -> tuple[int, list[wsclient.Sock]]:
    """Open `count` user sockets, 64 handshakes in flight, as S6 does; they stay open."""
    urls = [wsclient.socket_url(base, tokens[k % len(tokens)]) for k in range(count)]
    socks, _ = await wsclient.open_many(urls, concurrency=64)
    return len(socks), socks


async def send_load(base: str, fixture: dict[str, Any], seconds: float) -> int:
    pair = fixture["pairs"][0]
    users = fixture["users"]
    a = await wsclient.open_socket(wsclient.socket_url(base, users[pair["a"]]["token"], conversation=pair["id"]))
    b = await wsclient.open_socket(wsclient.socket_url(base, users[pair["b"]]["token"], conversation=pair["id"]))
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        key = f"hot-{done}"
        await wsclient.send(a, {"type": "message.send", "content": f"probe {done}", "client_id": key})
        while True:
            frame = json.loads(await b.ws.recv())
            if frame.get("type") == "message.created" and frame["message"]["client_id"] == key:
                break
        done += 1
        await asyncio.sleep(0.002)
    await wsclient.close_all([a, b])
    return done


async def fanout_open(base: str, fixture: dict[str, Any]) -> list[wsclient.Sock]:
    group, users = fixture["group1000"], fixture["users"]
    urls = [wsclient.socket_url(base, users[i]["token"], conversation=group["id"]) for i in group["members"]]
    socks, _ = await wsclient.open_many(urls, concurrency=50)
    await wsclient.drain(socks, quiet=1.0, limit=30)
    return socks


async def fanout_load(socks: list[wsclient.Sock], seconds: float, rate: float) -> int:
    """Member 0 sends `rate` messages/s (5: S5's 5,000 deliveries/s); every member reads."""
    got = 0

    def on_frame(frame: dict[str, Any], at: float) -> None:
        nonlocal got
        got += frame.get("type") == "message.created"

    readers = [wsclient.reader(s, on_frame) for s in socks]

    async def send_one(n: int, due: float) -> None:
        await wsclient.send(socks[0], {"type": "message.send", "content": f"fan-out {n}", "client_id": f"hot-{n}"})

    await wsclient.paced(rate, int(rate * seconds), send_one)
    await asyncio.sleep(1.0)
    for task in readers:
        task.cancel()
    await wsclient.close_all(socks)
    return got


def top(raw: Path, count: int) -> str:
    """py-spy's collapsed stacks -> the top entries by own and by inclusive samples."""
    own: collections.Counter[str] = collections.Counter()
    package: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        samples = int(n)
        total += samples
        frames = stack.split(";")
        own[_short(frames[-1])] += samples
        package[_package(frames[-1])] += samples
        for name in {_short(f) for f in frames if "parley/" in f or "channels/" in f or "asgiref/" in f}:
            inclusive[name] += samples
    lines = [f"{total} samples", "", "own samples by package:"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in package.most_common(12)]
    lines += ["", "own samples:"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in own.most_common(count)]
    lines += ["", "inclusive (parley, channels, asgiref frames):"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in inclusive.most_common(count)]
    return "\n".join(lines)


def _package(frame: str) -> str:
    path = frame.partition(" (")[2]
    if "site-packages/" in path:
        parts = path.split("site-packages/", 1)[1].split("/")
        return "/".join(parts[:2]) if parts[0] in ("django", "parley") else parts[0]
    if "/parley/" in path:
        return "parley/" + path.split("/parley/", 1)[1].split("/")[0]
    return "stdlib " + path.rsplit("/", 1)[-1].split(":")[0] if path else frame


def _short(frame: str) -> str:
    # "function (path/to/file.py:123)" -> "function (file.py)"
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = path.split("/")
    tail = "/".join(parts[-2:]) if "parley" in parts or "channels" in parts else parts[-1]
    return f"{name} ({tail})"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hotpath", description=__doc__.splitlines()[0])
    parser.add_argument("path", choices=("connect", "send", "fanout"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--rate", type=float, default=5.0, help="fanout: messages/s to the 1,000 members")
    parser.add_argument("--wall", action="store_true", help="sample idle time too (default: --gil, CPU only)")
    args = parser.parse_args()
    mode = modes.production()
    mode.setup()
    try:
        fixture_path = modes.VAR / "hotpath-fixture.json"
        subprocess.run(
            [modes.PY, "-m", "bench.seed", "--profile", "quick", "--out", str(fixture_path)],
            cwd=modes.ROOT,
            env=mode.django_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        fixture = json.loads(fixture_path.read_text())
        with servers.product(mode, workers=1) as server:
            base = server.ws_url
            tokens = [fixture["users"][i]["token"] for p in fixture["pairs"] for i in (p["a"], p["b"])]
            servers.raise_nofile()
            loop = uvloop.new_event_loop()
            socks: list[wsclient.Sock] = []
            if args.path == "connect":  # warm up the worker's imports and pools
                loop.run_until_complete(wsclient.close_all(loop.run_until_complete(connect_load(base, tokens, 100))[1]))
            elif args.path == "fanout":
                socks = loop.run_until_complete(fanout_open(base, fixture))
            (worker,) = server.workers()
            raw = modes.VAR / f"hotpath-{args.path}.txt"
            spy = [PY_SPY, "record", "--pid", str(worker.pid), "--format", "raw", "-r", "250", "-o", str(raw)]
            spy += ["--full-filenames"]
            spy += ["--idle"] if args.wall else ["--gil"]
            recorder = subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(1.0)
            cpu0 = server.cpu_seconds()
            started = time.perf_counter()
            if args.path == "connect":
                ops, socks = loop.run_until_complete(connect_load(base, tokens, int(100 * args.seconds)))
            elif args.path == "send":
                ops = loop.run_until_complete(send_load(base, fixture, args.seconds))
            else:
                ops = loop.run_until_complete(fanout_load(socks, args.seconds, args.rate))
            elapsed = time.perf_counter() - started
            cpu = server.cpu_seconds() - cpu0
            os.kill(recorder.pid, signal.SIGINT)  # py-spy writes its file on SIGINT
            recorder.wait(30)
            if args.path == "connect":
                loop.run_until_complete(wsclient.close_all(socks))
        each = 1000 * cpu / max(ops, 1)
        print(f"{args.path}: {ops} in {elapsed:.1f} s ({ops / elapsed:.0f}/s); worker CPU {each:.2f} ms each")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        failed = recorder.stderr.read() if recorder.stderr else b""
        print(top(raw, args.top) if raw.exists() else f"no profile: {failed!r}")
    finally:
        mode.teardown()


if __name__ == "__main__":
    sys.exit(main())
