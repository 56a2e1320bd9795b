"""Safety in the web client (SPEC 11): block from a conversation's header, a blocked
user's group messages collapsed behind "show", and the settings panel's export and
account deletion, each behind the password."""

from __future__ import annotations

import json
from pathlib import Path

from tests.browser.conftest import PASSWORD, UI, expect, unique


def test_block_and_unblock_from_the_conversation_header(ui, parley_server) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob = ui(unique("bob")).login_with_api()
    alice.start_direct(bob.username)
    alice.send("hello before")
    expect(alice.message("hello before")).to_be_visible()

    toggle = alice.page.locator("#block-toggle")
    expect(toggle).to_have_text("Block")
    toggle.click()
    expect(toggle).to_have_text("Unblock")
    with parley_server.api(bob.access) as client:
        listed = client.get("/api/chat/conversations/").json()
        sent = client.post(f"/api/chat/conversations/{listed[0]['id']}/send_message/", json={"content": "let me in"})
        assert (sent.status_code, sent.json()["code"]) == (403, "blocked")
    # Kept after a reload (the list comes from GET /api/users/blocked/).
    alice.page.reload()
    alice.expect_connected()
    alice.open_conversation(bob.username)
    expect(toggle).to_have_text("Unblock")
    toggle.click()
    expect(toggle).to_have_text("Block")
    with parley_server.api(bob.access) as client:
        sent = client.post(f"/api/chat/conversations/{listed[0]['id']}/send_message/", json={"content": "back"})
        assert sent.status_code == 201, sent.text
    expect(alice.message("back")).to_be_visible()
    alice.assert_no_errors()


def test_a_blocked_users_group_messages_are_collapsed_with_show(ui, parley_server) -> None:
    alice = ui(unique("alice")).login_with_api()
    bob = ui(unique("bob")).login_with_api()
    carol = ui(unique("carol")).login_with_api()
    with parley_server.api(alice.access) as client:
        team = client.post(
            "/api/chat/conversations/", json={"participants": [bob.user_id, carol.user_id], "title": "Crew"}
        ).json()
        # After the group exists: a block stops adding each other, not a shared group.
        assert client.post(f"/api/users/{bob.user_id}/block/").status_code == 201
    with parley_server.api(bob.access) as client:
        sent = client.post(f"/api/chat/conversations/{team['id']}/send_message/", json={"content": "from bob, stored"})
        assert sent.status_code == 201, sent.text
    alice.page.reload()
    alice.expect_connected()
    # The list's preview does not show the blocked sender's text either.
    preview = alice.page.locator("#conversation-list li", has_text="Crew").locator(".conversation-preview")
    expect(preview).to_have_text("Message from a user you blocked")
    alice.open_conversation("Crew")
    stored = alice.page.locator("li.message.blocked-collapsed")
    expect(stored).to_have_count(1)
    expect(stored.locator(".blocked-note")).to_contain_text("Message from a user you blocked")
    expect(alice.page.locator("#message-list .text", has_text="from bob, stored")).to_be_hidden()
    # A live one collapses too; carol's does not.
    bob.open_conversation("Crew")
    bob.send("from bob, live")
    expect(preview).to_have_text("Message from a user you blocked")
    carol.open_conversation("Crew")
    carol.send("from carol")
    expect(alice.message("from carol")).to_be_visible()
    expect(preview).to_contain_text("from carol")
    expect(alice.page.locator("li.message.blocked-collapsed")).to_have_count(2)
    stored.first.get_by_role("button", name="show").click()
    expect(alice.page.locator("#message-list .text", has_text="from bob, stored")).to_be_visible()
    expect(alice.page.locator("li.message.blocked-collapsed")).to_have_count(1)
    alice.screenshot("safety-collapsed")
    alice.assert_no_errors()


def test_settings_export_and_delete_account_ask_for_the_password(ui: UI, parley_server) -> None:
    alice = ui(unique("alice"), accept_downloads=True).login_with_api()
    bob = ui(unique("bob")).login_with_api()
    alice.start_direct(bob.username)
    alice.send("my own words")
    expect(alice.message("my own words")).to_be_visible()

    page = alice.page
    page.locator("#settings").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("#settings-export").click()
    expect(dialog.locator("#settings-status")).to_contain_text("Enter your password")
    dialog.locator("#settings-password").fill("wrong password")
    dialog.locator("#settings-export").click()
    expect(dialog.locator("#settings-status")).to_contain_text("wrong")

    dialog.locator("#settings-password").fill(PASSWORD)
    with page.expect_download() as download_info:
        dialog.locator("#settings-export").click()
    download = download_info.value
    assert download.suggested_filename == "parley-export.json"
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["profile"]["username"] == alice.username
    assert [m["content"] for m in data["messages"]] == ["my own words"]

    dialog.locator("#settings-erase").check()
    dialog.locator("#settings-delete").click()
    expect(page.locator("form.auth-form")).to_be_visible()
    with parley_server.api() as client:
        login = client.post("/api/auth/login/", json={"username": alice.username, "password": PASSWORD})
        assert login.status_code == 401
    with parley_server.api(bob.access) as client:
        [conversation] = client.get("/api/chat/conversations/").json()
        assert conversation["messages"] == []  # erased
    alice.assert_no_errors("401", "Failed to load resource")
