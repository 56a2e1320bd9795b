"""`@` in the composer offers the group's members (keyboard and mouse); the sent
message mentions them, the mention stands out, and the mentioned member's list shows
an unread mention."""

from __future__ import annotations

from tests.browser.conftest import expect, unique


def test_mention_autocomplete(ui, parley_server) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob_name, bea_name, carl_name = unique("bob"), unique("bea"), unique("carl")
    bob = ui(bob_name)
    bob.login_with_api()
    bea = parley_server.register(bea_name)
    carl = parley_server.register(carl_name)
    with parley_server.api(alice.access) as client:
        group = client.post(
            "/api/chat/conversations/",
            json={"title": "Trip", "participants": [bob.user_id, bea["id"], carl["id"]]},
        )
        assert group.status_code == 201, group.text
    expect(alice.page.locator(".conversation", has_text="Trip")).to_be_visible()
    alice.open_conversation("Trip")
    page = alice.page
    composer = page.get_by_label("Message", exact=True)

    # "@b" offers Bea and Bob (not Carl, not me); arrows choose, Enter takes.
    composer.press_sequentially("Ask @b")
    options = page.locator("#mention-list .mention-option")
    expect(options).to_have_count(2)
    names = options.locator("span:not(.avatar)")
    expect(names).to_have_text(sorted([bea_name, bob_name]))
    expect(composer).to_have_attribute("aria-expanded", "true")
    alice.screenshot("18-mention-autocomplete")
    composer.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    composer.press("Enter")  # takes the suggestion, does not send
    expect(composer).to_have_value(f"Ask @{sorted([bea_name, bob_name])[1]} ")
    expect(page.locator("#mention-list")).to_be_hidden()
    expect(page.locator(".message")).to_have_count(0)

    # Esc closes the list; a click picks too.
    composer.fill("")
    composer.press_sequentially("@c")
    expect(names).to_have_text([carl_name])
    composer.press("Escape")
    expect(page.locator("#mention-list")).to_be_hidden()
    composer.fill("")
    composer.press_sequentially(f"and @{bob_name[:4]}")
    page.locator(f'.mention-option[data-username="{bob_name}"]').click()
    composer.press_sequentially("please bring snacks")
    expect(composer).to_have_value(f"and @{bob_name} please bring snacks")
    composer.press("Enter")

    sent = alice.message("please bring snacks")
    expect(sent.locator(".mention")).to_have_text(f"@{bob_name}")
    # Bob's list shows an unread mention; his copy highlights it as his.
    expect(bob.page.locator(".conversation", has_text="Trip").locator(".mention-badge")).to_be_visible()
    bob.open_conversation("Trip")
    expect(bob.message("please bring snacks").locator(".mention.mention-me")).to_have_text(f"@{bob_name}")
    with parley_server.api(bob.access) as client:
        mentions = client.get("/api/chat/mentions/").json()["results"]
    assert [m["content"] for m in mentions] == [f"and @{bob_name} please bring snacks"]
    assert mentions[0]["mentions"] == [bob.user_id]
    alice.assert_no_errors()
    bob.assert_no_errors()
