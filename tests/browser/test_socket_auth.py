"""The client's socket authenticates with an `auth` frame: no token is ever in a URL,
neither on the first connect nor on a reconnect after the server went away."""

from __future__ import annotations

import json
from typing import Any

from tests.browser.conftest import LiveServer, expect, unique


def test_socket_token_travels_in_the_auth_frame_only(ui, own_server: LiveServer) -> None:
    alice = ui(unique("alice"), server=own_server)
    sockets: list[dict[str, Any]] = []

    def opened(ws: Any) -> None:
        entry: dict[str, Any] = {"url": ws.url, "sent": []}
        ws.on("framesent", lambda payload: entry["sent"].append(payload))
        sockets.append(entry)

    alice.page.on("websocket", opened)
    alice.login_with_api()
    pair = json.loads(alice.page.evaluate("() => localStorage.getItem('parley.tokens')"))

    # A restart makes the client reconnect (with its cursors in `since`).
    own_server.restart()
    expect(alice.page.locator("#connection")).to_have_attribute("data-state", "open", timeout=30_000)
    for entry in sockets:  # attempts while the server was down never opened
        assert "/ws/chat/" in entry["url"]
        assert "token" not in entry["url"], entry["url"]
        assert pair["access"] not in entry["url"] and pair["refresh"] not in entry["url"]
    opened_sockets = [entry for entry in sockets if entry["sent"]]
    assert len(opened_sockets) >= 2, sockets
    for entry in opened_sockets:
        first = json.loads(entry["sent"][0])
        assert first["type"] == "auth" and first["token"].count(".") == 2, first
    # The reconnect carried the cursors, so catch-up still works without the token in the URL.
    assert "since=" in opened_sockets[-1]["url"]
    alice.assert_no_errors("ERR_CONNECTION_REFUSED")  # while the server restarted
