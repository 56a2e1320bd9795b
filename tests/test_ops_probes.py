"""/healthz and /readyz: the process, then each dependency, checked apart.

In process: both answer JSON on the real ASGI router. Live: a uvicorn process on a
private PostgreSQL and a private Redis (never the shared ones); each is stopped in
turn and /readyz says which one is down (503) within its deadline, then recovers
by itself when it is back. The probe's cost is recorded (tests/figures.py), never
asserted.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx
import pytest
from django.conf import settings

from tests.conftest import Api, body
from tests.figures import record
from tests.livestack import LiveServer, LiveStack, live_stack, redis_server_binary, wait_for  # noqa: F401
from tests.privatepg import PrivatePostgres, private_postgres  # noqa: F401

# A probe's deadline is READINESS_TIMEOUT (1 s); the test allows for a busy machine.
PROBE_BOUND_SECONDS = 2.5


def test_healthz_and_readyz_answer_json_in_process(db: None) -> None:
    health = Api().get("/healthz")
    assert health.status_code == 200 and body(health) == {"status": "ok"}
    ready = Api().get("/readyz")
    assert ready.status_code == 200, ready.text
    report = body(ready)
    assert report["status"] == "ready"
    assert report["checks"]["database"]["status"] == "ok"
    assert report["checks"]["redis"]["status"] == ("ok" if settings.REDIS_URL else "not_configured")
    assert Api().post("/readyz").status_code == 405


def probe(server: LiveServer) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    response = httpx.get(server.url + "/readyz", timeout=10)
    return response.status_code, response.json(), time.monotonic() - started


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {name: check["status"] for name, check in report["checks"].items()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_readyz_names_the_dependency_that_is_down(
    live_stack: LiveStack,  # noqa: F811
    private_postgres: PrivatePostgres,  # noqa: F811
    redis_server_binary: str,  # noqa: F811
) -> None:
    redis = live_stack.start_redis(redis_server_binary)
    server = live_stack.start_server(redis_url=redis.url, DATABASE_URL=private_postgres.url)
    code, report, _ = probe(server)
    assert (code, statuses(report)) == (200, {"database": "ok", "redis": "ok"}), report

    # Cheap enough to probe every second: measured, not asserted (one kept-alive client).
    timings, database_ms, redis_ms = [], [], []
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(300):
            started = time.perf_counter()
            checks = client.get("/readyz").json()["checks"]
            timings.append((time.perf_counter() - started) * 1000)
            database_ms.append(checks["database"]["latency_ms"])
            redis_ms.append(checks["redis"]["latency_ms"])
    record(
        "readyz_cost",
        probes=len(timings),
        round_trip_median_ms=round(statistics.median(timings), 3),
        round_trip_p99_ms=round(sorted(timings)[int(len(timings) * 0.99) - 1], 3),
        database_check_median_ms=statistics.median(database_ms),
        redis_check_median_ms=statistics.median(redis_ms),
        note="loopback HTTP round trip; SELECT 1 on a pooled connection and a Redis PING run in parallel",
    )

    redis.stop()
    code, report, took = probe(server)
    assert (code, statuses(report)) == (503, {"database": "ok", "redis": "down"}), report
    assert report["status"] == "unavailable" and report["checks"]["redis"]["error"]
    assert took < PROBE_BOUND_SECONDS
    redis.start()
    wait_for(lambda: probe(server)[0] == 200, timeout=10, interval=0.2, what="ready again after Redis came back")

    private_postgres.stop()
    code, report, took = probe(server)
    assert (code, statuses(report)) == (503, {"database": "down", "redis": "ok"}), report
    assert took < PROBE_BOUND_SECONDS
    # A probe every 0.2 s while it is down never takes longer than its bound.
    for _ in range(5):
        code, report, took = probe(server)
        assert code == 503 and took < PROBE_BOUND_SECONDS
        time.sleep(0.2)
    health = httpx.get(server.url + "/healthz", timeout=5)
    assert health.status_code == 200  # the process itself is fine
    private_postgres.start()
    wait_for(lambda: probe(server)[0] == 200, timeout=15, interval=0.2, what="ready again after PostgreSQL came back")
    assert "Traceback" not in server.log_text()
