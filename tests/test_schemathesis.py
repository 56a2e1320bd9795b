"""schemathesis against our own OpenAPI schema, on a real server with real tokens.

A live uvicorn process serves the test database; alice, bob and carol have real
access tokens and conversations with messages, and schemathesis (every phase:
examples, coverage, fuzzing, stateful) runs every check it has, including the
object-level authorization check with alice and carol as peers (Web Fuzzing Commons
auth file): an object one of them reads must not be readable by the other.

`positive_data_acceptance` is left out, deliberately: it expects every schema-valid
request to succeed, and Parley answers 400 to rules a schema cannot state (a user id
that does not exist, a weak password, `before` together with `after`, a title on a
direct conversation, leaving a direct conversation). Every other check is on, and the
test fails on any failure it reports. Figures: requests, server errors (0), schema
violations (0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from parley.services.conversations import conversation_create_group, conversation_start_direct
from parley.services.messages import message_send
from tests.figures import record
from tests.livestack import LiveStack, live_stack  # noqa: F401
from tests.ws import token_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "40"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261125"))
SCHEMA_CHECKS = {
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
}


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_stack: LiveStack,  # noqa: F811
    make_user: Any,
    tmp_path: Path,
) -> None:
    # The server API on: schemathesis then checks its routes refuse every user token (401).
    server = live_stack.start_server(redis_url=None, PARLEY_API_KEY="schemathesis-server-api-key-" + "0" * 16)
    alice, bob, carol, frank = (make_user(n) for n in ("alice", "bob", "carol", "frank"))
    direct, _ = conversation_start_direct(user=alice, other_user_id=bob.pk)
    message_send(sender=alice, conversation_id=direct.pk, content="alice's")
    group = conversation_create_group(creator=carol, title="carol's", participant_ids=[frank.pk])
    message_send(sender=carol, conversation_id=group.pk, content="carol's")

    auth = {
        "auth": [
            {"name": user.username, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token_for(user)}"}]}
            for user in (alice, carol)
        ]
    }
    (tmp_path / "auth.json").write_text(json.dumps(auth))
    (tmp_path / "schemathesis.toml").write_text(
        f'[auth.wfc]\npath = "{tmp_path / "auth.json"}"\npeers = ["{alice.username}", "{carol.username}"]\n'
    )
    report = tmp_path / "report"
    argv = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(tmp_path / "schemathesis.toml"),
        "run",
        f"{server.url}/api/schema/",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--report",
        "json,har",
        "--report-dir",
        str(report),
        "--no-color",
    ]
    run = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)
    summary = json.loads(next(report.glob("json-*.json")).read_text())
    entries = json.loads(next(report.glob("har-*.json")).read_text())["log"]["entries"]
    statuses = Counter(entry["response"]["status"] for entry in entries)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    failures = summary["failures"]
    violations = [f for f in failures if f.get("type") != "ServerError"]
    server.stop()
    tracebacks = server.log_text().count("Traceback")

    record(
        "schemathesis",
        requests=len(entries),
        test_cases=summary["test_cases"]["generated"],
        operations=summary["operations"]["tested"],
        phases={name: phase["status"] for name, phase in summary["phases"].items()},
        server_errors=server_errors,
        schema_violations=len(violations),
        failures=[f"{f['code']} {f['title']}: {f['operations']}" for f in failures],
        errors=len(summary["errors"]),
        statuses={str(k): v for k, v in sorted(statuses.items())},
        server_tracebacks=tracebacks,
        seed=SEED,
        max_examples=MAX_EXAMPLES,
    )
    output = run.stdout[-6000:]
    assert summary["errors"] == [], output
    assert failures == [], output
    assert server_errors == 0 and tracebacks == 0, output
    assert len(entries) >= 1000, f"only {len(entries)} requests"
    assert summary["phases"]["stateful"]["status"] != "skip", summary["phases"]
    assert run.returncode == 0, output
