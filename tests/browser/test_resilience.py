"""The client survives a server restart and a network drop, and catches up by `seq`
without gaps or duplicates."""

from __future__ import annotations

import re

from tests.browser.conftest import UI, LiveServer, expect, unique

NOT_OPEN = re.compile(r"^(connecting|waiting|offline)$")


def message_ids(person: UI) -> list[str]:
    return person.page.eval_on_selector_all(".message[data-id]", "els => els.map(e => e.dataset.id)")


def test_restart_and_network_drop(ui, own_server: LiveServer) -> None:
    alice_name, bob_name = unique("alice"), unique("bob")
    alice = ui(alice_name, server=own_server).register()
    bob = ui(bob_name, server=own_server).register()
    alice.start_direct(bob_name)
    alice.send("before the restart")
    bob.open_conversation(alice_name)
    expect(bob.message("before the restart")).to_be_visible()

    # The server goes away: both pages say so, and a message written meanwhile waits.
    own_server.stop()
    for person in (alice, bob):
        expect(person.page.locator("#connection")).to_have_attribute("data-state", NOT_OPEN)
    alice.send("written while the server was down")
    pending = alice.page.locator(".message.pending", has_text="written while the server was down")
    expect(pending).to_have_attribute("data-status", "queued")
    alice.screenshot("05-reconnecting")

    # It comes back (same database): both pages reconnect by themselves, the waiting
    # message goes out exactly once, and live delivery works again both ways.
    own_server.start()
    alice.expect_connected()
    bob.expect_connected()
    expect(bob.message("written while the server was down")).to_have_count(1)
    expect(alice.message("written while the server was down")).to_have_count(1)
    expect(pending).to_have_count(0)
    bob.send("after the restart")
    expect(alice.message("after the restart")).to_have_count(1)

    # Alice's network drops. Bob writes, edits and deletes meanwhile; when Alice is back
    # her socket replays exactly what she missed, from her cursors.
    alice.page.context.set_offline(True)
    expect(alice.page.locator("#connection")).to_have_attribute("data-state", "offline")
    for text in ("missed one", "missed two", "missed three"):
        bob.send(text)
        expect(bob.message(text)).to_have_count(1)
    edited = bob.message("missed two")
    edited.hover()
    edited.get_by_role("button", name="Edit message").click()
    bob.page.get_by_label("New text of the message").fill("missed two, edited")
    bob.page.get_by_label("New text of the message").press("Enter")
    expect(bob.message("missed two, edited")).to_have_count(1)
    deleted = bob.message("missed three")
    deleted.hover()
    deleted.get_by_role("button", name="Delete message").click()
    bob.page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(bob.message("missed three")).to_have_count(0)

    alice.page.context.set_offline(False)
    alice.expect_connected()
    expect(alice.message("missed one")).to_have_count(1)
    expect(alice.message("missed two, edited")).to_have_count(1)
    expect(alice.message("missed three")).to_have_count(0)
    # The deleted one left its placeholder on both sides, replayed for Alice.
    expect(alice.page.locator(".message.deleted")).to_have_count(1)
    expect(alice.page.locator(".message")).to_have_count(6)
    ids = message_ids(alice)
    assert len(ids) == len(set(ids)) == 6
    assert ids == message_ids(bob)
    # Bob's messages were read when they arrived in Alice's open conversation.
    expect(bob.message("missed one")).to_have_attribute("data-status", "read")

    alice.assert_no_errors("WebSocket", "ERR_CONNECTION_REFUSED", "ERR_INTERNET_DISCONNECTED")
    bob.assert_no_errors("WebSocket", "ERR_CONNECTION_REFUSED")
