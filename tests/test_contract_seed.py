"""The seed document (shared/seed-chat-api.md), section by section.

Every URL, status code, field name and JSON shape the seed shows is asserted here as a
client built from that document would rely on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from parley.models import Conversation, Message
from parley.users import pk_is_integer
from tests.conftest import PASSWORD, Api, body
from tests.helpers import CONVERSATIONS, MESSAGES, bulk_messages, conv_url, msg_url, send, start
from tests.hosts import uid

# Seed section 1: the conversation JSON, and the message as embedded in it.
CONVERSATION_FIELDS = {"id", "participants", "messages", "created_at"}
EMBEDDED_MESSAGE_FIELDS = {"id", "sender", "sender_name", "content", "timestamp", "is_read", "is_deleted"}
# Seed section 2: the message JSON of the nested endpoints.
MESSAGE_FIELDS = {
    "id",
    "conversation",
    "sender",
    "sender_name",
    "content",
    "attachment",
    "timestamp",
    "is_read",
    "read_at",
    "is_deleted",
    "edited_at",
}
PAGE_FIELDS = {"count", "next", "previous", "results"}


def parse_time(value: str) -> datetime:
    assert isinstance(value, str), value
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, value
    return parsed


# A user id is a JSON number for integer primary keys, the UUID's text otherwise.
USER_ID = int if pk_is_integer() else str


def assert_conversation_shape(conversation: dict[str, Any], *, participants: list[Any]) -> None:
    assert conversation.keys() >= CONVERSATION_FIELDS
    assert isinstance(conversation["id"], int)
    assert sorted(conversation["participants"]) == sorted(participants)
    assert all(isinstance(p, USER_ID) for p in conversation["participants"])
    assert isinstance(conversation["messages"], list)
    parse_time(conversation["created_at"])


def assert_message_shape(message: dict[str, Any]) -> None:
    assert message.keys() >= MESSAGE_FIELDS
    for name in ("id", "conversation"):
        assert isinstance(message[name], int), name
    assert isinstance(message["sender"], USER_ID)
    assert isinstance(message["sender_name"], str)
    assert isinstance(message["content"], str)
    assert message["attachment"] is None or isinstance(message["attachment"], str)
    parse_time(message["timestamp"])
    assert isinstance(message["is_read"], bool)
    assert message["read_at"] is None or parse_time(message["read_at"])
    assert message["is_deleted"] is False
    assert message["edited_at"] is None or parse_time(message["edited_at"])


# --- 1. Conversations ---------------------------------------------------------------------------


def test_list_users_conversations_is_a_plain_array_of_seed_objects(alice, bob, carol, api, direct):
    api(carol).post(f"{CONVERSATIONS}start/", json={"user2": uid(bob)})  # not alice's

    response = api(alice).get(CONVERSATIONS)

    assert response.status_code == 200
    data = body(response)
    assert isinstance(data, list)
    assert [c["id"] for c in data] == [direct["id"]]
    assert_conversation_shape(data[0], participants=[uid(alice), uid(bob)])
    assert data[0]["messages"] == []


def test_list_search_filters_by_participant_username(alice, bob, api, make_user):
    dora = make_user("dora_explorer")
    with_bob = start(api(alice), bob)
    with_dora = start(api(alice), dora)

    found = body(api(alice).get(f"{CONVERSATIONS}?search=dora"))
    assert [c["id"] for c in found] == [with_dora["id"]]
    found = body(api(alice).get(f"{CONVERSATIONS}?search=BO"))
    assert [c["id"] for c in found] == [with_bob["id"]]
    # The caller's own name matches nothing: every conversation has the caller.
    assert body(api(alice).get(f"{CONVERSATIONS}?search=alice")) == []


def test_get_single_conversation_embeds_its_messages(alice, bob, api, direct):
    sent = send(api(alice), direct["id"], "Hello!")

    response = api(bob).get(conv_url(direct["id"]))

    assert response.status_code == 200
    conversation = body(response)
    assert_conversation_shape(conversation, participants=[uid(alice), uid(bob)])
    assert conversation["id"] == direct["id"]
    [message] = conversation["messages"]
    assert message.keys() >= EMBEDDED_MESSAGE_FIELDS
    assert message["id"] == sent["id"]
    assert message["sender"] == uid(alice)
    assert message["sender_name"] == "alice"
    assert message["content"] == "Hello!"
    assert message["is_read"] is False
    assert message["is_deleted"] is False
    parse_time(message["timestamp"])


def test_start_creates_201_then_returns_existing_200_from_either_side(alice, bob, api):
    created = api(alice).post(f"{CONVERSATIONS}start/", json={"user2": uid(bob)})
    assert created.status_code == 201
    conversation = body(created)
    assert_conversation_shape(conversation, participants=[uid(alice), uid(bob)])
    assert conversation["messages"] == []

    again = api(alice).post(f"{CONVERSATIONS}start/", json={"user2": uid(bob)})
    other_side = api(bob).post(f"{CONVERSATIONS}start/", json={"user2": uid(alice)})

    assert again.status_code == 200
    assert other_side.status_code == 200
    assert body(again)["id"] == body(other_side)["id"] == conversation["id"]
    assert_conversation_shape(body(other_side), participants=[uid(alice), uid(bob)])
    assert Conversation.objects.count() == 1


# --- 2. Messages, nested endpoints -----------------------------------------------------------------


def test_conversation_messages_page_shape_and_values(alice, bob, api, direct):
    first = send(api(alice), direct["id"], "Hello!")
    second = send(api(bob), direct["id"], "Hi there!")

    response = api(alice).get(conv_url(direct["id"], "messages") + "?page=1&page_size=50")

    assert response.status_code == 200
    data = body(response)
    assert data.keys() >= PAGE_FIELDS
    assert data["count"] == 2
    assert data["next"] is None
    assert data["previous"] is None
    assert [m["id"] for m in data["results"]] == [first["id"], second["id"]]
    for message in data["results"]:
        assert_message_shape(message)
    one, two = data["results"]
    assert (one["conversation"], one["sender"], one["sender_name"], one["content"]) == (
        direct["id"],
        uid(alice),
        "alice",
        "Hello!",
    )
    assert (two["sender"], two["sender_name"], two["content"]) == (uid(bob), "bob", "Hi there!")
    assert one["attachment"] is None
    assert one["edited_at"] is None
    assert one["read_at"] is None
    assert one["is_read"] is False  # nobody has marked anything read yet


def test_page_size_defaults_to_50_with_absolute_next_and_previous(alice, api, direct):
    bulk_messages(direct["id"], alice, 51)
    url = conv_url(direct["id"], "messages")

    first = body(api(alice).get(url))
    assert first["count"] == 51
    assert len(first["results"]) == 50
    assert first["previous"] is None
    assert first["next"].startswith("http://")
    assert f"{url}?" in first["next"]
    assert "page=2" in first["next"]

    second = body(api(alice).get(first["next"].removeprefix("http://testserver")))
    assert [m["content"] for m in second["results"]] == ["m51"]
    assert second["next"] is None
    assert second["previous"].startswith("http://")
    assert "page=1" in second["previous"]


def test_page_size_over_500_is_capped_at_500(alice, api, direct):
    bulk_messages(direct["id"], alice, 501)

    data = body(api(alice).get(conv_url(direct["id"], "messages") + "?page_size=1000"))

    assert data["count"] == 501
    assert len(data["results"]) == 500
    assert data["next"] is not None
    last = body(api(alice).get(data["next"].removeprefix("http://testserver")))
    assert [m["content"] for m in last["results"]] == ["m501"]


def test_messages_are_oldest_first(alice, bob, api, direct):
    for i in range(5):
        send(api(alice if i % 2 else bob), direct["id"], f"n{i}")

    results = body(api(alice).get(conv_url(direct["id"], "messages") + "?page_size=3"))["results"]
    results += body(api(alice).get(conv_url(direct["id"], "messages") + "?page_size=3&page=2"))["results"]

    assert [m["content"] for m in results] == ["n0", "n1", "n2", "n3", "n4"]
    times = [parse_time(m["timestamp"]) for m in results]
    assert times == sorted(times)


def test_deleted_messages_are_filtered_out(alice, bob, api, direct):
    gone = send(api(alice), direct["id"], "oops")
    kept = send(api(alice), direct["id"], "kept")
    assert api(alice).post(msg_url(gone["id"], "delete_message")).status_code == 200

    data = body(api(bob).get(conv_url(direct["id"], "messages")))

    assert data["count"] == 1
    assert [m["id"] for m in data["results"]] == [kept["id"]]


def test_messages_403_for_non_participant_and_404_for_missing_conversation(carol, api, direct):
    forbidden = api(carol).get(conv_url(direct["id"], "messages"))
    assert forbidden.status_code == 403
    assert "detail" in body(forbidden)

    missing = api(carol).get(conv_url(direct["id"] + 1000, "messages"))
    assert missing.status_code == 404
    assert "detail" in body(missing)


def test_send_message_multipart_returns_201_with_the_seed_fields(alice, api, direct):
    response = api(alice).post(conv_url(direct["id"], "send_message"), data={"content": "Hello! This is my message."})

    assert response.status_code == 201
    message = body(response)
    assert_message_shape(message)
    assert message["conversation"] == direct["id"]
    assert message["sender"] == uid(alice)
    assert message["sender_name"] == "alice"
    assert message["content"] == "Hello! This is my message."
    assert message["attachment"] is None
    assert (message["is_read"], message["read_at"], message["edited_at"]) == (False, None, None)
    assert Message.objects.get(pk=message["id"]).content == "Hello! This is my message."


def test_send_message_with_attachment(alice, bob, api, direct):
    response = api(alice).post(
        conv_url(direct["id"], "send_message"),
        data={"content": "Check out this file!"},
        files={"attachment": ("file.pdf", b"%PDF-1.4 a tiny pdf", "application/pdf")},
    )

    assert response.status_code == 201
    message = body(response)
    assert_message_shape(message)
    assert message["content"] == "Check out this file!"
    assert isinstance(message["attachment"], str)
    download = api(bob).get(message["attachment"])
    assert download.status_code == 200
    assert download.content == b"%PDF-1.4 a tiny pdf"


def test_send_message_attachment_only_is_allowed(alice, api, direct):
    response = api(alice).post(
        conv_url(direct["id"], "send_message"), files={"attachment": ("a.txt", b"just a file", "text/plain")}
    )
    assert response.status_code == 201
    assert body(response)["content"] == ""


@pytest.mark.parametrize("form", [{}, {"content": ""}, {"content": "   "}])
def test_send_message_400_without_content_or_attachment(alice, api, direct, form):
    response = api(alice).post(conv_url(direct["id"], "send_message"), data=form)

    assert response.status_code == 400
    assert "content" in body(response)
    assert Message.objects.count() == 0


def test_send_message_403_for_non_participant_and_404_for_missing(carol, api, direct):
    assert api(carol).post(conv_url(direct["id"], "send_message"), data={"content": "x"}).status_code == 403
    assert api(carol).post(conv_url(direct["id"] + 1000, "send_message"), data={"content": "x"}).status_code == 404
    assert Message.objects.count() == 0


# --- 3. Messages, global endpoints ----------------------------------------------------------------


def test_list_all_messages_covers_every_conversation_of_the_caller(alice, bob, carol, api, direct):
    with_carol = start(api(alice), carol)
    not_mine = start(api(bob), carol)
    a = send(api(alice), direct["id"], "to bob")
    b = send(api(carol), with_carol["id"], "to alice")
    send(api(bob), not_mine["id"], "bob and carol only")

    response = api(alice).get(MESSAGES)

    assert response.status_code == 200
    data = body(response)
    assert data.keys() >= PAGE_FIELDS
    assert data["count"] == 2
    assert [m["id"] for m in data["results"]] == [a["id"], b["id"]]
    for message in data["results"]:
        assert_message_shape(message)


def test_get_message_details(alice, bob, api, direct):
    sent = send(api(alice), direct["id"], "details")

    response = api(bob).get(msg_url(sent["id"]))

    assert response.status_code == 200
    message = body(response)
    assert_message_shape(message)
    assert message["id"] == sent["id"]
    assert message["content"] == "details"


def test_mark_message_as_read(alice, bob, api, direct):
    sent = send(api(alice), direct["id"], "read me")

    response = api(bob).post(msg_url(sent["id"], "mark_read"))

    assert response.status_code == 200
    message = body(response)
    assert_message_shape(message)
    assert message["is_read"] is True
    parse_time(message["read_at"])
    listed = body(api(alice).get(conv_url(direct["id"], "messages")))["results"][0]
    assert listed["is_read"] is True
    assert listed["read_at"] == message["read_at"]


def test_edit_message(alice, bob, api, direct):
    sent = send(api(alice), direct["id"], "first draft")

    response = api(alice).post(msg_url(sent["id"], "edit_message"), json={"content": "Updated message content"})

    assert response.status_code == 200
    message = body(response)
    assert_message_shape(message)
    assert message["content"] == "Updated message content"
    parse_time(message["edited_at"])
    listed = body(api(bob).get(conv_url(direct["id"], "messages")))["results"][0]
    assert listed["content"] == "Updated message content"
    assert listed["edited_at"] == message["edited_at"]


def test_delete_message_soft_deletes(alice, bob, api, direct):
    sent = send(api(alice), direct["id"], "regret")

    response = api(alice).post(msg_url(sent["id"], "delete_message"))

    assert response.status_code == 200
    assert body(response)["is_deleted"] is True
    row = Message.objects.get(pk=sent["id"])
    assert row.is_deleted is True
    assert row.content == ""
    assert api(bob).get(msg_url(sent["id"])).status_code == 404
    assert body(api(bob).get(MESSAGES))["results"] == []


# --- Existing endpoints of the summary ---------------------------------------------------------


def test_update_conversation_and_delete_conversation(alice, bob, api, direct):
    updated = api(alice).put(conv_url(direct["id"]), json={})
    assert updated.status_code == 200
    assert_conversation_shape(body(updated), participants=[uid(alice), uid(bob)])

    deleted = api(alice).delete(conv_url(direct["id"]))
    assert deleted.status_code == 204
    assert body(api(alice).get(CONVERSATIONS)) == []
    assert [c["id"] for c in body(api(bob).get(CONVERSATIONS))] == [direct["id"]]


# --- Compatibility aliases (SPEC section 2) -----------------------------------------------------


@pytest.mark.standalone
def test_login_without_trailing_slash(alice):
    response = Api().post("/api/auth/login", json={"username": "alice", "password": PASSWORD})

    assert response.status_code == 200
    assert set(body(response)) == {"access", "refresh"}


def test_patch_edit_alias(alice, bob, api, direct):
    sent = send(api(alice), direct["id"], "old")

    response = api(alice).patch(msg_url(sent["id"], "edit"), json={"content": "new"})

    assert response.status_code == 200
    assert body(response)["content"] == "new"
    assert Message.objects.get(pk=sent["id"]).content == "new"
    assert api(bob).patch(msg_url(sent["id"], "edit"), json={"content": "bob's"}).status_code == 403


def test_delete_soft_delete_alias(alice, bob, api, direct):
    sent = send(api(alice), direct["id"], "bye")

    assert api(bob).delete(msg_url(sent["id"], "soft_delete")).status_code == 403
    response = api(alice).delete(msg_url(sent["id"], "soft_delete"))

    assert response.status_code == 200
    assert body(response)["is_deleted"] is True
    assert Message.objects.get(pk=sent["id"]).is_deleted is True


# --- The complete workflow example (curl) ---------------------------------------------------------


@pytest.mark.standalone
def test_curl_workflow(make_user):
    john = make_user("john_doe", password="password123-but-long")
    jane = make_user("jane_smith")
    anonymous = Api()

    # 1. Login
    login = anonymous.post("/api/auth/login/", json={"username": "john_doe", "password": "password123-but-long"})
    assert login.status_code == 200
    tokens = body(login)
    assert set(tokens) == {"access", "refresh"}
    john_api = Api(tokens["access"])
    conversation = body(john_api.post(f"{CONVERSATIONS}start/", json={"user2": uid(jane)}))

    # 2. List your conversations
    listed = john_api.get(CONVERSATIONS)
    assert listed.status_code == 200
    [item] = body(listed)
    assert item["id"] == conversation["id"]
    assert sorted(item["participants"]) == sorted([uid(john), uid(jane)])

    # 3. Get messages for the conversation
    messages = john_api.get(conv_url(conversation["id"], "messages") + "?page=1")
    assert messages.status_code == 200
    assert body(messages) == {"count": 0, "next": None, "previous": None, "results": []}

    # 4. Send a message (multipart, like curl -F)
    sent = john_api.post(conv_url(conversation["id"], "send_message"), data={"content": "Hello! How are you?"})
    assert sent.status_code == 201
    assert body(sent)["content"] == "Hello! How are you?"

    # 5. Send a message with an attachment
    with_file = john_api.post(
        conv_url(conversation["id"], "send_message"),
        data={"content": "Check out this file!"},
        files={"attachment": ("file.pdf", b"%PDF-1.4\n", "application/pdf")},
    )
    assert with_file.status_code == 201
    assert body(with_file)["attachment"]

    history = body(john_api.get(conv_url(conversation["id"], "messages") + "?page=1"))
    assert history["count"] == 2
    assert [m["content"] for m in history["results"]] == ["Hello! How are you?", "Check out this file!"]
