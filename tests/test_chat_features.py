"""SPEC 10 through REST: reactions, replies and threads, mentions, pins, edit history.

Every refusal is asserted with its status and stable `code`, and with nothing stored:
no row, no event, no change of `last_seq`.
"""

from __future__ import annotations

from typing import Any

import pytest

from parley.models import Conversation, Event, Membership, Message, MessageEdit, MessageMention, Reaction
from tests.conftest import body
from tests.helpers import MESSAGES, conv_url, group, msg_url, send
from tests.hosts import uid

pytestmark = pytest.mark.django_db


def last_seq(conversation_id: int) -> int:
    return Conversation.objects.get(pk=conversation_id).last_seq


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert body(response)["code"] == code, response.text


def unchanged(conversation_id: int, seq: int) -> None:
    assert last_seq(conversation_id) == seq
    assert Event.objects.filter(conversation_id=conversation_id, seq__gt=seq).count() == 0


# --- Reactions ---------------------------------------------------------------------------------


def test_reactions_add_count_me_and_order_of_first_use(alice, bob, api, direct):
    message = send(api(alice), direct["id"], "react to me")
    url = msg_url(message["id"], "reactions")

    first = api(alice).post(url, json={"emoji": "👍"})
    assert first.status_code == 201, first.text
    assert body(first)["reactions"] == [{"emoji": "👍", "count": 1, "me": True}]
    again = api(alice).post(url, json={"emoji": ":thumbsup:"})  # the same emoji by its short name
    assert again.status_code == 200, again.text
    assert body(again)["reactions"] == [{"emoji": "👍", "count": 1, "me": True}]

    hearts = body(api(bob).post(url, json={"emoji": "❤"}))  # normalised to the fully qualified form
    assert hearts["reactions"] == [{"emoji": "👍", "count": 1, "me": False}, {"emoji": "❤️", "count": 1, "me": True}]
    both = body(api(bob).post(url, json={"emoji": "👍"}))
    assert both["reactions"] == [{"emoji": "👍", "count": 2, "me": True}, {"emoji": "❤️", "count": 1, "me": True}]

    history = body(api(alice).get(conv_url(direct["id"], "messages")))["results"]
    assert history[0]["reactions"] == [{"emoji": "👍", "count": 2, "me": True}, {"emoji": "❤️", "count": 1, "me": False}]
    assert [e.type for e in Event.objects.filter(conversation_id=direct["id"]).order_by("seq")] == [
        "message.created",
        "reaction.added",
        "reaction.added",
        "reaction.added",
    ]


def test_reaction_remove_by_query_or_body_and_not_found(alice, bob, api, direct):
    message = send(api(alice), direct["id"])
    url = msg_url(message["id"], "reactions")
    api(alice).post(url, json={"emoji": "🎉"})
    api(bob).post(url, json={"emoji": "🎉"})

    removed = api(alice).delete(url + "?emoji=🎉")
    assert removed.status_code == 200, removed.text
    assert body(removed)["reactions"] == [{"emoji": "🎉", "count": 1, "me": False}]
    by_body = api(bob).request("DELETE", url, json={"emoji": ":tada:"})
    assert by_body.status_code == 200, by_body.text
    assert body(by_body)["reactions"] == []

    seq = last_seq(direct["id"])
    refused(api(bob).delete(url + "?emoji=🎉"), 404, "reaction_not_found")
    unchanged(direct["id"], seq)


@pytest.mark.parametrize("emoji", ["a", "👍👍", ":no_such_name:", "", "   ", None, 5, ["👍"], "x" * 80, "👍 ok"])
def test_reaction_invalid_emoji_stores_nothing(alice, api, direct, emoji):
    message = send(api(alice), direct["id"])
    seq = last_seq(direct["id"])
    refused(api(alice).post(msg_url(message["id"], "reactions"), json={"emoji": emoji}), 400, "invalid_emoji")
    assert not Reaction.objects.exists()
    unchanged(direct["id"], seq)


def test_reaction_on_a_deleted_message_is_refused(alice, bob, api, direct):
    message = send(api(alice), direct["id"])
    api(alice).post(msg_url(message["id"], "delete_message"))
    seq = last_seq(direct["id"])
    refused(api(bob).post(msg_url(message["id"], "reactions"), json={"emoji": "👍"}), 400, "message_deleted")
    refused(api(bob).delete(msg_url(message["id"], "reactions") + "?emoji=👍"), 400, "message_deleted")
    assert not Reaction.objects.exists()
    unchanged(direct["id"], seq)


def test_reaction_by_a_stranger_or_anonymous(alice, carol, api, direct):
    message = send(api(alice), direct["id"])
    seq = last_seq(direct["id"])
    refused(api(carol).post(msg_url(message["id"], "reactions"), json={"emoji": "👍"}), 404, "not_found")
    refused(api(None).post(msg_url(message["id"], "reactions"), json={"emoji": "👍"}), 401, "not_authenticated")
    assert not Reaction.objects.exists()
    unchanged(direct["id"], seq)


def test_too_many_different_reactions(alice, api, direct):
    message = send(api(alice), direct["id"])
    url = msg_url(message["id"], "reactions")
    for emoji in "😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗":
        assert api(alice).post(url, json={"emoji": emoji}).status_code == 201
    refused(api(alice).post(url, json={"emoji": "🤩"}), 400, "too_many_reactions")
    assert Reaction.objects.count() == 20


# --- Replies and threads -------------------------------------------------------------------------


def test_reply_carries_the_parents_quote_in_its_current_state(alice, bob, api, direct):
    parent = send(api(alice), direct["id"], "p" * 250)
    reply = send(api(bob), direct["id"], "an answer", reply_to=parent["id"])
    quote = {"id": parent["id"], "sender_name": "alice", "content": "p" * 200, "deleted": False}
    assert reply["reply_to"] == quote
    assert body(api(alice).get(conv_url(direct["id"], "messages")))["results"][1]["reply_to"] == quote

    api(alice).post(msg_url(parent["id"], "edit_message"), json={"content": "edited parent"})
    assert body(api(bob).get(msg_url(reply["id"])))["reply_to"]["content"] == "edited parent"
    api(alice).post(msg_url(parent["id"], "delete_message"))
    gone = {"id": parent["id"], "sender_name": "alice", "content": "", "deleted": True}
    assert body(api(bob).get(msg_url(reply["id"])))["reply_to"] == gone
    assert body(api(bob).get(conv_url(direct["id"], "messages")))["results"][0]["reply_to"] == gone


def test_reply_to_refusals_store_nothing(alice, bob, carol, api, direct):
    other = body(api(alice).post("/api/chat/conversations/start/", json={"user2": uid(carol)}))
    elsewhere = send(api(alice), other["id"], "elsewhere")
    deleted = send(api(alice), direct["id"], "soon gone")
    api(alice).post(msg_url(deleted["id"], "delete_message"))
    seq, count = last_seq(direct["id"]), Message.objects.count()
    url = conv_url(direct["id"], "send_message")
    refused(api(bob).post(url, json={"content": "x", "reply_to": elsewhere["id"]}), 400, "reply_to_invalid")
    refused(api(bob).post(url, json={"content": "x", "reply_to": 999999}), 400, "reply_to_invalid")
    refused(api(bob).post(url, json={"content": "x", "reply_to": "abc"}), 400, "reply_to_invalid")
    refused(api(bob).post(url, json={"content": "x", "reply_to": deleted["id"]}), 400, "message_deleted")
    refused(api(carol).post(url, json={"content": "x", "reply_to": deleted["id"]}), 403, "not_participant")
    assert Message.objects.count() == count
    unchanged(direct["id"], seq)


def test_thread_lists_live_replies_oldest_first(alice, bob, carol, api, direct):
    parent = send(api(alice), direct["id"], "topic")
    replies = [send(api(bob), direct["id"], f"r{i}", reply_to=parent["id"]) for i in range(3)]
    send(api(bob), direct["id"], "not in the thread")
    api(bob).post(msg_url(replies[1]["id"], "delete_message"))

    thread = body(api(alice).get(msg_url(parent["id"], "thread")))
    assert [m["content"] for m in thread["results"]] == ["r0", "r2"]
    keyset = body(api(alice).get(msg_url(parent["id"], "thread") + "?after=0&limit=1"))
    assert [m["content"] for m in keyset["results"]] == ["r0"]
    assert keyset["next"] is not None and keyset["count"] is None
    assert [m["content"] for m in body(api(alice).get(keyset["next"]))["results"]] == ["r2"]
    refused(api(carol).get(msg_url(parent["id"], "thread")), 404, "not_found")
    refused(api(None).get(msg_url(parent["id"], "thread")), 401, "not_authenticated")


# --- Mentions ------------------------------------------------------------------------------------


def test_mentions_by_id_and_by_username_count_unread_until_read(alice, bob, carol, api):
    team = group(api(alice), [bob, carol])
    by_name = send(api(alice), team["id"], f"hi @{bob.get_username()}, and @nobody")
    by_id = send(api(alice), team["id"], "explicit", mentions=[uid(carol), uid(bob)])
    assert by_name["mentions"] == [uid(bob)]
    assert by_id["mentions"] == [uid(carol), uid(bob)]
    assert send(api(alice), team["id"], f"me @{alice.get_username()}")["mentions"] == []  # never oneself

    assert body(api(bob).get(conv_url(team["id"])))["unread_mentions"] == 2
    assert body(api(carol).get(conv_url(team["id"])))["unread_mentions"] == 1
    assert body(api(alice).get(conv_url(team["id"])))["unread_mentions"] == 0

    listed = body(api(bob).get("/api/chat/mentions/"))
    assert [m["id"] for m in listed["results"]] == [by_id["id"], by_name["id"]]  # newest first
    assert all(m["conversation"] == team["id"] for m in listed["results"])
    first = body(api(bob).get("/api/chat/mentions/?limit=1"))
    assert [m["id"] for m in first["results"]] == [by_id["id"]]
    assert [m["id"] for m in body(api(bob).get(first["next"]))["results"]] == [by_name["id"]]

    api(bob).post(msg_url(by_name["id"], "mark_read"))
    assert body(api(bob).get(conv_url(team["id"])))["unread_mentions"] == 1
    api(alice).post(msg_url(by_id["id"], "delete_message"))  # an unread mention gone
    assert body(api(carol).get(conv_url(team["id"])))["unread_mentions"] == 0
    assert body(api(bob).get(conv_url(team["id"])))["unread_mentions"] == 0
    assert body(api(bob).get("/api/chat/mentions/"))["results"][0]["id"] == by_name["id"]


def test_mention_of_a_non_member_stores_nothing(alice, bob, carol, api, direct):
    seq, count = last_seq(direct["id"]), Message.objects.count()
    url = conv_url(direct["id"], "send_message")
    refused(api(alice).post(url, json={"content": "x", "mentions": [uid(carol)]}), 400, "mention_not_member")
    refused(api(alice).post(url, json={"content": "x", "mentions": "nope"}), 400, "invalid_id")
    assert Message.objects.count() == count and not MessageMention.objects.exists()
    assert Membership.objects.get(conversation_id=direct["id"], user=bob).unread_mentions == 0
    unchanged(direct["id"], seq)
    # An @name that is no member's is just text.
    assert send(api(alice), direct["id"], f"@{carol.get_username()} is not here")["mentions"] == []


def test_mentions_list_hides_conversations_left(alice, bob, carol, api):
    team = group(api(alice), [bob, carol])
    send(api(alice), team["id"], "m", mentions=[uid(carol)])
    assert len(body(api(carol).get("/api/chat/mentions/"))["results"]) == 1
    api(carol).post(conv_url(team["id"], "leave"))
    assert body(api(carol).get("/api/chat/mentions/"))["results"] == []
    refused(api(None).get("/api/chat/mentions/"), 401, "not_authenticated")


# --- Pins ----------------------------------------------------------------------------------------


def test_pins_in_a_direct_chat_either_side(alice, bob, carol, api, direct):
    message = send(api(alice), direct["id"], "pin me")
    pinned = api(bob).post(msg_url(message["id"], "pin"))
    assert pinned.status_code == 200, pinned.text
    assert body(pinned)["pinned"] is True
    seq = last_seq(direct["id"])
    assert api(alice).post(msg_url(message["id"], "pin")).status_code == 200  # already: no event
    unchanged(direct["id"], seq)
    assert [m["id"] for m in body(api(alice).get(conv_url(direct["id"], "pins")))["results"]] == [message["id"]]
    refused(api(carol).get(conv_url(direct["id"], "pins")), 403, "not_participant")
    refused(api(carol).post(msg_url(message["id"], "pin")), 404, "not_found")

    assert body(api(alice).post(msg_url(message["id"], "unpin")))["pinned"] is False
    assert body(api(alice).get(conv_url(direct["id"], "pins")))["results"] == []
    types = list(Event.objects.filter(conversation_id=direct["id"]).order_by("seq").values_list("type", flat=True))
    assert types == ["message.created", "message.pinned", "message.unpinned"]


def test_pins_in_a_group_are_for_admins(alice, bob, carol, api):
    team = group(api(alice), [bob, carol])
    message = send(api(bob), team["id"], "pin me")
    seq = last_seq(team["id"])
    refused(api(bob).post(msg_url(message["id"], "pin")), 403, "not_admin")
    unchanged(team["id"], seq)
    assert not Message.objects.get(pk=message["id"]).pinned_at
    assert body(api(alice).post(msg_url(message["id"], "pin")))["pinned"] is True
    refused(api(bob).post(msg_url(message["id"], "unpin")), 403, "not_admin")
    api(bob).post(msg_url(message["id"], "delete_message"))
    assert body(api(carol).get(conv_url(team["id"], "pins")))["results"] == []  # deleted leaves the pins


# --- Edit history --------------------------------------------------------------------------------


def test_edit_history_keeps_every_replaced_version(alice, bob, carol, api, direct):
    message = send(api(alice), direct["id"], "v1")
    assert body(api(bob).get(msg_url(message["id"], "history"))) == {"results": []}
    first = body(api(alice).post(msg_url(message["id"], "edit_message"), json={"content": "v2"}))
    api(alice).patch(msg_url(message["id"], "edit"), json={"content": "v3"})  # the seed's alias too

    history = body(api(bob).get(msg_url(message["id"], "history")))
    assert history == {
        "results": [{"content": "v1", "edited_at": None}, {"content": "v2", "edited_at": first["edited_at"]}]
    }
    refused(api(carol).get(msg_url(message["id"], "history")), 404, "not_found")
    refused(api(None).get(msg_url(message["id"], "history")), 401, "not_authenticated")

    api(alice).post(msg_url(message["id"], "delete_message"))
    assert not MessageEdit.objects.exists()  # erased for everyone, old versions too
    refused(api(bob).get(msg_url(message["id"], "history")), 404, "not_found")


def test_a_refused_edit_keeps_no_version(alice, bob, api, direct):
    message = send(api(alice), direct["id"], "v1")
    refused(api(bob).post(msg_url(message["id"], "edit_message"), json={"content": "x"}), 403, "not_sender")
    refused(api(alice).post(msg_url(message["id"], "edit_message"), json={"content": " "}), 400, "empty_message")
    api(alice).post(msg_url(message["id"], "edit_message"), json={"content": "v1"})  # no change
    assert not MessageEdit.objects.exists()


def test_messages_endpoint_shows_reactions_of_the_caller(alice, bob, api, direct):
    message = send(api(alice), direct["id"])
    api(bob).post(msg_url(message["id"], "reactions"), json={"emoji": "👍"})
    assert body(api(bob).get(MESSAGES))["results"][0]["reactions"] == [{"emoji": "👍", "count": 1, "me": True}]
    assert body(api(alice).get(MESSAGES))["results"][0]["reactions"] == [{"emoji": "👍", "count": 1, "me": False}]
