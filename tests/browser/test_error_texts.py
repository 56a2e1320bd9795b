"""Errors read as sentences a person can act on: the wait from `Retry-After`, the size
against the configured limit, and never a raw code, a bare status or JSON."""

from __future__ import annotations

import json
import re

from tests.browser.conftest import LiveServer, Route, expect, unique

RAW = re.compile(r"[{}\[\]]|_[a-z]|\b[1-5]\d\d\b")  # JSON, a snake_case code, a status


def answer(status: int, body: object, headers: dict[str, str] | None = None):
    def handle(route: Route) -> None:
        route.fulfill(
            status=status,
            headers={"Content-Type": "application/json", **(headers or {})},
            body=json.dumps(body) if not isinstance(body, str) else body,
        )

    return handle


def test_error_texts_are_human(ui, parley_server: LiveServer) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob = parley_server.register(unique("bob"))
    with parley_server.api(bob["access"]) as client:
        client.post("/api/chat/conversations/start/", json={"user2": alice.user_id})
    alice.open_conversation(bob["username"])
    page = alice.page

    def send_file(name: str) -> None:
        page.set_input_files("#file-input", files=[{"name": name, "mimeType": "text/plain", "buffer": b"hello"}])
        page.get_by_role("button", name="Send message").click()

    def failure(name: str):
        return page.locator(".message.pending", has_text=name).locator(".failed span")

    # Over the configured limit (1 MiB on this server): said before any byte is sent.
    page.set_input_files(
        "#file-input", files=[{"name": "big.bin", "mimeType": "application/octet-stream", "buffer": b"0" * 1_100_000}]
    )
    expect(page.locator("#composer-error")).to_have_text("“big.bin” is not attached: 1.05 MB is over the 1 MB limit.")
    page.set_input_files("#file-input", files=[{"name": "empty.txt", "mimeType": "text/plain", "buffer": b""}])
    expect(page.locator("#composer-error")).to_have_text("“empty.txt” is not attached: the file is empty.")

    # Rate limited: the wait comes from Retry-After, in words.
    page.route(
        "**/send_message/",
        answer(
            429,
            {"detail": "Rate limit of 1200 per 60 s exceeded.", "code": "rate_limited", "retry_after": 720},
            {"Retry-After": "720"},
        ),
    )
    send_file("one.txt")
    expect(failure("one.txt")).to_have_text("Too many requests. Try again in 12 minutes.")
    page.unroute("**/send_message/")

    # A proxy's 413 for a file under our own limit, and a server failure with an HTML page.
    page.route(
        "**/send_message/", answer(413, {"detail": "The request body is over the upload limit.", "code": "too_large"})
    )
    send_file("two.txt")
    expect(failure("two.txt")).to_have_text("“two.txt” was not sent: it is over the server's upload limit.")
    page.unroute("**/send_message/")
    page.route(
        "**/send_message/",
        lambda route: route.fulfill(status=502, body="<html>Bad gateway</html>", headers={"Content-Type": "text/html"}),
    )
    send_file("three.txt")
    expect(failure("three.txt")).to_have_text("The server had a problem. Try again.")
    page.unroute("**/send_message/")

    # A 400 with only a code the client does not know: a sentence, not the code.
    page.route("**/send_message/", answer(400, {"code": "something_new"}))
    send_file("four.txt")
    expect(failure("four.txt")).to_have_text("That did not work. Try again.")
    page.unroute("**/send_message/")
    alice.screenshot("13-error-texts")

    texts = page.locator(".failed span").all_text_contents()
    assert len(texts) == 4 and not any(RAW.search(t) for t in texts), texts

    # Retry after the cause is gone: the same message goes out once.
    page.locator(".message.pending", has_text="four.txt").get_by_role("button", name="Retry").click()
    expect(alice.page.locator(".message:not(.pending) .file-name")).to_have_text("four.txt")
    alice.assert_no_errors("status of 429", "status of 413", "status of 502", "status of 400")
