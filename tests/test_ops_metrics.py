"""/metrics under gunicorn with two workers: every worker's samples add up.

A real `gunicorn -c server/gunicorn.py` with two ParleyWorkers (prometheus-client's
multiprocess mode, PROMETHEUS_MULTIPROC_DIR emptied at start). Requests on fresh
connections land on both workers; a scrape, whichever worker answers it, counts
all of them. Sockets open on both workers add up in the `livesum` gauge, and a
worker restarted with SIGTERM closes its sockets with 1012 and drops out of the gauge
while its counters stay counted.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.gunicornstack import Gunicorn
from tests.livestack import LiveStack, WsClient, live_stack, wait_for  # noqa: F401
from tests.ws import token_for

pytestmark = [pytest.mark.django_db(transaction=True)]

TOKEN = "metrics-token-for-tests-0123456789"
ME = 'parley_http_requests_total{method="GET",route="/api/auth/me/",status="401"}'


def scrape(url: str) -> str:
    response = httpx.get(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def sample(text: str, series: str) -> float:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def pids_with_samples(gunicorn: Gunicorn) -> set[int]:
    found = set()
    for path in gunicorn.metrics_dir.glob("counter_*.db"):
        match = re.match(r"counter_(\d+)\.db", path.name)
        if match:
            found.add(int(match.group(1)))
    return found


def test_metrics_add_up_across_two_gunicorn_workers(live_stack: LiveStack, make_user: Callable[..., Any]) -> None:  # noqa: F811
    with Gunicorn(live_stack, workers=2, METRICS_TOKEN=TOKEN) as gunicorn:
        workers = set(gunicorn.workers())
        assert len(workers) == 2
        sent = 0
        # Fresh connections, so that the kernel hands them to either worker.
        while (sent < 400 and not workers <= pids_with_samples(gunicorn)) or sent < 40:
            with httpx.Client(base_url=gunicorn.url, timeout=5) as client:
                assert client.get("/api/auth/me/").status_code == 401
            sent += 1
        assert workers <= pids_with_samples(gunicorn), "one worker served every request; the test proves nothing"
        for _ in range(6):  # whichever worker answers the scrape
            assert sample(scrape(gunicorn.url), ME) == sent

        text = scrape(gunicorn.url)
        for series in (
            "parley_http_request_duration_seconds_bucket",
            "parley_websocket_connections",
            "parley_events_published_total",
            "parley_publish_failures_total",
            "parley_catchup_replays_total",
            "parley_messages_sent_total",
        ):
            assert series in text, series
        assert 'route="/api/auth/me/"' in text and "/api/auth/me/?" not in text

        # Sockets on both workers, counted together.
        users = [make_user(f"gauge{i}") for i in range(6)]
        sockets: list[WsClient] = []
        for user in users:
            client = live_stack.track(WsClient(f"{gunicorn.ws_url}/ws/chat/?token={token_for(user)}"))
            client.open()
            sockets.append(client)
        wait_for(
            lambda: sample(scrape(gunicorn.url), "parley_websocket_connections") == len(sockets),
            timeout=10,
            what="the socket gauge to count every socket",
        )

        # A worker restarted: its sockets close with 1012 and leave the gauge.
        victim = sorted(workers)[0]
        gunicorn.restart_worker(victim)
        codes = []
        for client in sockets:
            with contextlib.suppress(AssertionError):  # still open: on the other worker
                client.receive(timeout=0.5)
            codes.append(client.close_code)
        closed = [c for c in codes if c is not None]
        assert closed and set(closed) == {1012}, codes
        still_open = codes.count(None)
        text = scrape(gunicorn.url)
        assert sample(text, "parley_websocket_connections") == still_open
        assert not list(gunicorn.metrics_dir.glob(f"gauge_livesum_{victim}.db"))
        assert sample(text, ME) == sent  # the dead worker's requests still count


def test_metrics_need_the_token(live_stack: LiveStack) -> None:  # noqa: F811
    server = live_stack.start_server(redis_url=None, METRICS_TOKEN=TOKEN)
    assert httpx.get(server.url + "/metrics").status_code == 401
    wrong = httpx.get(server.url + "/metrics", headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(server.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    off = live_stack.start_server(redis_url=None)
    response = httpx.get(off.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404 and response.json()["code"] == "not_found"
