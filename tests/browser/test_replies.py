"""Replies and threads: "Reply" puts a quote above the composer, the reply's bubble
quotes its parent, a click on the quote scrolls to the parent (loading older pages if
need be), and the thread view lists the replies."""

from __future__ import annotations

from tests.browser.conftest import expect, unique


def test_reply_quote_scroll_and_thread(ui, parley_server) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob = parley_server.register(unique("bob"))
    with parley_server.api(bob["access"]) as client:
        conversation = client.post("/api/chat/conversations/start/", json={"user2": alice.user_id}).json()
        url = f"/api/chat/conversations/{conversation['id']}/send_message/"
        parent = client.post(url, json={"content": "Where shall we meet on Friday?"}).json()
        for n in range(1, 71):  # the parent ends up outside the newest page
            assert client.post(url, json={"content": f"filler {n}"}).status_code == 201
        reply = client.post(url, json={"content": "(bob) the station, I think", "reply_to": parent["id"]})
        assert reply.status_code == 201, reply.text
    page = alice.page
    alice.open_conversation(bob["username"])
    expect(alice.message("the station, I think")).to_be_visible()
    expect(alice.message("Where shall we meet")).to_have_count(0)  # not loaded yet

    # The quote in the bubble; a click loads older pages until the parent is there.
    quote = alice.message("the station, I think").locator(".reply-quote")
    expect(quote).to_contain_text(bob["username"])
    expect(quote).to_contain_text("Where shall we meet on Friday?")
    quote.click()
    target = alice.message("Where shall we meet")
    expect(target).to_be_in_viewport()
    expect(target).to_have_class("message theirs flash")

    # Reply: the quote sits above the composer, Esc cancels, the sent reply quotes.
    target.hover()
    target.get_by_role("button", name="Reply", exact=True).click()
    bar = page.locator("#reply-bar")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("Replying to")
    expect(bar).to_contain_text("Where shall we meet on Friday?")
    composer = page.get_by_label("Message", exact=True)
    expect(composer).to_be_focused()
    composer.press("Escape")
    expect(bar).to_be_hidden()
    target.hover()
    target.get_by_role("button", name="Reply", exact=True).click()
    alice.screenshot("16-replying")
    composer.fill("(alice) the café by the station")
    composer.press("Enter")
    expect(bar).to_be_hidden()
    mine = alice.message("the café by the station")
    expect(mine.locator(".reply-quote")).to_contain_text("Where shall we meet on Friday?")
    expect(mine).to_have_attribute("data-status", "sent")
    with parley_server.api(bob["access"]) as client:
        thread = client.get(f"/api/chat/messages/{parent['id']}/thread/", params={"after": 0}).json()
    assert [m["content"] for m in thread["results"]] == [
        "(bob) the station, I think",
        "(alice) the café by the station",
    ]

    # The parent shows its loaded replies; the thread view lists them, oldest first.
    link = target.locator(".replies-link")
    expect(link).to_have_text("2 replies")
    link.click()
    dialog = page.get_by_role("dialog", name="Thread")
    expect(dialog.locator(".thread-parent")).to_contain_text("Where shall we meet on Friday?")
    expect(dialog.locator("#thread-replies .text")).to_have_text(
        ["(bob) the station, I think", "(alice) the café by the station"]
    )
    alice.screenshot("17-thread")
    # "Reply" in the thread view answers the parent from the composer.
    dialog.get_by_role("button", name="Reply", exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(bar).to_contain_text("Where shall we meet on Friday?")
    alice.assert_no_errors()
