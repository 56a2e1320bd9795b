"""Production logs: one JSON object per line, a request id on each, and no secret ever.

A live server in production mode (PARLEY_ENV=production, JSON logs, at DEBUG level so
that even the chattiest logger is heard) runs the seed's whole workflow: register,
a failed and a good login, start a conversation, send and edit over REST, connect
sockets with `?token=`, send over the socket, refresh, logout, scrape /metrics. Then
every line it wrote is parsed, and searched for every secret the workflow used:
passwords, access and refresh tokens (and their signatures), message contents, the
metrics token, an API key, the server's own keys.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from django.conf import settings

from tests.livestack import LiveStack, WsClient, live_stack, redis_server_binary  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.standalone]


def secret(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex}"


def test_production_logs_are_json_with_request_ids_and_hold_no_secret(
    live_stack: LiveStack,  # noqa: F811
    redis_server_binary: str,  # noqa: F811
) -> None:
    redis = live_stack.start_redis(redis_server_binary)
    metrics_token = secret("metrics")
    server = live_stack.start_server(
        redis_url=redis.url,
        PARLEY_ENV="production",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="DEBUG",
        METRICS_TOKEN=metrics_token,
    )
    secrets: dict[str, str] = {
        "alice password": secret("pw-alice"),
        "bob password": secret("pw-bob"),
        "wrong password": secret("pw-wrong"),
        "sent content": secret("content-rest"),
        "edited content": secret("content-edit"),
        "socket content": secret("content-socket"),
        "bad json content": secret("content-badjson"),
        "api key": secret("apikey"),
        "metrics token": metrics_token,
        "SECRET_KEY": settings.SECRET_KEY,
        "JWT signing key": settings.SIMPLE_JWT["SIGNING_KEY"],
    }
    made_up = set(secrets) - {"SECRET_KEY", "JWT signing key"}  # each "<label>-<random hex>"
    http = httpx.Client(base_url=server.url, timeout=10)
    rid = f"scan-{uuid.uuid4().hex[:12]}"

    def call(method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"X-Request-ID": rid, **kwargs.pop("headers", {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return http.request(method, path, headers=headers, **kwargs)

    for name in ("alice", "bob"):
        response = call("POST", "/api/auth/register/", json={"username": name, "password": secrets[f"{name} password"]})
        assert response.status_code == 201, response.text
    refused = call("POST", "/api/auth/login/", json={"username": "alice", "password": secrets["wrong password"]})
    assert refused.status_code == 401
    tokens = {}
    for name in ("alice", "bob"):
        response = call("POST", "/api/auth/login/", json={"username": name, "password": secrets[f"{name} password"]})
        assert response.status_code == 200, response.text
        tokens[name] = response.json()
        secrets[f"{name} access"] = tokens[name]["access"]
        secrets[f"{name} refresh"] = tokens[name]["refresh"]
    alice = tokens["alice"]["access"]
    bob_id = call("GET", "/api/users/?search=bob", alice).json()[0]["id"]
    cid = call("POST", "/api/chat/conversations/start/", alice, json={"user2": bob_id}).json()["id"]

    send_path = f"/api/chat/conversations/{cid}/send_message/"
    sent = call("POST", send_path, alice, json={"content": secrets["sent content"]})
    assert sent.status_code == 201 and sent.headers["X-Request-ID"] == rid
    edit_path = f"/api/chat/messages/{sent.json()['id']}/edit_message/"
    edited = call("POST", edit_path, alice, json={"content": secrets["edited content"]})
    assert edited.status_code == 200
    bad = call(
        "POST",
        f"/api/chat/conversations/{cid}/send_message/",
        alice,
        content=b'{"content": "' + secrets["bad json content"].encode() + b'"',
        headers={"Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    assert call("GET", "/api/auth/me/", headers={"Authorization": f"Api-Key {secrets['api key']}"}).status_code == 401
    generated = call("GET", "/api/auth/me/", alice, headers={"X-Request-ID": 'bad id {"json": 1}'})
    assert generated.status_code == 200 and len(generated.headers["X-Request-ID"]) == 32  # replaced, not echoed

    socket_rid = f"sock-{uuid.uuid4().hex[:12]}"
    bob_socket = live_stack.track(WsClient(f"{server.ws_url}/ws/chat/?token={tokens['bob']['access']}"))
    bob_socket.open()
    alice_socket = live_stack.track(
        WsClient(f"{server.ws_url}/ws/chat/{cid}/?token={alice}&since=0", headers={"X-Request-ID": socket_rid})
    )
    assert alice_socket.ws.response.headers["X-Request-ID"] == socket_rid
    alice_socket.open()
    # Content first: a frame dump that cuts long frames would still show it.
    alice_socket.send({"content": secrets["socket content"], "type": "message.send", "client_id": "c1", "ref": 1})
    assert alice_socket.receive_until("ack")["message"]["content"] == secrets["socket content"]
    assert bob_socket.receive_until("message.created")["message"]["content"] == secrets["socket content"]
    bad_socket = live_stack.track(WsClient(f"{server.ws_url}/ws/chat/?token={alice}x"))
    assert bad_socket.closed_with() == 4401

    refreshed = call("POST", "/api/auth/refresh/", json={"refresh": tokens["alice"]["refresh"]})
    assert refreshed.status_code == 200, refreshed.text
    secrets["alice access 2"] = refreshed.json()["access"]
    secrets["alice refresh 2"] = refreshed.json()["refresh"]
    logout = call("POST", "/api/auth/logout/", secrets["alice access 2"], json={"refresh": secrets["alice refresh 2"]})
    assert logout.status_code in (200, 204), logout.text
    assert alice_socket.closed_with(timeout=5) == 4401
    scraped = call("GET", "/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    assert scraped.status_code == 200
    bob_socket.close()
    http.close()
    server.stop()  # flushes its output

    for key in [k for k in secrets if "access" in k or "refresh" in k]:
        secrets[f"{key} signature"] = secrets[key].rsplit(".", 1)[-1]
    lines = [line for line in server.log_text().splitlines() if line.strip()]
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a log line is not JSON: {line[:300]}")
    log = "\n".join(lines)
    # A made-up secret also must not appear cut short (frame dumps truncate): its
    # random part's first 12 characters are enough to tell.
    needles = {label: value.rsplit("-", 1)[1][:12] if label in made_up else value for label, value in secrets.items()}
    leaked = {label: [ln[:300] for ln in lines if value in ln] for label, value in needles.items() if value in log}
    assert leaked == {}, json.dumps(leaked, indent=1)

    access = [e for e in events if e["logger"] == "parley.access"]
    assert any(e["route"] == "/api/chat/conversations/<pk>/send_message/" and e["request_id"] == rid for e in access)
    assert all(e["request_id"] for e in access)
    assert not any("?" in e["path"] for e in access)
    socket_events = [e for e in events if e.get("request_id") == socket_rid]
    assert {e["message"].split(" ")[1] for e in socket_events if e["logger"] == "parley.socket"} >= {"opened", "closed"}
    assert any(e["logger"] == "parley.socket" and e.get("close_code") == 4401 for e in socket_events)
    # The socket's own log lines (here the token's end) carry the handshake's request id.
    assert len({e["request_id"] for e in events if e["logger"] == "parley.socket"}) >= 3
