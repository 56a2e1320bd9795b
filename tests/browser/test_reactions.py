"""Reactions under a message: a picker of quick reactions, chips with counts that both
sides see live, a tap takes one's own back; they survive a reload."""

from __future__ import annotations

from tests.browser.conftest import UI, expect, unique


def chips(person: UI, text: str) -> list[tuple[str, str, str]]:
    rows = (
        person.message(text)
        .locator(".reaction")
        .evaluate_all(
            "els => els.map(e => [e.dataset.emoji, e.querySelector('.reaction-count').textContent,"
            " e.getAttribute('aria-pressed')])"
        )
    )
    return [tuple(row) for row in rows]


def test_reactions_with_a_picker_live_on_both_sides(ui) -> None:
    alice_name, bob_name = unique("alice"), unique("bob")
    alice = ui(alice_name).register()
    bob = ui(bob_name).register()
    alice.start_direct(bob_name)
    alice.send("Lunch at noon?")
    bob.open_conversation(alice_name)
    message = bob.message("Lunch at noon?")
    expect(message).to_be_visible()

    # Bob picks 👍 from the picker; Alice sees it at once.
    message.hover()
    message.get_by_role("button", name="Add reaction").click()
    picker = bob.page.get_by_role("menu", name="Pick a reaction")
    expect(picker).to_be_visible()
    bob.screenshot("14-reaction-picker")
    picker.get_by_role("menuitem", name="React with 👍").click()
    expect(picker).to_have_count(0)
    expect(message.locator(".reaction")).to_have_count(1)
    assert chips(bob, "Lunch at noon?") == [("👍", "1", "true")]
    expect(alice.message("Lunch at noon?").locator(".reaction .reaction-count")).to_have_text("1")
    assert chips(alice, "Lunch at noon?") == [("👍", "1", "false")]

    # Alice taps the same chip (2), then adds 🎉 with the keyboard-closable picker.
    alice.message("Lunch at noon?").locator('.reaction[data-emoji="👍"]').click()
    expect(message.locator('.reaction[data-emoji="👍"] .reaction-count')).to_have_text("2")
    mine = alice.message("Lunch at noon?")
    mine.hover()
    mine.get_by_role("button", name="Add reaction").click()
    alice.page.keyboard.press("Escape")
    expect(alice.page.get_by_role("menu", name="Pick a reaction")).to_have_count(0)
    mine.hover()
    mine.get_by_role("button", name="Add reaction").click()
    alice.page.get_by_role("menuitem", name="React with 🎉").click()
    expect(message.locator(".reaction")).to_have_count(2)
    assert chips(bob, "Lunch at noon?") == [("👍", "2", "true"), ("🎉", "1", "false")]
    assert chips(alice, "Lunch at noon?") == [("👍", "2", "true"), ("🎉", "1", "true")]
    bob.screenshot("15-reactions")

    # Bob takes his 👍 back: 1 left, his chip no longer pressed.
    message.locator('.reaction[data-emoji="👍"]').click()
    expect(alice.message("Lunch at noon?").locator('.reaction[data-emoji="👍"] .reaction-count')).to_have_text("1")
    expect(message.locator('.reaction[data-emoji="👍"]')).to_have_attribute("aria-pressed", "false")

    # After a reload each side sees the counts and its own reactions.
    for person in (alice, bob):
        person.page.reload()
        person.expect_connected()
        expect(person.message("Lunch at noon?").locator(".reaction")).to_have_count(2)
    assert chips(alice, "Lunch at noon?") == [("👍", "1", "true"), ("🎉", "1", "true")]
    assert chips(bob, "Lunch at noon?") == [("👍", "1", "false"), ("🎉", "1", "false")]
    alice.assert_no_errors()
    bob.assert_no_errors()
