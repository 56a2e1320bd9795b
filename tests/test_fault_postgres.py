"""PostgreSQL stops under a running server: 503 with a JSON reason, then recovery by itself.

A private PostgreSQL (tests/privatepg.py, never the shared one) is migrated and served
by a real uvicorn process. With traffic going, the database is stopped for a few
seconds: every answer must be a JSON 503 `database_unavailable` (no 500, no HTML),
and once it is started again the API must answer normally within seconds, without a
restart of the server. Figures: requests during the outage by status, time to recover.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.figures import record
from tests.livestack import ROOT, LiveStack, live_stack  # noqa: F401
from tests.privatepg import PrivatePostgres, private_postgres  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"
OUTAGE_SECONDS = 4.0
RECOVERY_LIMIT_SECONDS = 5.0


def test_postgres_outage_is_503_json_and_recovers_by_itself(
    live_stack: LiveStack,  # noqa: F811
    private_postgres: PrivatePostgres,  # noqa: F811
) -> None:
    env = {**live_stack.base_env, "DATABASE_URL": private_postgres.url}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    server = live_stack.start_server(redis_url=None, DATABASE_URL=private_postgres.url, RATE_LIMITS_ENABLED="false")
    client = httpx.Client(base_url=server.url, timeout=10)
    for name in ("alice", "bob"):
        assert client.post("/api/auth/register/", json={"username": name, "password": PASSWORD}).status_code == 201
    tokens = client.post("/api/auth/login/", json={"username": "alice", "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {tokens['access']}"}
    users = client.get("/api/users/?search=bob", headers=auth).json()
    cid = client.post("/api/chat/conversations/start/", json={"user2": users[0]["id"]}, headers=auth).json()["id"]
    assert (
        client.post(
            f"/api/chat/conversations/{cid}/send_message/", json={"content": "before"}, headers=auth
        ).status_code
        == 201
    )

    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/auth/me/", None),
        ("GET", "/api/chat/conversations/", None),
        ("GET", f"/api/chat/conversations/{cid}/messages/", None),
        ("POST", f"/api/chat/conversations/{cid}/send_message/", {"content": "during"}),
        ("POST", "/api/auth/login/", {"username": "alice", "password": PASSWORD}),
        ("POST", "/api/auth/register/", {"username": "carol", "password": PASSWORD}),
    ]
    private_postgres.stop()
    statuses: Counter[int] = Counter()
    wrong: list[str] = []
    deadline = time.monotonic() + OUTAGE_SECONDS
    while time.monotonic() < deadline:
        for method, path, payload in requests:
            response = client.request(method, path, json=payload, headers=auth)
            statuses[response.status_code] += 1
            is_json = response.headers.get("content-type", "").startswith("application/json")
            data = response.json() if is_json else {}
            if response.status_code != 503 or data.get("code") != "database_unavailable":
                wrong.append(f"{method} {path}: {response.status_code} {response.text[:160]}")
            elif response.headers.get("Retry-After") is None:
                wrong.append(f"{method} {path}: 503 without Retry-After")

    private_postgres.start()
    started = time.monotonic()
    while True:
        response = client.get("/api/auth/me/", headers=auth)
        if response.status_code == 200:
            break
        assert response.status_code == 503, response.text
        assert time.monotonic() - started < 30, "the API did not recover within 30 s"
        time.sleep(0.05)
    recovered = time.monotonic() - started
    after = client.post(f"/api/chat/conversations/{cid}/send_message/", json={"content": "after"}, headers=auth)
    assert after.status_code == 201
    history = client.get(f"/api/chat/conversations/{cid}/messages/", headers=auth).json()
    assert [m["content"] for m in history["results"]] == ["before", "after"]
    client.close()
    server.stop()
    log = server.log_text()

    record(
        "fault_postgres",
        outage_seconds=OUTAGE_SECONDS,
        requests_during_outage=sum(statuses.values()),
        statuses={str(k): v for k, v in statuses.items()},
        not_503_json=len(wrong),
        recovered_after_seconds=round(recovered, 2),
        tracebacks_in_log=log.count("Traceback"),
    )
    assert wrong == [], wrong[:10]
    assert recovered < RECOVERY_LIMIT_SECONDS
    assert "Internal Server Error" not in log
