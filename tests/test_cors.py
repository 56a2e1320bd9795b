"""CORS (SPEC section 9): a front end on a listed origin calls the REST API, preflight
included, and opens sockets; any other origin gets no CORS headers and socket 4403.

Through the real ASGI app; tests/browser/test_cors.py does the same from Chromium.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from parley.services.conversations import conversation_start_direct
from tests.conftest import Api, body
from tests.ws import Socket, atoken_for

ROOT = Path(__file__).resolve().parents[1]
FRONT_END = "https://app.example.com"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


@pytest.fixture(autouse=True)
def _front_end_listed(settings):
    settings.CORS_ALLOWED_ORIGINS = [FRONT_END]


def preflight(path: str, origin: str) -> tuple[int, dict[str, str]]:
    response = Api().request("OPTIONS", path, headers={"Origin": origin, **PREFLIGHT})
    return response.status_code, {k.lower(): v for k, v in response.headers.items()}


@pytest.mark.parametrize("path", ["/api/auth/login/", "/api/chat/conversations/1/send_message/", "/api/users/"])
def test_a_preflight_from_a_listed_origin_is_allowed(db, path):
    status, headers = preflight(path, FRONT_END)
    assert status == 200
    assert headers["access-control-allow-origin"] == FRONT_END
    allowed_headers = {h.strip() for h in headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    assert "POST" in headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in headers  # bearer tokens, never cookies
    assert "origin" in headers["vary"].lower()


@pytest.mark.parametrize("origin", ["https://evil.example", "http://app.example.com", "https://app.example.com:8443"])
def test_a_preflight_from_any_other_origin_gets_no_cors_headers(db, origin):
    status, headers = preflight("/api/auth/login/", origin)
    assert status < 500
    assert not [h for h in headers if h.startswith("access-control-")], headers


def test_a_listed_origin_reads_responses_and_their_headers(alice, api):
    client = api(alice)
    ok = client.get("/api/auth/me/", headers={"Origin": FRONT_END})
    assert body(ok)["username"] == "alice"
    assert ok.headers["access-control-allow-origin"] == FRONT_END
    exposed = {h.strip().lower() for h in ok.headers["access-control-expose-headers"].split(",")}
    assert {"link", "retry-after"} <= exposed
    # Errors too: a browser can only show the JSON reason of a response it may read.
    refused = Api("not-a-jwt").get("/api/auth/me/", headers={"Origin": FRONT_END})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == FRONT_END
    foreign = client.get("/api/auth/me/", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers


def test_cors_is_for_the_api_only(db):
    response = Api().get("/", headers={"Origin": FRONT_END})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "value",
    ["app.example.com", "https://app.example.com/path", "ftp://app.example.com", "https://app:port", "*"],
)
def test_a_malformed_cors_origin_stops_the_server_from_starting(value):
    env = {**os.environ, "CORS_ALLOWED_ORIGINS": value, "DJANGO_SETTINGS_MODULE": "server.settings"}
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode != 0
    assert "CORS_ALLOWED_ORIGINS" in run.stderr and "is not an origin" in run.stderr


# --- WebSocket Origin ----------------------------------------------------------------------------------


async def socket_from(origin: str, user, other) -> Socket:
    conversation, _ = await database_sync_to_async(conversation_start_direct)(user=user, other_user_id=other.pk)
    return Socket.for_user(await atoken_for(user), conversation.pk, headers=[(b"origin", origin.encode())])


@pytest.mark.django_db(transaction=True)
async def test_a_socket_opens_from_a_cors_origin(alice, bob):
    sock = await socket_from(FRONT_END, alice, bob)
    assert (await sock.open())["type"] == "ready"
    await sock.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("origin", ["https://evil.example", "http://app.example.com", "https://app.example.com.evil"])
async def test_a_socket_from_another_origin_closes_4403(alice, bob, origin):
    sock = await socket_from(origin, alice, bob)
    assert await sock.connect()
    assert await sock.closed_with() == 4403


@pytest.mark.django_db(transaction=True)
async def test_an_explicit_ws_origin_list_wins_over_cors(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "WS_ALLOWED_ORIGINS": ["https://chat.example.com"]}
    refused = await socket_from(FRONT_END, alice, bob)
    assert await refused.connect()
    assert await refused.closed_with() == 4403
    listed = await socket_from("https://chat.example.com", alice, bob)
    assert (await listed.open())["type"] == "ready"
    await listed.close()
