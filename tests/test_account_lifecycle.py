"""`DELETE /api/auth/me/` and `GET /api/auth/me/export/` (SPEC 11): the standalone
server's password-checked routes over parley's account closing and export data."""

from __future__ import annotations

import pytest

from parley.models import Block, Event, Message
from tests.conftest import PASSWORD, body
from tests.helpers import conv_url, group, send, start

pytestmark = pytest.mark.django_db(transaction=True)

ME = "/api/auth/me/"
EXPORT = "/api/auth/me/export/"


def with_file(api, user, conversation_id: int) -> Message:
    response = api(user).post(
        conv_url(conversation_id, "send_message"),
        data={"content": "a file"},
        files={"attachment": ("a.txt", b"private bytes", "text/plain")},
    )
    assert response.status_code == 201, response.text
    return Message.objects.get(pk=body(response)["id"])


def test_deleting_without_erase_deactivates_and_keeps_messages(alice, bob, api):
    direct = start(api(alice), bob)
    send(api(alice), direct["id"], "kept")
    token_client = api(alice)
    response = token_client.delete(ME, json={"password": PASSWORD})
    assert response.status_code == 200, response.text
    assert body(response) == {"deactivated": True, "erased_messages": 0}
    alice.refresh_from_db()
    assert alice.is_active is False
    assert token_client.get(ME).status_code == 401
    assert api(None).post("/api/auth/login/", json={"username": "alice", "password": PASSWORD}).status_code == 401
    assert [m["content"] for m in body(api(bob).get(conv_url(direct["id"], "messages")))["results"]] == ["kept"]


def test_deleting_with_erase_blanks_messages_and_removes_files(alice, bob, carol, api):
    direct = start(api(alice), bob)
    team = group(api(alice), [bob, carol])
    stored = with_file(api, alice, direct["id"])
    send(api(alice), team["id"], "in the group")
    send(api(bob), team["id"], "bob stays")
    name, storage = stored.attachment.name, stored.attachment.storage
    assert storage.exists(name)
    response = api(alice).delete(ME, json={"password": PASSWORD, "erase": True})
    assert body(response) == {"deactivated": True, "erased_messages": 2}
    assert not storage.exists(name)
    assert set(Message.objects.filter(sender=alice).values_list("content", "is_deleted")) == {("", True)}
    assert Event.objects.filter(type=Event.Type.MESSAGE_DELETED).count() == 2
    assert [m["content"] for m in body(api(bob).get(conv_url(team["id"], "messages")))["results"]] == ["bob stays"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"password": ""},
        {"password": "wrong"},
        {"password": None, "erase": True},
        {"password": "wrong", "erase": True},
    ],
)
def test_deletion_without_the_right_password_changes_nothing(alice, bob, api, payload):
    direct = start(api(alice), bob)
    send(api(alice), direct["id"], "still here")
    response = api(alice).delete(ME, json=payload)
    assert response.status_code == 400
    assert body(response)["code"] in ("password_required", "wrong_password")
    alice.refresh_from_db()
    assert alice.is_active and Message.objects.filter(is_deleted=False).count() == 1


def test_a_bad_erase_flag_is_a_400(alice, api):
    response = api(alice).delete(ME, json={"password": PASSWORD, "erase": "perhaps"})
    assert (response.status_code, body(response)["code"]) == (400, "invalid")
    alice.refresh_from_db()
    assert alice.is_active


def test_export_holds_the_profile_conversations_and_own_messages(alice, bob, carol, api):
    direct = start(api(alice), bob)
    team = group(api(alice), [bob, carol], title="Crew")
    mine = send(api(alice), direct["id"], "mine")
    send(api(bob), direct["id"], "not mine")
    deleted = send(api(alice), team["id"], "gone")
    api(alice).post(f"/api/chat/messages/{deleted['id']}/delete_message/")
    api(alice).post(f"/api/users/{carol.pk}/block/")

    response = api(alice).get(EXPORT, headers={"X-Password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="parley-export.json"'
    data = body(response)
    assert set(data) == {"profile", "conversations", "messages", "blocked", "exported_at"}
    assert (data["profile"]["id"], data["profile"]["username"]) == (alice.pk, "alice")
    assert [(c["id"], c["kind"], c["title"], c["role"]) for c in data["conversations"]] == [
        (direct["id"], "direct", "", "member"),
        (team["id"], "group", "Crew", "admin"),
    ]
    assert [p["username"] for p in data["conversations"][1]["participants"]] == ["alice", "bob", "carol"]
    assert [(m["id"], m["content"]) for m in data["messages"]] == [(mine["id"], "mine")]
    assert [b["username"] for b in data["blocked"]] == ["carol"]
    assert Block.objects.count() == 1


@pytest.mark.parametrize("headers", [{}, {"X-Password": ""}, {"X-Password": "wrong"}])
def test_export_needs_the_password(alice, api, headers):
    response = api(alice).get(EXPORT, headers=headers)
    assert response.status_code == 400
    assert body(response)["code"] in ("password_required", "wrong_password")


def test_anonymous_cannot_export_or_delete(api):
    assert api(None).get(EXPORT, headers={"X-Password": PASSWORD}).status_code == 401
    assert api(None).delete(ME, json={"password": PASSWORD}).status_code == 401
