"""Links in messages are clickable and safe: only http, https and mailto, opened in a
new tab that can neither reach the page (no opener) nor learn its URL (no referrer);
`javascript:` and `data:` stay text, and markup stays text."""

from __future__ import annotations

from tests.browser.conftest import LiveServer, expect, unique

LINKS_OF = """el => [...el.querySelectorAll('a')].map(a => ({
  href: a.getAttribute('href'), text: a.textContent, target: a.target, rel: a.rel }))"""


def test_links_are_clickable_and_safe(ui, parley_server: LiveServer) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob = parley_server.register(unique("bob"))
    page_url = f"{parley_server.url}/static/web/icon.svg?from=parley"
    text = (
        f"Docs at {page_url}. Mail me: mailto:bob@example.org, "
        "or (see https://example.org/wiki/Parley_(chat)). "
        "Not these: javascript:alert(1) data:text/html,<b>x</b> ftp://example.org/file "
        '<a href="javascript:alert(2)">click</a>'
    )
    with parley_server.api(bob["access"]) as client:
        conversation = client.post("/api/chat/conversations/start/", json={"user2": alice.user_id}).json()
        sent = client.post(f"/api/chat/conversations/{conversation['id']}/send_message/", json={"content": text})
        assert sent.status_code == 201, sent.text

    alice.open_conversation(bob["username"])
    body = alice.message("Docs at").locator(".text")
    expect(body).to_have_text(text)  # every character still there, as text
    links = body.evaluate(LINKS_OF)
    assert links == [
        {"href": page_url, "text": page_url, "target": "_blank", "rel": "noopener noreferrer"},
        {
            "href": "mailto:bob@example.org",
            "text": "mailto:bob@example.org",
            "target": "_blank",
            "rel": "noopener noreferrer",
        },
        {
            "href": "https://example.org/wiki/Parley_(chat)",
            "text": "https://example.org/wiki/Parley_(chat)",
            "target": "_blank",
            "rel": "noopener noreferrer",
        },
    ]
    assert body.locator("b").count() == 0

    # A click opens a new tab that has no handle on this one and no Referer.
    with alice.page.context.expect_page() as popup_info:
        body.get_by_role("link", name=page_url).click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.url == page_url
    assert popup.evaluate("() => window.opener === null && document.referrer === ''")
    popup.close()
    alice.assert_no_errors()
