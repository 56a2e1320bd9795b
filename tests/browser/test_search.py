"""Message search in the web client: the box finds a message far back in a long
history, the snippet marks the words (and shows markup in a message as text), and a
click opens the conversation at the message."""

from __future__ import annotations

import re

from tests.browser.conftest import expect, unique


def test_search_opens_the_conversation_at_the_message(ui, parley_server) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob = parley_server.register(unique("bob"))
    carol = parley_server.register(unique("carol"))
    with parley_server.api(bob["access"]) as client:
        conversation = client.post("/api/chat/conversations/start/", json={"user2": alice.user_id}).json()
        url = f"/api/chat/conversations/{conversation['id']}/send_message/"
        assert client.post(url, json={"content": "The <b>wombat</b> report is due"}).status_code == 201
        for n in range(1, 121):  # the hit is now 120 messages back, beyond the first page
            assert client.post(url, json={"content": f"filler {n}"}).status_code == 201
    with parley_server.api(carol["access"]) as client:
        other = client.post("/api/chat/conversations/start/", json={"user2": bob["id"]}).json()
        url = f"/api/chat/conversations/{other['id']}/send_message/"
        assert client.post(url, json={"content": "wombat in a chat alice is not in"}).status_code == 201

    page = alice.page
    expect(page.locator(".conversation", has_text=bob["username"])).to_have_count(1)
    box = page.get_by_label("Search messages")
    box.fill("wombat")
    box.press("Enter")
    hits = page.locator(".search-hit")
    expect(hits).to_have_count(1)
    expect(page.locator("#search-status")).to_have_text("1 message found")
    snippet = hits.first.locator(".search-snippet")
    expect(snippet).to_have_text("The <b>wombat</b> report is due")
    expect(snippet.locator("mark")).to_have_text("wombat")
    expect(snippet.locator("b")).to_have_count(0)  # the message's markup stays text
    alice.screenshot("search-results")

    hits.first.click()
    expect(page.locator("#conversation-title")).to_have_text(bob["username"])
    target = alice.message("report is due")
    expect(target).to_have_class(re.compile(r"\bsearch-target\b"))
    expect(target).to_be_in_viewport()
    expect(alice.message("filler 120")).not_to_be_in_viewport()

    box.fill('"*" OR (')
    box.press("Enter")
    expect(page.locator("#search-status")).to_have_text("Type a word to search for.")
    box.press("Escape")
    expect(page.locator("#search-panel")).to_be_hidden()
    alice.assert_no_errors("400 (Bad Request)")
