"""Bad input gets a JSON 4xx with a reason, never a 5xx, and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from parley.models import Conversation, Event, Membership, Message
from server.accounts.models import User
from tests.conftest import PASSWORD, body
from tests.helpers import CONVERSATIONS, MESSAGES, bulk_messages, conv_url, msg_url, send


def state() -> tuple[int, ...]:
    return (
        User.objects.count(),
        Conversation.objects.count(),
        Membership.objects.count(),
        Message.objects.count(),
        Event.objects.count(),
    )


def assert_refused(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    data = body(response)
    assert isinstance(data, dict) and data, data
    reasons = [v for k, v in data.items() if k != "code"]
    assert any(isinstance(r, (str, list)) and len(r) > 0 for r in reasons), data
    return data


# --- Ids in URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "conversations/abc/",
        "conversations/abc/messages/",
        "conversations/1.5/send_message/",
        "conversations/-1/",
        "conversations/0x10/events/",
        "conversations/1234567890123456789/",  # 19 digits: past any bigint id
        "conversations/²/",
        "messages/abc/",
        "messages/1e3/mark_read/",
        "messages/%20/edit_message/",
        "messages/abc/attachment/",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_non_integer_ids_in_urls_are_json_404(alice, api, direct, path, method):
    before = state()
    response = api(alice).request(method, f"/api/chat/{path}", json={"content": "x"})
    assert_refused(response, 404)
    assert state() == before


@pytest.mark.parametrize("path", ["conversations/999999/", "conversations/0/messages/", "messages/999999/"])
def test_ids_that_do_not_exist_are_404(alice, api, path):
    assert_refused(api(alice).get(f"/api/chat/{path}"), 404)


# --- Starting and creating conversations ---------------------------------------------------------


@pytest.mark.parametrize(
    "user2", ["abc", "", " ", -1, 0, 1.5, True, None, [1], {"id": 1}, "²", "\uff11", 2**64, "1" * 30]
)
def test_start_with_a_malformed_user_id(alice, api, user2):
    before = state()
    data = assert_refused(api(alice).post(f"{CONVERSATIONS}start/", json={"user2": user2}))
    assert "user2" in data
    assert state() == before


def test_start_with_unknown_inactive_or_self(alice, api, make_user):
    ghost = make_user("ghost", is_active=False)
    before = state()
    for other in (999_999, ghost.pk, alice.pk):
        data = assert_refused(api(alice).post(f"{CONVERSATIONS}start/", json={"user2": other}))
        assert "user2" in data
    assert state() == before


def test_start_without_user2(alice, api):
    assert "user2" in assert_refused(api(alice).post(f"{CONVERSATIONS}start/", json={}))


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"participants": "abc"},
        {"participants": [999_999]},
        {"participants": [1, "x"]},
        {"participants": {"a": 1}},
        {"participants": [], "title": 5},
        {"participants": [], "title": "x" * 201},
        {"participants": [], "title": "bad\x00title"},
    ],
)
def test_group_create_with_bad_input(alice, api, payload):
    before = state()
    assert_refused(api(alice).post(CONVERSATIONS, json=payload))
    assert state() == before


def test_group_add_unknown_user_adds_nobody(alice, bob, api):
    group = body(api(alice).post(CONVERSATIONS, json={"participants": [bob.pk], "title": "g"}))
    before = state()
    assert "participants" in assert_refused(
        api(alice).post(conv_url(group["id"], "add_participants"), json={"participants": [bob.pk, 999_999]})
    )
    assert state() == before
    for users in ([], "abc", [None]):
        assert_refused(api(alice).post(conv_url(group["id"], "add_participants"), json={"participants": users}))
    assert_refused(api(alice).post(conv_url(group["id"], "remove_participant"), json={"user": "abc"}))
    assert_refused(api(alice).post(conv_url(group["id"], "remove_participant"), json={}))
    assert state() == before


# --- Message content --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    ["", "   ", "\n\t ", "x" * 10_001, "nul\x00byte", "\x00", 42, ["a"], {"a": "b"}, True],
)
def test_send_refuses_bad_content(alice, api, direct, content):
    before = state()
    data = assert_refused(api(alice).post(conv_url(direct["id"], "send_message"), json={"content": content}))
    assert "content" in data
    assert state() == before


def test_send_refuses_nul_and_long_content_in_forms_too(alice, api, direct):
    before = state()
    for content in ("nul\x00", "y" * 10_001):
        assert "content" in assert_refused(
            api(alice).post(conv_url(direct["id"], "send_message"), data={"content": content})
        )
    assert state() == before


def test_content_of_exactly_the_limit_is_accepted(alice, api, direct):
    assert len(send(api(alice), direct["id"], "z" * 10_000)["content"]) == 10_000


@pytest.mark.parametrize(
    "payload",
    [
        {"content": "x", "client_id": "k" * 65},
        {"content": "x", "client_id": 12},
        {"content": "x", "client_id": "tab\there"},
        {"content": "x", "attachment": "not-a-file"},
    ],
)
def test_send_refuses_bad_extras(alice, api, direct, payload):
    before = state()
    assert_refused(api(alice).post(conv_url(direct["id"], "send_message"), json=payload))
    assert state() == before


def test_send_ignores_sender_and_conversation_in_the_body(alice, bob, carol, api, direct):
    other = body(api(bob).post(f"{CONVERSATIONS}start/", json={"user2": carol.pk}))
    payload = {"content": "mine", "sender": bob.pk, "sender_name": "bob", "conversation": other["id"], "id": 1}

    sent = body(api(alice).post(conv_url(direct["id"], "send_message"), json=payload))

    assert (sent["sender"], sent["sender_name"], sent["conversation"]) == (alice.pk, "alice", direct["id"])
    row = Message.objects.get(pk=sent["id"])
    assert (row.sender_id, row.conversation_id) == (alice.pk, direct["id"])
    assert not Message.objects.filter(conversation_id=other["id"]).exists()


@pytest.mark.parametrize("content", ["", "  ", "x" * 10_001, "a\x00", None, 7])
def test_edit_refuses_bad_content(alice, api, direct, content):
    sent = send(api(alice), direct["id"], "original")
    before = state()
    payload = {} if content is None else {"content": content}
    assert "content" in assert_refused(api(alice).post(msg_url(sent["id"], "edit_message"), json=payload))
    assert Message.objects.get(pk=sent["id"]).content == "original"
    assert state() == before


def test_edit_or_delete_someone_elses_message_is_403(alice, bob, api, direct):
    sent = send(api(alice), direct["id"], "alice's")
    before = state()
    assert_refused(api(bob).post(msg_url(sent["id"], "edit_message"), json={"content": "bob's"}), 403)
    assert_refused(api(bob).post(msg_url(sent["id"], "delete_message")), 403)
    assert_refused(api(bob).patch(msg_url(sent["id"], "edit"), json={"content": "bob's"}), 403)
    assert_refused(api(bob).delete(msg_url(sent["id"], "soft_delete")), 403)
    row = Message.objects.get(pk=sent["id"])
    assert (row.content, row.is_deleted, row.edited_at) == ("alice's", False, None)
    assert state() == before


def test_acting_on_a_deleted_message_is_404(alice, bob, api, direct):
    sent = send(api(alice), direct["id"], "gone soon")
    assert api(alice).post(msg_url(sent["id"], "delete_message")).status_code == 200
    before = state()
    for client in (api(alice), api(bob)):
        assert_refused(client.get(msg_url(sent["id"])), 404)
        assert_refused(client.post(msg_url(sent["id"], "mark_read")), 404)
        assert_refused(client.post(msg_url(sent["id"], "edit_message"), json={"content": "back"}), 404)
        assert_refused(client.post(msg_url(sent["id"], "delete_message")), 404)
        assert_refused(client.get(msg_url(sent["id"], "attachment")), 404)
    assert state() == before


# --- Pagination parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=0",
        "page=-1",
        "page=--5",
        "page=1.5",
        "page=²",
        "page=%00",
        "page_size=abc",
        "page_size=0",
        "before=1&after=1",
        "before=abc",
        "after=-1",
        "limit=0",
        "limit=x",
        "page=1&before=5",
        "page=99999999999999999999",
    ],
)
def test_bad_pagination_parameters_are_400(alice, api, direct, query):
    data = assert_refused(api(alice).get(conv_url(direct["id"], "messages") + f"?{query}"))
    assert "code" in data


def test_page_past_the_end_is_404(alice, api, direct):
    bulk_messages(direct["id"], alice, 3)
    data = assert_refused(api(alice).get(conv_url(direct["id"], "messages") + "?page=2&page_size=3"), 404)
    assert data["code"] == "invalid_page"
    assert_refused(api(alice).get(conv_url(direct["id"], "messages") + "?page=9223372036854775807"), 404)


def test_page_size_100000_is_capped_to_500(alice, api, direct):
    bulk_messages(direct["id"], alice, 502)
    data = body(api(alice).get(conv_url(direct["id"], "messages") + "?page_size=100000"))
    assert len(data["results"]) == 500
    assert "page=2" in data["next"]
    keyset = body(api(alice).get(conv_url(direct["id"], "messages") + "?limit=100000"))
    assert len(keyset["results"]) == 500


@pytest.mark.parametrize(
    "path",
    [
        f"{CONVERSATIONS}?limit=abc",
        f"{CONVERSATIONS}?limit=²",
        f"{CONVERSATIONS}?embed=-1",
        f"{CONVERSATIONS}?cursor=garbage",
        f"{CONVERSATIONS}?cursor=1~",
        f"{CONVERSATIONS}?cursor=999999999999999999~1",
        f"{CONVERSATIONS}?search=%00",
        f"{MESSAGES}?conversation=abc",
        f"{MESSAGES}?page=abc",
        "/api/users/?limit=0",
        "/api/users/?limit=abc",
        "/api/users/?search=%00",
    ],
)
def test_bad_list_parameters_are_400(alice, api, direct, path):
    assert_refused(api(alice).get(path))


@pytest.mark.parametrize("query", ["since=abc", "since=-1", "since=²", "limit=0", "since=1.5"])
def test_bad_event_parameters_are_400(alice, api, direct, query):
    assert_refused(api(alice).get(conv_url(direct["id"], "events") + f"?{query}"))


# --- Updating conversations ------------------------------------------------------------------------


def test_put_cannot_change_participants(alice, bob, carol, api, direct):
    before = state()
    for method in ("PUT", "PATCH"):
        response = api(alice).request(
            method, conv_url(direct["id"]), json={"participants": [carol.pk], "members": [], "kind": "group"}
        )
        assert response.status_code == 200
        data = body(response)
        assert sorted(data["participants"]) == sorted([alice.pk, bob.pk])
        assert data["kind"] == "direct"
    assert sorted(Membership.objects.filter(conversation_id=direct["id"]).values_list("user_id", flat=True)) == sorted(
        [alice.pk, bob.pk]
    )
    assert state() == before
    assert api(carol).get(conv_url(direct["id"])).status_code == 403


def test_put_on_a_group_changes_only_the_title(alice, bob, carol, api):
    group = body(api(alice).post(CONVERSATIONS, json={"participants": [bob.pk], "title": "Before"}))
    data = body(api(bob).put(conv_url(group["id"]), json={"title": "After", "participants": [carol.pk]}))
    assert data["title"] == "After"
    assert sorted(data["participants"]) == sorted([alice.pk, bob.pk])


@pytest.mark.parametrize("title", ["x" * 201, "a\x00b", 12, ["t"]])
def test_put_with_a_bad_title(alice, bob, api, title):
    group = body(api(alice).post(CONVERSATIONS, json={"participants": [bob.pk], "title": "Same"}))
    before = state()
    assert "title" in assert_refused(api(alice).put(conv_url(group["id"]), json={"title": title}))
    assert Conversation.objects.get(pk=group["id"]).title == "Same"
    assert state() == before


def test_a_direct_conversation_has_no_title(alice, api, direct):
    assert "title" in assert_refused(api(alice).put(conv_url(direct["id"]), json={"title": "Ours"}))
    assert Conversation.objects.get(pk=direct["id"]).title == ""


# --- Bodies that are not objects, and wrong content types --------------------------------------


def _write_requests(w: dict[str, Any]) -> list[tuple[str, str]]:
    c, m = w["conversation"], w["message"]
    return [
        ("POST", f"{CONVERSATIONS}start/"),
        ("POST", CONVERSATIONS),
        ("PUT", conv_url(c)),
        ("PATCH", conv_url(c)),
        ("POST", conv_url(c, "send_message")),
        ("POST", conv_url(c, "add_participants")),
        ("POST", conv_url(c, "remove_participant")),
        ("POST", msg_url(m, "edit_message")),
        ("PATCH", msg_url(m, "edit")),
        ("POST", "/api/auth/register/"),
        ("POST", "/api/auth/login/"),
        ("POST", "/api/auth/refresh/"),
        ("POST", "/api/auth/logout/"),
        ("POST", "/api/auth/password/"),
    ]


@pytest.fixture
def writable(alice, bob, api) -> dict[str, Any]:
    group = body(api(alice).post(CONVERSATIONS, json={"participants": [bob.pk], "title": "g"}))
    return {"conversation": group["id"], "message": send(api(alice), group["id"], "m")["id"]}


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"just a string"', b"42", b"null", b"true", b"[" * 100_000])
def test_json_body_that_is_not_an_object(alice, api, writable, raw):
    before = state()
    for method, path in _write_requests(writable):
        response = api(alice).request(method, path, content=raw, headers={"Content-Type": "application/json"})
        assert_refused(response)
    assert state() == before
    assert Conversation.objects.get(pk=writable["conversation"]).title == "g"


@pytest.mark.parametrize(
    ("content_type", "raw", "status"),
    [
        ("text/plain", b"content=hi", 415),
        ("application/xml", b"<content>hi</content>", 415),
        ("application/json", b"{not json", 400),
        ("application/json", b"\xff\xfe\x00", 400),
        ("multipart/form-data", b"content=hi", 400),  # no boundary
    ],
)
def test_wrong_or_malformed_content_type(alice, api, writable, content_type, raw, status):
    before = state()
    for method, path in _write_requests(writable):
        response = api(alice).request(method, path, content=raw, headers={"Content-Type": content_type})
        assert_refused(response, status)
    assert state() == before


# --- Accounts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"username": "ok_name"},
        {"password": PASSWORD},
        {"username": "has space", "password": PASSWORD},
        {"username": "nul\x00", "password": PASSWORD},
        {"username": "x" * 151, "password": PASSWORD},
        {"username": "fine", "password": "pass\x00word-long-enough"},
        {"username": "fine", "password": PASSWORD, "email": "not-an-email"},
        {"username": ["a"], "password": PASSWORD},
    ],
)
def test_register_with_bad_input(api, payload, db):
    before = state()
    assert_refused(api(None).post("/api/auth/register/", json=payload))
    assert state() == before


@pytest.mark.parametrize(
    "payload",
    [{}, {"username": "alice"}, {"username": "alice", "password": "wrong"}, {"username": "a\x00", "password": "x"}],
)
def test_login_with_bad_input(alice, api, payload):
    response = api(None).post("/api/auth/login/", json=payload)
    assert response.status_code in (400, 401)
    assert_refused(response, response.status_code)


def test_unknown_route_is_json_404(alice, api):
    assert_refused(api(alice).get("/api/chat/nope/"), 404)
    assert_refused(api(None).get("/api/nothing-here/"), 404)


def test_method_not_allowed_is_json_405(alice, api, direct):
    assert_refused(api(alice).delete(f"{CONVERSATIONS}start/"), 405)
    assert_refused(api(alice).put(MESSAGES), 405)
    assert_refused(api(alice).get(conv_url(direct["id"], "send_message")), 405)
