"""Long histories open at the newest message and load older pages on scroll (keyset);
the phone layout shows the list or the conversation, and the keyboard drives both."""

from __future__ import annotations

from tests.browser.conftest import expect, unique

PHONE = {"viewport": {"width": 390, "height": 800}, "is_mobile": True, "has_touch": True}


def test_scroll_back_through_history(ui, parley_server) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob = parley_server.register(unique("bob"))
    with parley_server.api(bob["access"]) as client:
        conversation = client.post("/api/chat/conversations/start/", json={"user2": alice.user_id}).json()
        url = f"/api/chat/conversations/{conversation['id']}/send_message/"
        for n in range(1, 121):
            assert client.post(url, json={"content": f"message {n}"}).status_code == 201

    alice.open_conversation(bob["username"])
    messages = alice.page.locator(".message")
    expect(messages).to_have_count(50)
    expect(alice.message("message 120")).to_be_in_viewport()
    expect(alice.message("message 71")).to_have_count(1)
    expect(alice.message("message 70")).to_have_count(0)

    scroller = alice.page.locator("#messages")
    scroller.evaluate("el => { el.scrollTop = 0; }")
    expect(messages).to_have_count(100)
    # The page grew above the reader, who stays where they were.
    expect(alice.message("message 71")).to_be_in_viewport()
    scroller.evaluate("el => { el.scrollTop = 0; }")
    expect(messages).to_have_count(120)
    expect(alice.page.locator("#history-top")).to_have_text("This is the beginning of the conversation.")
    ids = alice.page.eval_on_selector_all(".message[data-id]", "els => els.map(e => Number(e.dataset.id))")
    assert ids == sorted(ids) and len(set(ids)) == 120
    # Reading the newest clears the badge for good.
    alice.page.reload()
    alice.expect_connected()
    expect(alice.page.locator(".conversation .badge")).to_have_count(0)
    alice.assert_no_errors()


def test_phone_layout_and_keyboard(ui, parley_server) -> None:
    alice = ui(unique("alice"), **PHONE).login_with_api()
    bob = parley_server.register(unique("bob"))
    with parley_server.api(bob["access"]) as client:
        conversation = client.post("/api/chat/conversations/start/", json={"user2": alice.user_id}).json()
        url = f"/api/chat/conversations/{conversation['id']}/send_message/"
        client.post(url, json={"content": "Are we still on for lunch?"})
    page = alice.page

    # One column: the list, then the conversation with a way back.
    expect(page.locator(".conversation .badge")).to_have_text("1")
    alice.screenshot("09-phone-list")
    page.locator(".conversation").first.click()
    expect(page.locator(".sidebar")).to_be_hidden()
    expect(alice.message("Are we still on for lunch?")).to_be_visible()
    composer = page.get_by_label("Message", exact=True)
    composer.fill("Yes, 12:30 at the usual place")
    composer.press("Enter")
    expect(alice.message("Yes, 12:30")).to_have_attribute("data-status", "sent")
    alice.screenshot("10-phone-conversation")

    # Keyboard: Up in an empty composer edits the last own message, Esc cancels,
    # Enter saves.
    composer.press("ArrowUp")
    editor = page.get_by_label("New text of the message")
    expect(editor).to_be_focused()
    editor.press("Escape")
    expect(editor).to_have_count(0)
    composer.focus()
    composer.press("ArrowUp")
    editor.fill("Yes, 13:00 at the usual place")
    editor.press("Enter")
    expect(alice.message("Yes, 13:00")).to_contain_text("edited")

    page.get_by_role("button", name="Back to conversations").click()
    expect(page.locator(".sidebar")).to_be_visible()
    expect(page.locator(".conversation").first).to_contain_text("You: Yes, 13:00")

    # The dialogs work from the keyboard too: Esc closes them.
    page.get_by_role("button", name="New chat").click()
    expect(page.get_by_label("Find a person by username")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    alice.assert_no_errors()
