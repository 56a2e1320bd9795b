"""Figures the hardening tests measure, for docs/security.md.

Each test that checks a promise records what it measured under one key, merged into
`tests/artifacts/security-figures.json` (git-ignored). Parallel test workers write the
same file, so every update holds an exclusive lock on it. Regenerate the doc's numbers
with `make test && make test-slow`, then read the file.
"""

from __future__ import annotations

import fcntl
import json
import time
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FIGURES = ARTIFACTS / "security-figures.json"


def record(key: str, **values: Any) -> dict[str, Any]:
    """Store `values` under `key@<database vendor>` (with the time of the run) and print them."""
    from django.db import connection

    key = f"{key}@{connection.vendor}"
    ARTIFACTS.mkdir(exist_ok=True)
    entry = {**values, "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with (ARTIFACTS / ".figures.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
        except json.JSONDecodeError:
            current = {}
        current[key] = entry
        FIGURES.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    print(f"[figures] {key}: {json.dumps(values, sort_keys=True)}")
    return entry
