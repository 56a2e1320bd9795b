"""Groups in the web client: create with a title and members, live membership changes,
unread badges and activity order, read ticks that wait for every member, renaming,
leaving, and deleting for everyone."""

from __future__ import annotations

from tests.browser.conftest import UI, expect, unique


def member_dialog(person: UI):
    person.page.get_by_role("button", name="Conversation details and members").click()
    return person.page.get_by_role("dialog")


def test_group_lifecycle(ui, parley_server) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob = ui(unique("bob")).login_with_api()
    carol = ui(unique("carol")).login_with_api()
    dave = ui(unique("dave")).login_with_api()

    # Bob already has a direct chat, so the group has to climb above it.
    with parley_server.api(dave.access) as client:
        started = client.post("/api/chat/conversations/start/", json={"user2": bob.user_id})
        assert started.status_code == 201, started.text
        sent = client.post(f"/api/chat/conversations/{started.json()['id']}/send_message/", json={"content": "hey bob"})
        assert sent.status_code == 201, sent.text
    expect(bob.page.locator(".conversation")).to_have_count(1)

    # Alice creates "Trip planning" with Bob and Carol, choosing them by username.
    alice.page.get_by_role("button", name="New group").click()
    dialog = alice.page.get_by_role("dialog")
    dialog.get_by_label("Group name").fill("Trip planning")
    for person in (bob, carol):
        dialog.get_by_label("Add people by username").fill(person.username)
        dialog.locator(f'.user-result[data-username="{person.username}"]').click()
    expect(dialog.locator(".chip")).to_have_count(2)
    dialog.get_by_role("button", name="Create group").click()
    expect(alice.page.locator("#conversation-title")).to_have_text("Trip planning")
    expect(alice.page.locator("#conversation-subtitle")).to_have_text("3 members")

    # It appears by itself for the members; a message puts it on top with a badge.
    alice.send("Who is in for Saturday?")
    for person in (bob, carol):
        item = person.page.locator(".conversation", has_text="Trip planning")
        expect(item.locator(".badge")).to_have_text("1")
        expect(item).to_contain_text(f"{alice.username}: Who is in for Saturday?")
    expect(bob.page.locator(".conversation").first).to_contain_text("Trip planning")
    expect(bob.page.locator(".conversation")).to_have_count(2)

    # "Read" only once every other member has read it.
    bob.open_conversation("Trip planning")
    expect(bob.message("Who is in for Saturday?").locator(".sender")).to_have_text(alice.username)
    expect(alice.message("Who is in for Saturday?")).to_have_attribute("data-status", "sent")
    carol.open_conversation("Trip planning")
    expect(alice.message("Who is in for Saturday?")).to_have_attribute("data-status", "read")
    carol.send("Me! 🙋")
    expect(bob.message("Me!").locator(".sender")).to_have_text(carol.username)
    alice.screenshot("06-group")

    # The admin removes Carol and adds Dave; everyone's view follows live.
    details = member_dialog(alice)
    expect(details.locator(".member")).to_have_count(3)
    details.get_by_role("button", name=f"Remove {carol.username} from the group").click()
    alice.page.locator("#confirm-ok").click()
    expect(details.locator(".member")).to_have_count(2)
    expect(carol.page.locator(".conversation", has_text="Trip planning")).to_have_count(0)
    expect(carol.page.locator("#pane-empty")).to_be_visible()
    details.get_by_label("Add people by username").fill(dave.username)
    details.locator(f'.user-result[data-username="{dave.username}"]').click()
    expect(details.locator(".member")).to_have_count(3)
    alice.screenshot("07-group-details")
    details.get_by_role("button", name="Close").click()
    expect(dave.page.locator(".conversation", has_text="Trip planning")).to_have_count(1)
    expect(bob.page.locator("#conversation-subtitle")).to_have_text("3 members")
    # Newcomers start with the history read, so nothing turns back to "sent".
    expect(alice.message("Who is in for Saturday?")).to_have_attribute("data-status", "read")

    # Any member renames it; Bob leaves.
    details = member_dialog(bob)
    details.get_by_label("Group name").fill("Saturday trip")
    details.get_by_role("button", name="Rename").click()
    expect(alice.page.locator("#conversation-title")).to_have_text("Saturday trip")
    expect(dave.page.locator(".conversation", has_text="Saturday trip")).to_have_count(1)
    details.get_by_role("button", name="Leave group").click()
    bob.page.locator("#confirm-ok").click()
    expect(bob.page.locator(".conversation", has_text="Saturday trip")).to_have_count(0)
    expect(alice.page.locator("#conversation-subtitle")).to_have_text("2 members")

    # The admin deletes the group for everyone.
    details = member_dialog(alice)
    details.get_by_role("button", name="Delete group").click()
    alice.page.locator("#confirm-ok").click()
    expect(alice.page.locator("#pane-empty")).to_be_visible()
    for person in (alice, dave):
        expect(person.page.locator(".conversation", has_text="Saturday trip")).to_have_count(0)

    for person in (alice, bob, carol, dave):
        person.assert_no_errors()
