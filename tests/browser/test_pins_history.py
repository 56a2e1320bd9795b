"""Pins and edit history: either side of a direct chat pins a message (a mark in the
bubble, live on both sides), the header's list shows the pinned messages and goes to
one; "edited" opens the message's earlier versions. In a group only admins may pin."""

from __future__ import annotations

from tests.browser.conftest import expect, unique


def test_pins_and_edit_history(ui, parley_server) -> None:
    alice_name, bob_name = unique("alice"), unique("bob")
    alice = ui(alice_name).register()
    bob = ui(bob_name).register()
    alice.start_direct(bob_name)
    for text in ("The door code is 4711", "Bring a towel"):
        alice.send(text)
        expect(alice.message(text)).to_have_attribute("data-status", "sent")
    bob.open_conversation(alice_name)
    code = bob.message("The door code is 4711")
    expect(code).to_be_visible()

    # Bob pins it; both see the mark; the list has it.
    code.hover()
    code.get_by_role("button", name="Pin message").click()
    expect(code.get_by_role("img", name="Pinned")).to_be_visible()
    expect(alice.message("The door code is 4711").get_by_role("img", name="Pinned")).to_be_visible()
    alice.page.get_by_role("button", name="Pinned messages").click()
    pinned = alice.page.locator("#pinned-list .listed-message")
    expect(pinned).to_have_count(1)
    expect(pinned.locator(".text")).to_have_text("The door code is 4711")
    alice.screenshot("19-pinned-messages")
    # The list follows a pin made meanwhile by the other side.
    towel = bob.message("Bring a towel")
    towel.hover()
    towel.get_by_role("button", name="Pin message").click()
    expect(pinned).to_have_count(2)
    expect(pinned.first.locator(".text")).to_have_text("Bring a towel")  # the latest pin first
    # "Show" closes the list and goes to the message.
    pinned.nth(1).get_by_role("button", name="Show").click()
    expect(alice.page.get_by_role("dialog")).to_have_count(0)
    expect(alice.message("The door code is 4711")).to_have_class("message mine flash")
    # Unpin from the list.
    alice.page.get_by_role("button", name="Pinned messages").click()
    pinned.first.get_by_role("button", name="Unpin this message").click()
    expect(pinned).to_have_count(1)
    alice.page.keyboard.press("Escape")
    expect(bob.message("Bring a towel").get_by_role("img", name="Pinned")).to_have_count(0)

    # Alice edits twice; "edited" opens the versions, oldest first.
    for new_text in ("The door code is 4712", "The door code is 4713"):
        mine = alice.page.locator(".message.mine", has_text="The door code")
        mine.hover()
        mine.get_by_role("button", name="Edit message").click()
        editor = alice.page.get_by_label("New text of the message")
        editor.fill(new_text)
        editor.press("Enter")
        expect(bob.message(new_text)).to_be_visible()
    bob.message("The door code is 4713").get_by_role("button", name="Edited. Show the edit history").click()
    versions = bob.page.locator("#edit-history .history-version")
    expect(versions.locator(".text")).to_have_text(
        ["The door code is 4711", "The door code is 4712", "The door code is 4713"]
    )
    expect(versions.locator(".listed-sender")).to_have_text(["Original", "Edit 1", "Now"])
    expect(bob.page.get_by_role("dialog").get_by_role("status")).to_have_text("Edited 2 times.")
    bob.screenshot("20-edit-history")
    bob.page.keyboard.press("Escape")
    alice.assert_no_errors()
    bob.assert_no_errors()


def test_only_admins_pin_in_a_group(ui, parley_server) -> None:
    bob = ui(unique("bob")).login_with_api()
    alice = parley_server.register(unique("alice"))
    with parley_server.api(alice["access"]) as client:
        group = client.post("/api/chat/conversations/", json={"title": "Club", "participants": [bob.user_id]}).json()
        client.post(f"/api/chat/conversations/{group['id']}/send_message/", json={"content": "Meeting moved"})
    expect(bob.page.locator(".conversation", has_text="Club")).to_be_visible()
    bob.open_conversation("Club")
    message = bob.message("Meeting moved")
    message.hover()
    expect(message.get_by_role("button", name="Reply", exact=True)).to_be_visible()
    expect(message.get_by_role("button", name="Pin message")).to_have_count(0)
    bob.assert_no_errors()
