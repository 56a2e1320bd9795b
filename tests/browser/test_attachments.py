"""A picked file waits in the composer with a preview (an image as a thumbnail, any
other file as its name and size), can be removed, and goes out WITH the typed text as
one message."""

from __future__ import annotations

import re

from tests.browser.conftest import LiveServer, expect, unique

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
    "0000001049444154789c63f8cf0004ff192014001bf203fdd696f22b0000000049454e44ae426082"
)


def test_picked_file_is_previewed_and_sent_with_the_text(ui, parley_server: LiveServer) -> None:
    alice_name, bob_name = unique("alice"), unique("bob")
    alice = ui(alice_name).register()
    bob = ui(bob_name).register()
    alice.start_direct(bob_name)
    page = alice.page
    composer = page.get_by_label("Message", exact=True)

    # An image: a thumbnail from a local blob: URL, nothing uploaded yet.
    uploads: list[str] = []
    page.on("request", lambda r: uploads.append(r.url) if r.method == "POST" and "send_message" in r.url else None)
    page.set_input_files("#file-input", files=[{"name": "pixel.png", "mimeType": "image/png", "buffer": PNG}])
    thumb = page.locator(".staged-file img.staged-thumb")
    expect(thumb).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function("() => document.querySelector('img.staged-thumb').naturalWidth === 2")
    expect(page.locator(".staged-file .file-name")).to_have_text("pixel.png")
    expect(page.locator(".staged-file .file-size")).to_have_text(f"{len(PNG)} B")
    alice.screenshot("12-attachment-preview")
    assert uploads == []

    # Removing it sends nothing; another file shows its name and size.
    page.get_by_role("button", name="Remove pixel.png").click()
    expect(page.locator(".staged-file")).to_have_count(0)
    page.set_input_files("#file-input", files=[{"name": "plan.txt", "mimeType": "text/plain", "buffer": b"x" * 2048}])
    expect(page.locator(".staged-file .file-name")).to_have_text("plan.txt")
    expect(page.locator(".staged-file .file-size")).to_have_text("2 KB")
    expect(page.locator(".staged-file img")).to_have_count(0)

    # Text and file go out as ONE message.
    composer.fill("Here is the plan")
    composer.press("Enter")
    expect(page.locator(".staged-file")).to_have_count(0)
    sent = alice.message("Here is the plan")
    expect(sent).to_have_attribute("data-status", re.compile("sent|read"))
    expect(sent.locator(".file-name")).to_have_text("plan.txt")
    assert len(uploads) == 1
    bob.open_conversation(alice_name)
    received = bob.message("Here is the plan")
    expect(received.locator(".file-name")).to_have_text("plan.txt")
    expect(bob.page.locator(".message")).to_have_count(1)

    # An image with a caption, too.
    page.set_input_files("#file-input", files=[{"name": "pixel.png", "mimeType": "image/png", "buffer": PNG}])
    composer.fill("and a picture")
    page.get_by_role("button", name="Send message").click()
    caption = bob.message("and a picture")
    expect(caption.locator("img.attachment-image")).to_have_attribute("src", re.compile(r"^blob:"))
    expect(bob.page.locator(".message")).to_have_count(2)

    # The server holds exactly these two messages, each with its text and its file.
    conversation_id = page.evaluate("() => Number(location.hash.split('/').pop())")
    with parley_server.api(
        alice.page.evaluate("() => JSON.parse(localStorage.getItem('parley.tokens')).access")
    ) as client:
        history = client.get(f"/api/chat/conversations/{conversation_id}/messages/").json()["results"]
    assert [(m["content"], m["attachment_name"]) for m in history] == [
        ("Here is the plan", "plan.txt"),
        ("and a picture", "pixel.png"),
    ]
    alice.assert_no_errors()
    bob.assert_no_errors()
