"""The conversation's own settings: pin to the top of the list, mute (with an expiry),
notification level, archive; saved on the server, and followed by the user's other
tab through `conversation.updated`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.browser.conftest import expect, unique


def test_pin_mute_level_archive(ui, parley_server) -> None:
    alice = ui(unique("alice")).login_with_api()
    friends = [parley_server.register(unique(name)) for name in ("bob", "carol")]
    ids = {}
    for friend in friends:  # carol writes last, so she is on top
        with parley_server.api(friend["access"]) as client:
            conv = client.post("/api/chat/conversations/start/", json={"user2": alice.user_id}).json()
            client.post(f"/api/chat/conversations/{conv['id']}/send_message/", json={"content": "hi"})
            ids[friend["username"]] = conv["id"]
    bob, carol = (f["username"] for f in friends)
    page = alice.page
    names = page.locator(".conversation .conversation-name")
    expect(names).to_have_text([carol, bob])
    # A second tab of the same user follows every change.
    other = ui(alice.username)
    other.page.evaluate(
        "pair => localStorage.setItem('parley.tokens', pair)",
        page.evaluate("() => localStorage.getItem('parley.tokens')"),
    )
    other.page.reload()
    other.expect_connected()

    alice.open_conversation(bob)
    page.get_by_role("button", name="Conversation settings").click()
    menu = page.get_by_role("dialog", name="Conversation settings")

    # Pin to top: Bob's chat goes first, here and in the other tab.
    menu.get_by_label("Pin to the top of the list").check()
    expect(names).to_have_text([bob, carol])
    expect(other.page.locator(".conversation .conversation-name")).to_have_text([bob, carol])
    expect(page.locator(".conversation", has_text=bob).get_by_role("img", name="Pinned")).to_be_visible()

    # Mute for 8 hours: the menu says until when, the list and the header show it.
    menu.get_by_label("Mute for").select_option(label="For 8 hours")
    expect(menu.locator("#mute-state")).to_contain_text("Muted until")
    expect(page.locator(".conversation", has_text=bob).get_by_role("img", name="Muted")).to_be_visible()
    expect(other.page.locator(".conversation", has_text=bob).get_by_role("img", name="Muted")).to_be_visible()
    expect(page.locator("#conversation-settings")).to_have_attribute("data-muted", "true")

    # Notification level.
    menu.get_by_label("Only when I am mentioned").check()
    alice.screenshot("21-conversation-settings")
    with parley_server.api(alice.access) as client:
        state = client.get(f"/api/chat/conversations/{ids[bob]}/").json()
    assert state["pinned"] is True and state["muted"] is True and state["notification_level"] == "mentions"
    until = datetime.fromisoformat(state["muted_until"].replace("Z", "+00:00"))
    assert timedelta(hours=7, minutes=55) < until - datetime.now(UTC) <= timedelta(hours=8)

    # Unmute; then archive: the chat leaves the list, and comes back with "Show archived".
    menu.get_by_role("button", name="Unmute").click()
    expect(menu.locator("#mute-state")).to_have_text("Not muted.")
    expect(page.locator(".conversation", has_text=bob).get_by_role("img", name="Muted")).to_have_count(0)
    menu.get_by_label("Archive (hide from the list)").check()
    expect(names).to_have_text([carol])
    expect(other.page.locator(".conversation .conversation-name")).to_have_text([carol])
    page.keyboard.press("Escape")

    page.reload()
    alice.expect_connected()
    expect(names).to_have_text([carol])
    page.get_by_role("button", name="Show archived conversations").click()
    expect(names).to_have_text([bob, carol])
    alice.open_conversation(bob)
    page.get_by_role("button", name="Conversation settings").click()
    expect(menu.get_by_label("Archive (hide from the list)")).to_be_checked()
    expect(menu.get_by_label("Only when I am mentioned")).to_be_checked()
    menu.get_by_label("Archive (hide from the list)").uncheck()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Hide archived conversations").click()
    expect(names).to_have_text([bob, carol])
    alice.assert_no_errors()
    other.assert_no_errors()
