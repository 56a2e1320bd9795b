"""Redis stopped for 10 s in the middle of a run of sends: nothing lost, nothing twice.

A real server on a private `redis-server` (never the shared one). While alice sends
over REST (one message every 100 ms) and over her WebSocket (one every 200 ms, each
with a client_id, resent with the same client_id after a reconnect), Redis is stopped
for 10 s and started again. Bob keeps an idle user socket open the whole time, and a
second bob socket behaves like docs/websocket.md's client: on an abnormal close it
reconnects with `since` = its cursor.

Promises: every REST send answers 201 and every WebSocket send is acknowledged; the
database holds each client_id exactly once (0 lost, 0 duplicated); each of bob's
sockets ends with every message exactly once and in `seq` order.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from parley.models import Message
from parley.services.conversations import conversation_start_direct
from tests.figures import record
from tests.livestack import LiveServer, LiveStack, live_stack, redis_server_binary  # noqa: F401
from tests.ws import token_for

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

BEFORE, OUTAGE, AFTER = 3.0, 10.0, 3.0
FAST_RESYNC = {"CHAT_WS_HEARTBEAT_SECONDS": "0.5", "CHAT_WS_RESYNC_SECONDS": "1"}


class Follower(threading.Thread):
    """A socket of `token` on the user route that keeps a cursor for `cid`; with
    `reconnect`, it reopens after an abnormal close with `since` = the cursor."""

    def __init__(self, server: LiveServer, token: str, cid: int, *, reconnect: bool) -> None:
        super().__init__(daemon=True)
        self.server, self.token, self.cid, self.reconnect = server, token, cid, reconnect
        self.cursor = 0
        self.message_ids: list[int] = []
        self.duplicates = 0
        self.gaps: list[tuple[int, int]] = []
        self.reconnects = 0
        self.closes: list[int] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                client = self.server.socket(self.token, since={self.cid: self.cursor})
            except Exception:  # noqa: BLE001 - the server refused for a moment; retry as a client would
                time.sleep(0.2)
                continue
            while not self.halt.is_set():
                try:
                    frame = client.receive(0.5)
                except AssertionError:  # nothing within 0.5 s
                    continue
                if frame["type"] == "__closed__":
                    self.closes.append(frame["code"])
                    break
                if frame.get("conversation") != self.cid or "seq" not in frame:
                    continue
                seq = frame["seq"]
                if seq <= self.cursor:
                    self.duplicates += 1
                    continue
                if seq != self.cursor + 1:
                    self.gaps.append((self.cursor, seq))
                self.cursor = seq
                if frame["type"] == "message.created":
                    self.message_ids.append(frame["message"]["id"])
            client.close()
            if not self.reconnect or self.halt.is_set():
                return
            self.reconnects += 1
            time.sleep(0.2)


class WsSender(threading.Thread):
    """Alice's socket: sends with client_ids, resending unacknowledged ones after a reconnect."""

    def __init__(self, server: LiveServer, token: str, cid: int, until: float) -> None:
        super().__init__(daemon=True)
        self.server, self.token, self.cid, self.until = server, token, cid, until
        self.acked: set[str] = set()
        self.resent = 0
        self.reconnects = 0

    def run(self) -> None:
        n = 0
        pending: str | None = None
        while time.monotonic() < self.until or pending is not None:
            try:
                client = self.server.socket(self.token, self.cid)
                client.open()
            except Exception:  # noqa: BLE001 - closed while opening: retry
                self.reconnects += 1
                time.sleep(0.2)
                continue
            while time.monotonic() < self.until or pending is not None:
                if pending is None:
                    n += 1
                    pending = f"ws-{n}"
                else:
                    self.resent += 1
                client.send({"type": "message.send", "content": pending, "client_id": pending, "ref": pending})
                try:
                    reply = client.receive_until(lambda f, p=pending: f.get("ref") == p, timeout=5)
                except AssertionError:
                    self.reconnects += 1
                    break
                if reply["type"] == "ack":
                    self.acked.add(pending)
                    pending = None
                time.sleep(0.2)
            client.close()


def test_redis_outage_during_sends_loses_and_duplicates_nothing(
    live_stack: LiveStack,  # noqa: F811
    redis_server_binary: str,  # noqa: F811
    make_user: Any,
) -> None:
    redis = live_stack.start_redis(redis_server_binary)
    server = live_stack.start_server(redis_url=redis.url, RATE_LIMITS_ENABLED="false", **FAST_RESYNC)
    alice, bob = make_user("alice"), make_user("bob")
    conversation, _ = conversation_start_direct(user=alice, other_user_id=bob.pk)
    cid = conversation.pk
    idle = Follower(server, token_for(bob), cid, reconnect=False)
    reconnecting = Follower(server, token_for(bob), cid, reconnect=True)
    idle.start()
    reconnecting.start()
    time.sleep(1)
    started = time.monotonic()
    total = BEFORE + OUTAGE + AFTER
    ws_sender = WsSender(server, token_for(alice), cid, until=started + total)
    ws_sender.start()

    rest_status: dict[str, int] = {}
    outage = {"stopped_at": 0.0, "started_at": 0.0}

    def fault() -> None:
        time.sleep(BEFORE)
        redis.stop()
        outage["stopped_at"] = time.monotonic() - started
        time.sleep(OUTAGE)
        redis.start()
        outage["started_at"] = time.monotonic() - started

    faulter = threading.Thread(target=fault, daemon=True)
    faulter.start()
    slow_sends = 0
    with server.api(token_for(alice)) as client:
        n = 0
        while time.monotonic() - started < total:
            n += 1
            key = f"rest-{n}"
            begun = time.monotonic()
            response = client.post(
                f"/api/chat/conversations/{cid}/send_message/", json={"content": key, "client_id": key}
            )
            slow_sends += time.monotonic() - begun > 2
            rest_status[key] = response.status_code
            time.sleep(0.1)
    faulter.join(30)
    ws_sender.join(60)
    assert not ws_sender.is_alive(), "the WebSocket sender hung"

    rows = list(Message.objects.filter(conversation_id=cid).order_by("seq").values_list("id", "client_id"))
    expected_ids = [message_id for message_id, _ in rows]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (
        idle.message_ids != expected_ids or reconnecting.message_ids != expected_ids
    ):
        time.sleep(0.2)
    for follower in (idle, reconnecting):
        follower.halt.set()
        follower.join(10)

    client_ids = [key for _, key in rows]
    acknowledged = {k for k, status in rest_status.items() if status == 201} | ws_sender.acked
    lost = acknowledged - set(client_ids)
    duplicated = len(client_ids) - len(set(client_ids))
    record(
        "fault_redis",
        outage_seconds=OUTAGE,
        outage_window=[round(outage["stopped_at"], 1), round(outage["started_at"], 1)],
        rest_sends=len(rest_status),
        rest_not_201=sum(1 for s in rest_status.values() if s != 201),
        rest_sends_over_2s=slow_sends,
        ws_sends_acked=len(ws_sender.acked),
        ws_resent_after_reconnect=ws_sender.resent,
        rows=len(rows),
        lost=len(lost),
        duplicated_rows=duplicated,
        idle_socket={
            "messages": len(idle.message_ids),
            "exact": idle.message_ids == expected_ids,
            "duplicates": idle.duplicates,
            "closed": idle.closes,
        },
        reconnecting_socket={
            "messages": len(reconnecting.message_ids),
            "exact": reconnecting.message_ids == expected_ids,
            "duplicates": reconnecting.duplicates,
            "reconnects": reconnecting.reconnects,
        },
    )
    assert all(status == 201 for status in rest_status.values()), rest_status
    assert lost == set() and duplicated == 0
    assert set(client_ids) == acknowledged  # nothing stored that was not acknowledged, either
    assert reconnecting.message_ids == expected_ids and reconnecting.duplicates == 0
    # The idle socket survives (degraded to polling) or, having closed, was a socket a
    # client would reopen: then the reconnecting follower above is its continuation.
    if not idle.closes:
        assert idle.message_ids == expected_ids and idle.duplicates == 0
    else:
        assert all(code not in (4401, 4403, 4404) for code in idle.closes), idle.closes
