"""HTTP load with wrk: a generated Lua script, a JSON line out of its `done` hook.

wrk is a closed loop (each connection sends its next request when the previous answer
arrives), so the rate it reports is the server's saturation rate at that concurrency and
the percentiles are those of requests at that rate. Requests rotate over a list (one
conversation and token each), every thread starting at a different offset.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.modes import VAR


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


def _lua(text: str) -> str:
    text.encode("ascii")  # Lua 5.1 strings: keep to ASCII
    return json.dumps(text)


def _script(requests: list[Request]) -> str:
    lines = ["local specs = {"]
    for r in requests:
        headers = ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in r.headers.items())
        lines.append(f"  {{{_lua(r.method)}, {_lua(r.path)}, {{{headers}}}, {_lua(r.body)}}},")
    lines.append("}")
    lines.append(
        """
local thread_count = 0
function setup(thread)
  thread:set("offset", thread_count * 7919)
  thread_count = thread_count + 1
end
local reqs = {}
local n = 0
function init(args)
  for i, s in ipairs(specs) do
    local body = s[4]
    if body == "" then body = nil end
    reqs[i] = wrk.format(s[1], s[2], s[3], body)
  end
  n = offset or 0
end
function request()
  n = n + 1
  return reqs[(n % #reqs) + 1]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,'
    .. '"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
"""
    )
    return "\n".join(lines)


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    # Debian ships wrk; the benchmark installs it like `make` installs Python packages.
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
    path = shutil.which("wrk")
    if not path:
        raise RuntimeError("wrk is needed: apt-get install wrk")
    return path


def run(
    base_url: str, requests: list[Request], *, connections: int, seconds: float, threads: int = 1
) -> dict[str, Any]:
    """One wrk run; returns rate (req/s), latency percentiles (ms) and error counts."""
    VAR.mkdir(parents=True, exist_ok=True)
    script = Path(VAR / f"wrk-{os.getpid()}.lua")
    script.write_text(_script(requests))
    argv = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{max(connections, threads)}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base_url,
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=seconds + 60)
    line = next((x for x in result.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {result.stdout}\n{result.stderr}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    seconds_run = raw["duration_us"] / 1e6
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return {
        "rate": raw["requests"] / seconds_run if seconds_run else 0.0,
        "requests": raw["requests"],
        "errors": errors,
        "non_2xx": raw["status"],
        "connections": connections,
        "p50_ms": raw["p50"] / 1000,
        "p90_ms": raw["p90"] / 1000,
        "p99_ms": raw["p99"] / 1000,
        "p99.9_ms": raw["p999"] / 1000,
        "max_ms": raw["max"] / 1000,
        "mean_ms": raw["mean"] / 1000,
    }
