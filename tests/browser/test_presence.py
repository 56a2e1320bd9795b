"""Presence in the web client: who is online comes in the socket's `ready` frame
(`online`), so a person already connected when you arrive shows as online at once."""

from __future__ import annotations

from tests.browser.conftest import expect, unique


def test_someone_connected_before_you_shows_as_online(ui, parley_server) -> None:
    bob = ui(unique("bob")).login_with_api()
    alice_name = unique("alice")
    alice_pair = parley_server.register(alice_name)
    with parley_server.api(bob.access) as client:
        started = client.post("/api/chat/conversations/start/", json={"user2": alice_pair["id"]})
        assert started.status_code in (200, 201), started.text

    # Bob's "online" went out before Alice had a socket: only her `ready` can tell her.
    alice = ui(alice_name)
    alice.page.evaluate(
        "pair => localStorage.setItem('parley.tokens', JSON.stringify(pair))",
        {"access": alice_pair["access"], "refresh": alice_pair["refresh"]},
    )
    alice.page.reload()
    alice.expect_connected()
    alice.open_conversation(bob.username)
    expect(alice.page.locator("#conversation-subtitle")).to_have_text("Online")
    expect(alice.page.locator('.conversation[data-kind="direct"]', has_text=bob.username)).to_have_count(1)
    alice.assert_no_errors()
