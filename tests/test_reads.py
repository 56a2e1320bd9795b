"""Read pointers: `mark_read` on N reads N and everything before it, for the caller only."""

from __future__ import annotations

from parley.models import Event, Membership, Message
from tests.conftest import body
from tests.helpers import CONVERSATIONS, conv_url, group, msg_url, send


def mark_read(client, message_id: int) -> dict:
    response = client.post(msg_url(message_id, "mark_read"))
    assert response.status_code == 200, response.text
    return body(response)


def unread(client, conversation_id: int) -> int:
    return body(client.get(conv_url(conversation_id)))["unread_count"]


def read_flags(client, conversation_id: int) -> dict[str, bool]:
    results = body(client.get(conv_url(conversation_id, "messages")))["results"]
    return {m["content"]: m["is_read"] for m in results}


def pointer(user, conversation_id: int) -> int:
    return Membership.objects.get(user=user, conversation_id=conversation_id).last_read_message_id


def assert_unread_counts_match_pointers(conversation_id: int) -> None:
    """The stored counter of each member equals the live messages of others past their pointer."""
    for membership in Membership.objects.filter(conversation_id=conversation_id):
        expected = (
            Message.objects.filter(
                conversation_id=conversation_id, is_deleted=False, id__gt=membership.last_read_message_id
            )
            .exclude(sender_id=membership.user_id)
            .count()
        )
        assert membership.unread_count == expected, (membership.user_id, membership.unread_count, expected)


def test_mark_read_on_n_reads_n_and_every_earlier_message(alice, bob, api, direct):
    a, b = api(alice), api(bob)
    m1, m2, _ = (send(a, direct["id"], f"m{i}") for i in (1, 2, 3))
    assert unread(b, direct["id"]) == 3

    message = mark_read(b, m2["id"])

    assert message["id"] == m2["id"]
    assert message["is_read"] is True
    assert read_flags(a, direct["id"]) == {"m1": True, "m2": True, "m3": False}
    assert pointer(bob, direct["id"]) == m2["id"]
    assert unread(b, direct["id"]) == 1
    assert unread(a, direct["id"]) == 0
    assert body(b.get(conv_url(direct["id"])))["last_read_message_id"] == m2["id"]
    rows = Message.objects.filter(pk__in=[m1["id"], m2["id"]])
    assert all(r.is_read and r.read_at is not None for r in rows)


def test_the_pointer_never_moves_backwards(alice, bob, api, direct):
    a, b = api(alice), api(bob)
    m1, _, m3 = (send(a, direct["id"], f"m{i}") for i in (1, 2, 3))
    mark_read(b, m3["id"])
    events = Event.objects.filter(conversation_id=direct["id"]).count()

    again = mark_read(b, m1["id"])

    assert again["is_read"] is True
    assert pointer(bob, direct["id"]) == m3["id"]
    assert unread(b, direct["id"]) == 0
    assert read_flags(a, direct["id"]) == {"m1": True, "m2": True, "m3": True}
    assert Event.objects.filter(conversation_id=direct["id"]).count() == events  # nothing moved, nothing said


def test_reading_is_per_user(alice, bob, carol, api):
    a, b, c = api(alice), api(bob), api(carol)
    g = group(a, [bob, carol])
    m1 = send(a, g["id"], "m1")
    send(a, g["id"], "m2")

    mark_read(b, m1["id"])

    assert unread(b, g["id"]) == 1
    assert unread(c, g["id"]) == 2
    assert unread(a, g["id"]) == 0
    assert pointer(carol, g["id"]) == 0


def test_is_read_only_once_every_other_member_has_read(alice, bob, carol, api):
    a, b, c = api(alice), api(bob), api(carol)
    g = group(a, [bob, carol])
    m1 = send(a, g["id"], "from alice")

    after_bob = mark_read(b, m1["id"])
    assert after_bob["is_read"] is False
    assert after_bob["read_at"] is None
    assert read_flags(a, g["id"]) == {"from alice": False}

    after_carol = mark_read(c, m1["id"])
    assert after_carol["is_read"] is True
    assert after_carol["read_at"] is not None
    assert read_flags(b, g["id"]) == {"from alice": True}


def test_the_sender_need_not_read_their_own_message(alice, bob, carol, api):
    a, b, c = api(alice), api(bob), api(carol)
    g = group(a, [bob, carol])
    m1 = send(a, g["id"], "alice says")
    m2 = send(b, g["id"], "bob says")

    mark_read(c, m2["id"])
    # alice's message now waits for bob; bob's for alice.
    assert read_flags(a, g["id"]) == {"alice says": False, "bob says": False}
    mark_read(b, m1["id"])
    assert read_flags(a, g["id"]) == {"alice says": True, "bob says": False}
    mark_read(a, m2["id"])
    assert read_flags(a, g["id"]) == {"alice says": True, "bob says": True}
    assert_unread_counts_match_pointers(g["id"])


def test_own_messages_are_never_unread(alice, bob, api, direct):
    a, b = api(alice), api(bob)
    send(a, direct["id"], "one")
    mine = send(b, direct["id"], "two")
    assert unread(b, direct["id"]) == 1
    assert unread(a, direct["id"]) == 1

    mark_read(b, mine["id"])  # reading up to my own message reads what came before

    assert unread(b, direct["id"]) == 0
    assert unread(a, direct["id"]) == 1
    assert read_flags(a, direct["id"]) == {"one": True, "two": False}


def test_unread_count_in_the_conversation_list(alice, bob, carol, api, direct):
    a, b = api(alice), api(bob)
    send(a, direct["id"], "x")
    send(a, direct["id"], "y")
    other = body(api(carol).post(f"{CONVERSATIONS}start/", json={"user2": bob.pk}))
    send(api(carol), other["id"], "z")

    counts = {c["id"]: c["unread_count"] for c in body(b.get(CONVERSATIONS))}

    assert counts == {direct["id"]: 2, other["id"]: 1}
    assert {c["id"]: c["unread_count"] for c in body(a.get(CONVERSATIONS))} == {direct["id"]: 0}


def test_deleting_an_unread_message_decrements_unread_counts(alice, bob, carol, api):
    a, b, c = api(alice), api(bob), api(carol)
    g = group(a, [bob, carol])
    m1 = send(a, g["id"], "m1")
    m2 = send(a, g["id"], "m2")
    mark_read(c, m2["id"])  # carol has read both
    assert (unread(b, g["id"]), unread(c, g["id"])) == (2, 0)

    assert a.post(msg_url(m1["id"], "delete_message")).status_code == 200

    assert (unread(b, g["id"]), unread(c, g["id"])) == (1, 0)
    assert unread(a, g["id"]) == 0
    assert a.post(msg_url(m2["id"], "delete_message")).status_code == 200
    assert (unread(b, g["id"]), unread(c, g["id"])) == (0, 0)
    assert_unread_counts_match_pointers(g["id"])


def test_deleting_a_read_message_leaves_unread_counts(alice, bob, api, direct):
    a, b = api(alice), api(bob)
    m1 = send(a, direct["id"], "m1")
    send(a, direct["id"], "m2")
    mark_read(b, m1["id"])
    assert unread(b, direct["id"]) == 1

    assert a.post(msg_url(m1["id"], "delete_message")).status_code == 200

    assert unread(b, direct["id"]) == 1


def test_mark_read_after_a_deletion_counts_only_live_messages(alice, bob, api, direct):
    a, b = api(alice), api(bob)
    m1 = send(a, direct["id"], "m1")
    m2 = send(a, direct["id"], "m2")
    send(a, direct["id"], "m3")
    assert a.post(msg_url(m2["id"], "delete_message")).status_code == 200

    mark_read(b, m1["id"])

    assert unread(b, direct["id"]) == 1


def test_a_member_joining_later_has_nothing_unread(alice, bob, carol, api):
    a = api(alice)
    g = group(a, [bob])
    send(a, g["id"], "before carol")
    assert a.post(conv_url(g["id"], "add_participants"), json={"participants": [carol.pk]}).status_code == 200

    assert unread(api(carol), g["id"]) == 0
    later = send(a, g["id"], "after carol")
    assert unread(api(carol), g["id"]) == 1
    mark_read(api(bob), later["id"])
    assert read_flags(a, g["id"]) == {"before carol": True, "after carol": False}


def test_removing_the_last_reader_marks_messages_read(alice, bob, carol, api):
    a, b = api(alice), api(bob)
    g = group(a, [bob, carol])
    m1 = send(a, g["id"], "m1")
    mark_read(b, m1["id"])
    assert read_flags(a, g["id"]) == {"m1": False}

    assert a.post(conv_url(g["id"], "remove_participant"), json={"user": carol.pk}).status_code == 200

    assert read_flags(a, g["id"]) == {"m1": True}


def test_a_hidden_direct_conversation_returns_with_new_activity(alice, bob, api, direct):
    a, b = api(alice), api(bob)
    send(a, direct["id"], "m1")
    assert b.delete(conv_url(direct["id"])).status_code == 204
    assert body(b.get(CONVERSATIONS)) == []
    assert_unread_counts_match_pointers(direct["id"])

    send(a, direct["id"], "m2")

    [again] = body(b.get(CONVERSATIONS))
    assert again["id"] == direct["id"]
    assert again["unread_count"] >= 1
    assert_unread_counts_match_pointers(direct["id"])
