"""A deleted message leaves a "message deleted" placeholder in its place: live on both
sides, and after a reload (from the event log, which keeps who and when, never what)."""

from __future__ import annotations

from tests.browser.conftest import UI, LiveServer, expect, unique


def rows(person: UI) -> list[str]:
    """The list as the reader sees it: message texts and placeholders, in order."""
    return person.page.eval_on_selector_all(
        ".message:not(.pending)",
        "els => els.map(e => e.dataset.deleted ? 'DELETED' : e.querySelector('.text').textContent)",
    )


def test_deleted_message_leaves_a_placeholder(ui, parley_server: LiveServer) -> None:
    alice_name, bob_name = unique("alice"), unique("bob")
    alice = ui(alice_name).register()
    bob = ui(bob_name).register()
    alice.start_direct(bob_name)
    for text in ("first", "secret second", "third"):
        alice.send(text)
        expect(alice.message(text)).to_have_attribute("data-status", "sent")
    bob.open_conversation(alice_name)
    expect(bob.message("third")).to_be_visible()
    # Bob answers the message that is about to go.
    parent = bob.message("secret second")
    parent.hover()
    parent.get_by_role("button", name="Reply", exact=True).click()
    bob.send("(reply) got it")
    expect(alice.message("(reply) got it").locator(".reply-quote")).to_contain_text("secret second")

    doomed = alice.message("secret second")
    doomed.hover()
    doomed.get_by_role("button", name="Delete message").click()
    alice.page.get_by_role("dialog").get_by_role("button", name="Delete").click()

    # Live: the sender sees "You deleted this message", the other side "Message deleted".
    expect(alice.page.locator(".message.deleted .deleted-text")).to_have_text("You deleted this message")
    expect(bob.page.locator(".message.deleted .deleted-text")).to_have_text("Message deleted")
    for person in (alice, bob):
        expect(person.message("secret second")).to_have_count(0)
        # The reply's quote says its parent is gone, without its text.
        expect(person.message("(reply) got it").locator(".reply-quote-text")).to_have_text("Message deleted")
        assert rows(person) == ["first", "DELETED", "third", "(reply) got it"]
        # The placeholder offers nothing to do.
        assert person.page.locator(".message.deleted button").count() == 0
    bob.screenshot("11-deleted-placeholder")

    # After a reload the placeholder is still in its place, and the text is gone for good.
    for person in (alice, bob):
        person.page.reload()
        person.expect_connected()
        expect(person.page.locator(".message.deleted")).to_have_count(1)
        expect(person.message("(reply) got it").locator(".reply-quote-text")).to_have_text("Message deleted")
        assert rows(person) == ["first", "DELETED", "third", "(reply) got it"]
        assert "secret second" not in person.page.content()
    expect(bob.page.locator(".message.deleted .deleted-text")).to_have_text("Message deleted")

    alice.assert_no_errors()
    bob.assert_no_errors()
