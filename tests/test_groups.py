"""Group conversations: create, rename, add, remove, leave, delete (chat.services docstrings)."""

from __future__ import annotations

import pytest

from parley.models import Conversation, Event, Membership, Message
from tests.conftest import body
from tests.helpers import CONVERSATIONS, conv_url, group, send


def roles(conversation: dict) -> dict[int, str]:
    return {m["id"]: m["role"] for m in conversation["members"]}


def member_ids(conversation_id: int) -> set[int]:
    return set(Membership.objects.filter(conversation_id=conversation_id).values_list("user_id", flat=True))


@pytest.fixture
def dave(make_user):
    return make_user("dave")


# --- Create --------------------------------------------------------------------------------------


def test_create_a_group_with_the_creator_as_admin(alice, bob, carol, api):
    response = api(alice).post(CONVERSATIONS, json={"participants": [bob.pk, carol.pk], "title": "  Team  "})

    assert response.status_code == 201
    data = body(response)
    assert data["kind"] == "group"
    assert data["title"] == "Team"
    assert sorted(data["participants"]) == sorted([alice.pk, bob.pk, carol.pk])
    assert roles(data) == {alice.pk: "admin", bob.pk: "member", carol.pk: "member"}
    assert data["messages"] == []
    for user in (bob, carol):
        assert [c["id"] for c in body(api(user).get(CONVERSATIONS))] == [data["id"]]


def test_create_deduplicates_and_ignores_the_creator_in_participants(alice, bob, api):
    data = group(api(alice), [bob, bob, alice])
    assert sorted(data["participants"]) == sorted([alice.pk, bob.pk])
    assert roles(data)[alice.pk] == "admin"


def test_create_accepts_a_form_with_repeated_participants(alice, bob, carol, api):
    response = api(alice).post(CONVERSATIONS, data={"participants": [str(bob.pk), str(carol.pk)], "title": "Form"})
    assert response.status_code == 201
    assert sorted(body(response)["participants"]) == sorted([alice.pk, bob.pk, carol.pk])


def test_two_groups_of_the_same_people_are_two_conversations(alice, bob, api):
    first, second = group(api(alice), [bob]), group(api(alice), [bob])
    assert first["id"] != second["id"]


def test_group_size_is_limited(alice, bob, carol, dave, api, settings):
    settings.PARLEY = {**settings.PARLEY, "MAX_GROUP_MEMBERS": 3}
    response = api(alice).post(CONVERSATIONS, json={"participants": [bob.pk, carol.pk, dave.pk]})
    assert response.status_code == 400
    assert "participants" in body(response)
    assert not Conversation.objects.exists()

    g = group(api(alice), [bob, carol])
    added = api(alice).post(conv_url(g["id"], "add_participants"), json={"participants": [dave.pk]})
    assert added.status_code == 400
    assert member_ids(g["id"]) == {alice.pk, bob.pk, carol.pk}


# --- Rename --------------------------------------------------------------------------------------


def test_any_member_may_rename(alice, bob, api):
    g = group(api(alice), [bob], title="Old")

    data = body(api(bob).put(conv_url(g["id"]), json={"title": "New"}))

    assert data["title"] == "New"
    assert body(api(alice).get(conv_url(g["id"])))["title"] == "New"
    event = Event.objects.get(conversation_id=g["id"], type="conversation.renamed")
    assert (event.actor_id, event.data) == (bob.pk, {"title": "New"})


# --- Add -----------------------------------------------------------------------------------------


def test_any_member_may_add_and_new_members_see_history(alice, bob, carol, dave, api):
    g = group(api(alice), [bob])
    send(api(alice), g["id"], "before")

    response = api(bob).post(conv_url(g["id"], "add_participants"), json={"participants": [carol.pk, dave.pk]})

    assert response.status_code == 200
    data = body(response)
    assert sorted(data["participants"]) == sorted([alice.pk, bob.pk, carol.pk, dave.pk])
    assert roles(data)[carol.pk] == "member"
    history = body(api(carol).get(conv_url(g["id"], "messages")))
    assert [m["content"] for m in history["results"]] == ["before"]
    event = Event.objects.get(conversation_id=g["id"], type="members.added")
    assert event.actor_id == bob.pk
    assert [u["id"] for u in event.data["users"]] == sorted([carol.pk, dave.pk])


def test_adding_present_members_changes_nothing(alice, bob, api):
    g = group(api(alice), [bob])
    events = Event.objects.count()

    response = api(alice).post(conv_url(g["id"], "add_participants"), json={"participants": [bob.pk, alice.pk]})

    assert response.status_code == 200
    assert member_ids(g["id"]) == {alice.pk, bob.pk}
    assert Event.objects.count() == events


def test_members_cannot_be_added_to_a_direct_conversation(alice, carol, api, direct):
    response = api(alice).post(conv_url(direct["id"], "add_participants"), json={"participants": [carol.pk]})
    assert response.status_code == 400
    assert member_ids(direct["id"]) == {alice.pk, direct["participants"][1]}


# --- Remove and leave ------------------------------------------------------------------------------


def test_the_admin_removes_a_member_who_then_loses_access(alice, bob, carol, api):
    g = group(api(alice), [bob, carol])
    send(api(alice), g["id"], "hello")

    response = api(alice).post(conv_url(g["id"], "remove_participant"), json={"user": carol.pk})

    assert response.status_code == 200
    assert sorted(body(response)["participants"]) == sorted([alice.pk, bob.pk])
    assert api(carol).get(conv_url(g["id"])).status_code == 403
    assert api(carol).get(conv_url(g["id"], "messages")).status_code == 403
    assert api(carol).post(conv_url(g["id"], "send_message"), json={"content": "still here?"}).status_code == 403
    assert body(api(carol).get(CONVERSATIONS)) == []
    assert body(api(carol).get("/api/chat/messages/"))["results"] == []
    event = Event.objects.get(conversation_id=g["id"], type="member.removed")
    assert (event.actor_id, event.data) == (alice.pk, {"user": carol.pk})


def test_a_member_cannot_remove_others(alice, bob, carol, api):
    g = group(api(alice), [bob, carol])

    for target in (carol, alice):
        response = api(bob).post(conv_url(g["id"], "remove_participant"), json={"user": target.pk})
        assert response.status_code == 403
    assert member_ids(g["id"]) == {alice.pk, bob.pk, carol.pk}


def test_removing_a_non_member_is_404(alice, bob, dave, api):
    g = group(api(alice), [bob])
    response = api(alice).post(conv_url(g["id"], "remove_participant"), json={"user": dave.pk})
    assert response.status_code == 404
    assert member_ids(g["id"]) == {alice.pk, bob.pk}


def test_a_member_removes_themselves_with_204(alice, bob, api):
    g = group(api(alice), [bob])
    response = api(bob).post(conv_url(g["id"], "remove_participant"), json={"user": bob.pk})
    assert response.status_code == 204
    assert member_ids(g["id"]) == {alice.pk}


def test_leave(alice, bob, carol, api):
    g = group(api(alice), [bob, carol])

    assert api(bob).post(conv_url(g["id"], "leave")).status_code == 204

    assert member_ids(g["id"]) == {alice.pk, carol.pk}
    assert api(bob).get(conv_url(g["id"])).status_code == 403
    assert api(bob).post(conv_url(g["id"], "leave")).status_code == 403


def test_when_the_last_admin_leaves_the_longest_standing_member_becomes_admin(alice, bob, carol, dave, api):
    g = group(api(alice), [bob, carol])
    assert api(bob).post(conv_url(g["id"], "add_participants"), json={"participants": [dave.pk]}).status_code == 200

    assert api(alice).post(conv_url(g["id"], "leave")).status_code == 204

    data = body(api(carol).get(conv_url(g["id"])))
    assert roles(data) == {bob.pk: "admin", carol.pk: "member", dave.pk: "member"}
    assert api(bob).post(conv_url(g["id"], "remove_participant"), json={"user": dave.pk}).status_code == 200


def test_when_the_last_member_leaves_the_group_is_deleted(alice, bob, api):
    g = group(api(alice), [bob])
    send(api(alice), g["id"], "bye")

    assert api(bob).post(conv_url(g["id"], "leave")).status_code == 204
    assert api(alice).post(conv_url(g["id"], "leave")).status_code == 204

    assert not Conversation.objects.filter(pk=g["id"]).exists()
    assert not Message.objects.exists()
    assert api(alice).get(conv_url(g["id"])).status_code == 404


def test_nobody_leaves_a_direct_conversation(alice, api, direct):
    assert api(alice).post(conv_url(direct["id"], "leave")).status_code == 400
    assert len(member_ids(direct["id"])) == 2


# --- Delete --------------------------------------------------------------------------------------


def test_the_admin_deletes_the_group_for_everyone(alice, bob, carol, api):
    g = group(api(alice), [bob, carol])
    send(api(bob), g["id"], "history")

    assert api(alice).delete(conv_url(g["id"])).status_code == 204

    assert not Conversation.objects.filter(pk=g["id"]).exists()
    assert not Message.objects.exists()
    assert not Event.objects.exists()
    for user in (alice, bob, carol):
        assert api(user).get(conv_url(g["id"])).status_code == 404
        assert body(api(user).get(CONVERSATIONS)) == []


def test_a_member_deleting_the_group_leaves_it(alice, bob, carol, api):
    g = group(api(alice), [bob, carol])
    send(api(alice), g["id"], "stays")

    assert api(bob).delete(conv_url(g["id"])).status_code == 204

    assert member_ids(g["id"]) == {alice.pk, carol.pk}
    assert [m["content"] for m in body(api(carol).get(conv_url(g["id"], "messages")))["results"]] == ["stays"]
    assert api(bob).get(conv_url(g["id"])).status_code == 403


def test_deleting_a_direct_conversation_hides_it_for_the_caller_only(alice, bob, api, direct):
    send(api(alice), direct["id"], "one")

    assert api(bob).delete(conv_url(direct["id"])).status_code == 204

    assert body(api(bob).get(CONVERSATIONS)) == []
    assert [c["id"] for c in body(api(alice).get(CONVERSATIONS))] == [direct["id"]]
    # Still a participant: the history is there when it comes back.
    assert api(bob).get(conv_url(direct["id"])).status_code == 200
    again = api(bob).post(f"{CONVERSATIONS}start/", json={"user2": alice.pk})
    assert again.status_code == 200
    assert [c["id"] for c in body(api(bob).get(CONVERSATIONS))] == [direct["id"]]
    assert [m["content"] for m in body(again)["messages"]] == ["one"]
