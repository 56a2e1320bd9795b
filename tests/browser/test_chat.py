"""Two people chat in two browsers, through the web client only."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.browser.conftest import UI, LiveServer, Route, expect, unique

# A 2x2 PNG: the server sniffs the type from these bytes and serves it inline.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
    "0000001049444154789c63f8cf0004ff192014001bf203fdd696f22b0000000049454e44ae426082"
)


def test_two_people_chat_end_to_end(ui, parley_server: LiveServer) -> None:
    alice_name, bob_name = unique("alice"), unique("bob")
    alice = ui(alice_name).register()
    bob = ui(bob_name).register()
    alice.screenshot("01-empty-list")

    # Alice finds Bob by username and writes; Bob's list shows the conversation by itself.
    alice.start_direct(bob_name)
    alice.send("Hello Bob! 👋")
    expect(alice.message("Hello Bob!")).to_have_attribute("data-status", "sent")
    bob_item = bob.page.locator(".conversation", has_text=alice_name)
    expect(bob_item).to_contain_text("Hello Bob! 👋")
    expect(bob_item.locator(".badge")).to_have_text("1")
    expect(bob.page).to_have_title("(1) Parley")

    # Bob opens it: the badge goes, and Alice's tick turns to "read".
    bob.open_conversation(alice_name)
    expect(bob.message("Hello Bob!")).to_be_visible()
    expect(bob_item.locator(".badge")).to_have_count(0)
    expect(alice.message("Hello Bob!")).to_have_attribute("data-status", "read")
    expect(alice.message("Hello Bob!").get_by_role("img", name="Read")).to_be_visible()

    # Typing shows on the other side and ends with the message.
    composer = bob.page.get_by_label("Message", exact=True)
    composer.press_sequentially("Hi Alice")
    expect(alice.page.locator("#typing")).to_have_text(f"{bob_name} is typing…")
    composer.press("Shift+Enter")
    composer.press_sequentially("second line")
    composer.press("Enter")
    expect(alice.message("Hi Alice")).to_have_count(1)
    expect(alice.message("Hi Alice").locator(".text")).to_have_text("Hi Alice\nsecond line")
    expect(alice.page.locator("#typing")).to_have_text("")
    expect(alice.page.locator("#announcer")).to_have_text(f"{bob_name}: Hi Alice\nsecond line")
    expect(bob.message("Hi Alice")).to_have_attribute("data-status", "read")

    # Alice edits her message; Bob sees the new text, marked as edited.
    first = alice.message("Hello Bob!")
    first.hover()
    first.get_by_role("button", name="Edit message").click()
    editor = alice.page.get_by_label("New text of the message")
    editor.fill("Hello Bob, edited")
    editor.press("Enter")
    expect(bob.message("Hello Bob, edited")).to_contain_text("edited")
    expect(alice.message("Hello Bob, edited")).to_have_count(1)

    # ... and deletes one: it disappears on both sides.
    alice.send("This one will vanish")
    expect(bob.message("This one will vanish")).to_be_visible()
    doomed = alice.message("This one will vanish")
    doomed.hover()
    doomed.get_by_role("button", name="Delete message").click()
    alice.page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(bob.message("This one will vanish")).to_have_count(0)
    expect(alice.message("This one will vanish")).to_have_count(0)

    # Files: the limit is explained before anything is sent, ...
    expect(alice.page.locator("#composer-hint")).to_contain_text("Files up to 1 MB")
    alice.page.set_input_files(
        "#file-input", files=[{"name": "huge.bin", "mimeType": "application/octet-stream", "buffer": b"0" * 1_100_000}]
    )
    expect(alice.page.locator("#composer-error")).to_contain_text("huge.bin")
    expect(alice.page.locator("#composer-error")).to_contain_text("1.05 MB is over the 1 MB limit")
    expect(alice.page.locator(".message.pending")).to_have_count(0)
    expect(alice.page.locator(".staged-file")).to_have_count(0)

    # ... an upload shows its progress until the server answers, ...
    held: list[Route] = []
    alice.page.route("**/send_message/", lambda route: held.append(route))
    alice.page.set_input_files("#file-input", files=[{"name": "pixel.png", "mimeType": "image/png", "buffer": PNG}])
    alice.page.get_by_role("button", name="Send message").click()
    expect(alice.page.locator(".message.pending progress")).to_be_visible()
    expect(alice.page.locator(".message.pending .file-name")).to_have_text("pixel.png")
    alice.screenshot("03-uploading")
    assert len(held) == 1
    held[0].continue_()
    alice.page.unroute("**/send_message/")

    # ... images show inline (fetched with the token, shown from a blob: URL), ...
    image = bob.page.locator(".message img.attachment-image")
    expect(image).to_have_attribute("src", re.compile(r"^blob:"))
    bob.page.wait_for_function("() => document.querySelector('img.attachment-image').naturalWidth === 2")

    # ... and other files are downloads that work for participants only.
    bob.page.set_input_files(
        "#file-input", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"meeting at 10"}]
    )
    bob.page.get_by_role("button", name="Send message").click()
    link = alice.page.get_by_role("button", name=re.compile(r"^Download notes\.txt"))
    expect(link).to_be_visible()
    with alice.page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "notes.txt"
    assert Path(download.value.path()).read_bytes() == b"meeting at 10"
    message_id = alice.page.locator(".message", has=link).get_attribute("data-id")
    url = f"/api/chat/messages/{message_id}/attachment/"
    stranger = parley_server.register(unique("eve"))
    with parley_server.api(stranger["access"]) as client:
        assert client.get(url).status_code in (403, 404)
    with parley_server.api() as client:
        assert client.get(url).status_code == 401
    alice.screenshot("02-conversation")
    bob.screenshot("04-conversation-other-side")

    # After a reload the conversation is still open with its history, in local time.
    alice.page.reload()
    alice.expect_connected()
    expect(alice.page.locator("#conversation-title")).to_have_text(bob_name)
    expect(alice.message("Hi Alice")).to_have_count(1)
    expect(alice.message("Hello Bob, edited")).to_have_count(1)
    expect(alice.page.locator(".message img.attachment-image")).to_have_attribute("src", re.compile(r"^blob:"))
    expect(alice.page.locator(".day-separator")).to_have_text(["Today"])
    stamp = alice.message("Hi Alice").locator("time")
    sent_at = datetime.fromisoformat(stamp.get_attribute("datetime").replace("Z", "+00:00"))
    local = sent_at.astimezone(ZoneInfo("Europe/Berlin"))
    # hour "numeric": 8:05 or 08:05 by locale; the minute is always two digits.
    expect(stamp).to_have_text(re.compile(rf"^0?{local.hour}:{local.minute:02d}$"))

    alice.assert_no_errors()
    bob.assert_no_errors()


def test_session_survives_reload_refresh_and_logout(ui) -> None:
    name = unique("carol")
    carol: UI = ui(name).register()
    page = carol.page

    # An access token the server no longer accepts: the client refreshes and carries on.
    page.evaluate(
        """() => {
            const pair = JSON.parse(localStorage.getItem('parley.tokens'));
            pair.access = pair.access.slice(0, -4) + 'AAAA';
            localStorage.setItem('parley.tokens', JSON.stringify(pair));
        }"""
    )
    page.reload()
    carol.expect_connected()
    expect(page.locator("#me-name")).to_have_text(name)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    expect(page.get_by_role("form", name="Welcome back")).to_be_visible()
    assert page.evaluate("() => localStorage.getItem('parley.tokens')") is None
    page.reload()
    expect(page.get_by_role("tab", name="Log in")).to_be_visible()

    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("not the password")
    page.locator("form.auth-form").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    carol.login()
    expect(page.locator("#me-name")).to_have_text(name)
    carol.assert_no_errors("status of 401")  # the forged token and the wrong password
