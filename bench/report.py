"""The results table, the machine it ran on, and where they are written:

bench/results/<stamp>-<profile>.md    one file per run (committed for the record)
bench/README.md                       the latest summary, between two markers
"""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench.scenarios import Row

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"
START, END = "<!-- latest-results:start -->", "<!-- latest-results:end -->"


def _cmd(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "n/a"


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pg = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))), None)
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": _cmd([str(pg), "--version"]) if pg else "n/a",
        "redis": _cmd(["redis-server", "--version"]),
        "sqlite": sqlite3.sqlite_version,
        "wrk": _cmd(["wrk", "--version"]),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "commit": _cmd(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"]) + _dirty(),
    }


def _dirty() -> str:
    """Other people edit the same work tree: say how far the measured code is from HEAD."""
    try:
        out = subprocess.run(
            ["git", "-C", str(HERE.parent), "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    changed = [line for line in out.splitlines() if line.strip()]
    return f" + {len(changed)} files modified in the work tree" if changed else ""


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(rows_by_mode: dict[str, list[Row]]) -> str:
    lines = [
        "| mode | scenario | figure | value | unit | target | met | reference | ref value | ratio | note |",
        "| --- | --- | --- | ---: | --- | --- | --- | --- | ---: | ---: | --- |",
    ]
    for mode, rows in rows_by_mode.items():
        for r in rows:
            met = {True: "yes", False: "**no**", None: ""}[r.met]
            ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
            note = r.note.replace("|", "/")
            lines.append(
                f"| {mode} | {r.scenario} | {r.metric} | {_fmt(r.value, r.unit)} | {r.unit if r.unit != 'x' else ''} "
                f"| {r.target} | {met} | {r.reference} | {_fmt(r.ref_value)} | {ratio} | {note} |"
            )
    return "\n".join(lines)


def document(*, command: str, profile: str, info: dict[str, str], body: str, notes: list[str], seconds: float) -> str:
    head = [
        f"# Benchmark run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({profile})",
        "",
        f"Command: `{command}` ({seconds:.0f} s). Server and load generator share the machine's cores "
        "(loopback); production serves HTTP with WEB_CONCURRENCY=2 and the per-worker socket scenarios "
        "(S5, S6, S8) with WEB_CONCURRENCY=1.",
        "",
        "| machine | |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in info.items()],
        "",
        body,
    ]
    head += ["", f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}."]
    if notes:
        head += ["", "Notes:", "", *[f"- {n}" for n in notes]]
    return "\n".join(head) + "\n"


def write(text: str, *, profile: str, update_readme: bool) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{profile}.md"
    path.write_text(text)
    if update_readme and README.exists():
        readme = README.read_text()
        block = f"{START}\n_From `bench/results/{path.name}`:_\n\n{text.split(chr(10), 1)[1].strip()}\n{END}"
        readme = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, readme, flags=re.S)
        README.write_text(readme)
    return path
