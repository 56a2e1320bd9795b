"""A rolling restart under load loses nothing, duplicates nothing, leaves nobody behind.

`gunicorn -c server/gunicorn.py` with two ParleyWorkers on the test database and a
private Redis. While clients send without pause, each worker is restarted in turn
(SIGTERM to that worker; the master starts its successor), twice round:

    REST senders     POST send_message with a client_id; on a connection error or a
                     5xx the same client_id again, until a 201
    socket senders   message.send with a client_id on a conversation socket; on a
                     close they reconnect with `?since=` their last seq and send the
                     unacknowledged client_id again
    listeners        a conversation socket each, reconnecting with `?since=` on close

Promises: every acknowledged client_id is stored exactly once and nothing unacknowledged
is stored (0 lost, 0 duplicated); every socket client saw every seq exactly once, in
order, across its reconnections; the sockets of a draining worker were closed with 1012;
each worker exited within gunicorn's graceful_timeout.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from parley.models import Conversation, Message
from parley.services.conversations import conversation_create_group
from tests.figures import record
from tests.gunicornstack import Gunicorn
from tests.livestack import LiveStack, WsClient, live_stack, redis_server_binary  # noqa: F401
from tests.ws import token_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GRACEFUL_TIMEOUT = 10
REST_SENDERS = 3
SOCKET_SENDERS = 2
LISTENERS = 2
ROUNDS = 2  # each worker restarted this many times
SETTLE_SECONDS = 3.0  # traffic between restarts


class SocketClient:
    """A conversation socket that keeps a cursor and reconnects with `since`."""

    def __init__(self, url: str, token: str, cid: int) -> None:
        self.base = f"{url}/ws/chat/{cid}/?token={token}"
        self.cid = cid
        self.cursor = 0
        self.seqs: list[int] = []
        self.closes: Counter[int] = Counter()
        self.reconnects = 0
        self.ws: WsClient | None = None

    def connect(self) -> None:
        while True:
            client = WsClient(f"{self.base}&since={self.cursor}")
            if client.http_status is None:
                try:
                    while True:
                        frame = client.receive(10)
                        if not self.take(frame, client):
                            break
                        if frame["type"] == "ready":
                            self.ws = client
                            return
                except AssertionError:
                    pass
            client.close()
            time.sleep(0.05)

    def take(self, frame: dict[str, Any], client: WsClient) -> bool:
        """Apply a frame; False when the socket closed."""
        if frame["type"] == "__closed__":
            self.closes[int(frame["code"])] += 1
            return False
        if frame.get("seq") is not None and frame.get("conversation") == self.cid:
            self.seqs.append(frame["seq"])
            self.cursor = max(self.cursor, frame["seq"])
        return True

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next frame, reconnecting first when the socket is gone; None on a quiet spell."""
        if self.ws is None:
            self.reconnects += 1
            self.connect()
        assert self.ws is not None
        try:
            frame = self.ws.receive(timeout)
        except AssertionError:
            return None
        if not self.take(frame, self.ws):
            self.ws.close()
            self.ws = None
        return frame

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None


def test_rolling_restart_loses_and_duplicates_nothing(
    live_stack: LiveStack,  # noqa: F811
    redis_server_binary: str,  # noqa: F811
    make_user: Any,
) -> None:
    redis = live_stack.start_redis(redis_server_binary)
    gunicorn = Gunicorn(
        live_stack,
        workers=2,
        REDIS_URL=redis.url,
        RATE_LIMITS_ENABLED="false",
        RATE_LIMIT_WS_COMMAND="10000/1",
        GRACEFUL_TIMEOUT=str(GRACEFUL_TIMEOUT),
    )
    members = [make_user(f"member{i}") for i in range(REST_SENDERS + SOCKET_SENDERS + LISTENERS)]
    group = conversation_create_group(creator=members[0], title="rolling", participant_ids=[u.pk for u in members])
    cid = group.pk
    stop = threading.Event()
    lock = threading.Lock()
    acked: dict[str, int] = {}
    failures: Counter[str] = Counter()
    refused: list[str] = []
    sockets: list[SocketClient] = []
    restarts: list[dict[str, Any]] = []

    def rest_sender(index: int) -> None:
        token = token_for(members[index])
        with httpx.Client(base_url=gunicorn.url, headers={"Authorization": f"Bearer {token}"}, timeout=15) as http:
            for n in itertools.count(1):
                if stop.is_set():
                    return
                key = f"rest{index}-{n}"
                while True:
                    try:
                        response = http.post(
                            f"/api/chat/conversations/{cid}/send_message/", json={"content": key, "client_id": key}
                        )
                    except httpx.HTTPError as exc:
                        with lock:
                            failures[type(exc).__name__] += 1
                        time.sleep(0.05)
                        continue
                    if response.status_code == 201:
                        with lock:
                            acked[key] = response.json()["id"]
                        break
                    with lock:
                        failures[str(response.status_code)] += 1
                        if response.status_code < 500:
                            refused.append(f"{key}: {response.status_code} {response.text[:200]}")
                    if response.status_code < 500:
                        break
                    time.sleep(0.05)

    def await_ack(client: SocketClient, key: str) -> str:
        """ "ack", "error", or "closed"/"timeout" (then the same client_id goes again)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            frame = client.receive(1)
            if client.ws is None:
                return "closed"
            if frame is not None and frame.get("ref") == key and frame["type"] in {"ack", "error"}:
                if frame["type"] == "ack":
                    with lock:
                        acked[key] = frame["message"]["id"]
                else:
                    with lock:
                        refused.append(f"{key}: {frame}")
                return str(frame["type"])
        return "timeout"

    def socket_sender(index: int) -> None:
        client = SocketClient(gunicorn.ws_url, token_for(members[index]), cid)
        sockets.append(client)
        for n in itertools.count(1):
            if stop.is_set():
                break
            key = f"ws{index}-{n}"
            while True:  # a send once started is finished, even after `stop`
                if client.ws is None:
                    client.receive(0.01)  # reconnects with since, replaying what it missed
                    continue
                try:
                    client.ws.send({"type": "message.send", "content": key, "client_id": key, "ref": key})
                except Exception:  # noqa: BLE001 - closed under us: reconnect and send again
                    client.ws.close()
                    client.ws = None
                    continue
                if await_ack(client, key) in {"ack", "error"}:
                    break
        client.close()

    def listener(index: int) -> None:
        client = SocketClient(gunicorn.ws_url, token_for(members[index]), cid)
        sockets.append(client)
        while not stop.is_set():
            client.receive(0.5)
        client.close()

    with gunicorn:
        threads = [threading.Thread(target=rest_sender, args=(i,), daemon=True) for i in range(REST_SENDERS)]
        threads += [
            threading.Thread(target=socket_sender, args=(REST_SENDERS + i,), daemon=True) for i in range(SOCKET_SENDERS)
        ]
        threads += [
            threading.Thread(target=listener, args=(REST_SENDERS + SOCKET_SENDERS + i,), daemon=True)
            for i in range(LISTENERS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(SETTLE_SECONDS)
        for _ in range(ROUNDS):
            for old in gunicorn.workers():
                before = len(acked)
                new, exited_after = gunicorn.restart_worker(old)
                restarts.append({"old": old, "new": new, "exited_after_s": round(exited_after, 2)})
                time.sleep(SETTLE_SECONDS)
                assert len(acked) > before, "no send was acknowledged across a restart"
        stop.set()
        for thread in threads:
            thread.join(60)
        assert not any(t.is_alive() for t in threads), "a client hung"
        log = gunicorn.log_text()

        # Every socket client catches up to the end, reconnecting if it must.
        last_seq = Conversation.objects.get(pk=cid).last_seq
        for client in sockets:
            deadline = time.monotonic() + 20
            while client.cursor < last_seq and time.monotonic() < deadline:
                client.receive(0.5)
            client.close()

    rows = list(Message.objects.filter(conversation_id=cid).values_list("client_id", "seq"))
    stored = Counter(key for key, _ in rows)
    lost = [key for key in acked if stored.get(key) != 1]
    duplicated = [key for key, count in stored.items() if count > 1]
    never_acknowledged = [key for key in stored if key not in acked]
    expected = list(range(1, last_seq + 1))
    behind = [c.base.split("?")[0] for c in sockets if sorted(set(c.seqs)) != expected]
    delivered_twice = sum(len(c.seqs) - len(set(c.seqs)) for c in sockets)
    out_of_order = sum(1 for c in sockets if c.seqs != sorted(c.seqs))
    closes = sum((c.closes for c in sockets), Counter())
    record(
        "rolling_restart",
        workers=2,
        restarts=len(restarts),
        restart_exits_s=[r["exited_after_s"] for r in restarts],
        graceful_timeout_s=GRACEFUL_TIMEOUT,
        sends_acknowledged=len(acked),
        client_failures=dict(failures),
        socket_closes_by_code={str(k): v for k, v in closes.items()},
        socket_reconnects=sum(c.reconnects for c in sockets),
        lost=len(lost),
        duplicated=len(duplicated),
        stored_but_never_acknowledged=len(never_acknowledged),
        socket_clients_behind=len(behind),
        frames_delivered_twice=delivered_twice,
        last_seq=last_seq,
    )
    assert refused == [], refused[:5]
    assert lost == [] and duplicated == [] and never_acknowledged == []
    assert behind == [] and delivered_twice == 0 and out_of_order == 0
    assert len(restarts) == 2 * ROUNDS
    assert all(r["exited_after_s"] < GRACEFUL_TIMEOUT for r in restarts), restarts
    assert closes[1012] >= 2 * ROUNDS and set(closes) <= {1012}, closes
    assert log.count("for shutdown (1012)") >= len(restarts)
