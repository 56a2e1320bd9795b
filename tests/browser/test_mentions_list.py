"""The mentions panel in the web client: the "@" button beside the search box lists the
messages that mention you, newest first and a page at a time, shows markup in a
message as text, and a click opens the conversation at the message. And the window
title counts the unread messages of conversations you hear from, not muted ones."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import expect, unique


def send(client: Any, conversation_id: int, content: str) -> dict[str, Any]:
    sent = client.post(f"/api/chat/conversations/{conversation_id}/send_message/", json={"content": content})
    assert sent.status_code == 201, sent.text
    return sent.json()


def group(client: Any, title: str, *participants: int) -> dict[str, Any]:
    created = client.post("/api/chat/conversations/", json={"title": title, "participants": list(participants)})
    assert created.status_code == 201, created.text
    return created.json()


def test_mentions_panel_opens_the_conversation_at_the_message(ui, parley_server) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob = parley_server.register(unique("bob"))
    with parley_server.api(bob["access"]) as client:
        trip = group(client, "Trip", alice.user_id)
        mention = send(client, trip["id"], f"@{alice.username} can you book the ferry?")
        for n in range(1, 61):  # the mention is now 60 messages back, beyond the first page
            send(client, trip["id"], f"filler {n}")
        direct = client.post("/api/chat/conversations/start/", json={"user2": alice.user_id}).json()
        send(client, direct["id"], f"lunch on Friday, @{alice.username}?")
        send(client, direct["id"], "no mention here")

    page = alice.page
    expect(page.locator(".conversation", has_text="Trip")).to_have_count(1)
    expect(page.locator('.conversation[data-kind="direct"]', has_text=bob["username"])).to_have_count(1)
    toggle = page.get_by_role("button", name="Mentions", exact=True)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    panel = page.locator("#mentions-panel")
    expect(panel).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    entries = panel.locator(".mention-entry-button")
    expect(entries).to_have_count(2)
    expect(page.locator("#mentions-status")).to_have_text("2 mentions")
    # Newest first: the direct chat's, then the group's; each says where, who and what.
    expect(entries.locator(".mention-text")).to_have_text(
        [f"lunch on Friday, @{alice.username}?", f"@{alice.username} can you book the ferry?"]
    )
    expect(entries.locator(".mention-conversation")).to_have_text([bob["username"], "Trip"])
    expect(entries.locator(".mention-sender")).to_have_text([bob["username"], bob["username"]])
    expect(entries.nth(1)).to_have_attribute("aria-label", re.compile(rf"^{bob['username']} in Trip, .*book the ferry"))
    expect(entries.nth(1).locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    alice.screenshot("mentions-panel")

    # Esc closes it (focus back on the button), the button opens and closes it again.
    entries.first.focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(entries).to_have_count(2)
    toggle.click()
    expect(panel).to_be_hidden()
    toggle.click()

    # A search closes the panel, and opening the panel closes the search results.
    box = page.get_by_label("Search messages")
    box.fill("ferry")
    box.press("Enter")
    expect(page.locator(".search-hit")).to_have_count(1)
    expect(panel).to_be_hidden()
    toggle.click()
    expect(page.locator("#search-panel")).to_be_hidden()

    # Opening an entry lands on the message, loading older history to reach it.
    entries.nth(1).click()
    expect(panel).to_be_hidden()
    expect(page.locator("#conversation-title")).to_have_text("Trip")
    target = page.locator(f"#m-{mention['id']}")
    expect(target).to_have_class(re.compile(r"\bsearch-target\b"))
    expect(target).to_be_in_viewport()
    expect(alice.message("filler 60")).not_to_be_in_viewport()
    alice.assert_no_errors()


def test_older_mentions_page_on_with_the_cursor(ui, parley_server) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob = parley_server.register(unique("bob"))
    with parley_server.api(bob["access"]) as client:
        direct = client.post("/api/chat/conversations/start/", json={"user2": alice.user_id}).json()
        for n in range(1, 26):
            send(client, direct["id"], f"@{alice.username} mention {n}")

    page = alice.page
    expect(page.locator(".conversation", has_text=bob["username"])).to_have_count(1)
    page.get_by_role("button", name="Mentions", exact=True).click()
    texts = page.locator("#mentions-panel .mention-text")
    expect(texts).to_have_count(20)
    expect(page.locator("#mentions-status")).to_have_text("20+ mentions")
    older = page.get_by_role("button", name="Older mentions")
    older.click()
    expect(texts).to_have_count(25)
    expect(texts).to_have_text([f"@{alice.username} mention {n}" for n in range(25, 0, -1)])
    expect(page.locator("#mentions-status")).to_have_text("25 mentions")
    expect(older).to_be_hidden()
    alice.assert_no_errors()


def test_no_mentions_yet(ui) -> None:
    carol = ui(unique("carol")).login_with_api()
    page = carol.page
    page.get_by_role("button", name="Mentions", exact=True).click()
    expect(page.locator("#mentions-status")).to_have_text("No mentions yet.")
    expect(page.locator("#mentions-panel .mention-entry")).to_have_count(0)
    expect(page.get_by_role("button", name="Older mentions")).to_be_hidden()
    page.get_by_role("button", name="Close mentions").click()
    expect(page.locator("#mentions-panel")).to_be_hidden()
    carol.assert_no_errors()


def test_markup_in_a_mention_stays_text(ui, parley_server) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob = parley_server.register(unique("bob"))
    dialogs: list[str] = []
    alice.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    content = f"@{alice.username} look <img src=x onerror=alert(1)> here"
    with parley_server.api(bob["access"]) as client:
        direct = client.post("/api/chat/conversations/start/", json={"user2": alice.user_id}).json()
        send(client, direct["id"], content)

    page = alice.page
    expect(page.locator(".conversation", has_text=bob["username"])).to_have_count(1)
    page.get_by_role("button", name="Mentions", exact=True).click()
    text = page.locator("#mentions-panel .mention-text")
    expect(text).to_have_text(content)
    expect(page.locator("#mentions-panel img")).to_have_count(0)
    expect(page.locator('img[src="x"]')).to_have_count(0)
    assert dialogs == []
    alice.assert_no_errors()


def test_window_title_leaves_out_muted_conversations(ui, parley_server) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob = parley_server.register(unique("bob"))
    with parley_server.api(alice.access) as client:
        loud, hushed, silent = (group(client, title, bob["id"]) for title in ("Loud", "Hushed", "Silent"))
        muted = client.patch(
            f"/api/chat/conversations/{hushed['id']}/me/", json={"muted_until": "9999-12-31T00:00:00Z"}
        )
        assert muted.status_code == 200, muted.text
        level = client.patch(f"/api/chat/conversations/{silent['id']}/me/", json={"notification_level": "none"})
        assert level.status_code == 200, level.text
    page = alice.page
    rows = {
        title: page.locator("#conversation-list > li", has=page.locator(".conversation", has_text=title))
        for title in ("Loud", "Hushed", "Silent")
    }
    expect(rows["Hushed"].locator(".list-mark.muted")).to_be_visible()
    with parley_server.api(bob["access"]) as client:
        for conversation in (loud, hushed, silent):
            send(client, conversation["id"], f"news in {conversation['title']}")

    # Each list row keeps its own badge; the title counts only the conversation not muted.
    for row in rows.values():
        expect(row.locator(".badge")).to_have_text("1")
    expect(page).to_have_title("(1) Parley")
    page.reload()  # the same from the list as the server sends it
    alice.expect_connected()
    for row in rows.values():
        expect(row.locator(".badge")).to_have_text("1")
    expect(page).to_have_title("(1) Parley")

    # Unmuting (from another client: the page hears conversation.updated) counts it again.
    with parley_server.api(alice.access) as client:
        unmuted = client.patch(f"/api/chat/conversations/{hushed['id']}/me/", json={"muted_until": None})
        assert unmuted.status_code == 200, unmuted.text
    expect(rows["Hushed"].locator(".list-mark.muted")).to_have_count(0)
    expect(page).to_have_title("(2) Parley")
    alice.assert_no_errors()
