"""A host's user deleted or erased: Parley never blocks it and keeps history whole.

Runs in both projects (the standalone's accounts.User and the example host's Person).
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from parley.models import Event, Membership, Message
from parley.services.users import user_messages_erase
from tests.conftest import body
from tests.helpers import conv_url, group, send, start
from tests.hosts import uid
from tests.ws import Socket, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_user_who_sent_messages_can_be_deleted(alice, bob, api):
    conversation = start(api(alice), bob)
    sent = send(api(alice), conversation["id"], "still here after me")
    alice.delete()

    assert Message.objects.get(pk=sent["id"]).sender_id is None
    assert not Membership.objects.filter(user_id=sent["sender"]).exists()
    [message] = body(api(bob).get(conv_url(conversation["id"], "messages")))["results"]
    assert (message["sender"], message["sender_name"]) == (None, "deleted user")
    assert message["content"] == "still here after me"
    listed = body(api(bob).get("/api/chat/conversations/"))
    assert listed[0]["last_message"]["sender_name"] == "deleted user"
    assert listed[0]["messages"][0]["sender"] is None


def test_a_reply_to_a_deleted_users_message_quotes_a_deleted_user(alice, bob, api):
    conversation = start(api(alice), bob)
    parent = send(api(alice), conversation["id"], "asked by alice")
    api(bob).post(conv_url(conversation["id"], "send_message"), json={"content": "answer", "reply_to": parent["id"]})
    alice.delete()

    page = body(api(bob).get(conv_url(conversation["id"], "messages")))["results"]
    assert page[-1]["reply_to"] == {
        "id": parent["id"],
        "sender_name": "deleted user",
        "content": "asked by alice",
        "deleted": False,
    }
    [reply] = body(api(bob).get(f"/api/chat/messages/{parent['id']}/thread/"))["results"]
    assert reply["reply_to"]["sender_name"] == "deleted user"  # a thread reads quotes through its lookup


def test_erasing_a_user_blanks_their_messages_and_files_everywhere(alice, bob, carol, api, settings):
    direct = start(api(alice), bob)
    team = group(api(alice), [bob, carol])
    with_file = body(
        api(alice).post(
            conv_url(direct["id"], "send_message"),
            data={"content": "a file"},
            files={"attachment": ("a.txt", b"secret bytes", "text/plain")},
        )
    )
    send(api(alice), team["id"], "in the group")
    kept = send(api(bob), team["id"], "bob's own")
    stored = Message.objects.get(pk=with_file["id"]).attachment
    assert stored.storage.exists(stored.name)
    before = Event.objects.count()

    assert user_messages_erase(user_id=alice.pk) == 2
    assert Event.objects.filter(type=Event.Type.MESSAGE_DELETED).count() == 2 == Event.objects.count() - before
    alice.delete()

    assert not stored.storage.exists(stored.name)
    # Deleted, alice left the group through the service (SPEC 11: no silent membership change).
    assert Event.objects.filter(type=Event.Type.MEMBER_REMOVED, conversation_id=team["id"]).count() == 1
    assert set(Message.objects.filter(sender_id__isnull=True).values_list("content", "is_deleted")) == {("", True)}
    assert [m["id"] for m in body(api(bob).get(conv_url(team["id"], "messages")))["results"]] == [kept["id"]]
    assert body(api(bob).get(conv_url(direct["id"], "messages")))["results"] == []
    # A second erase finds nothing left.
    assert user_messages_erase(user_id=uid(bob)) == 1 and user_messages_erase(user_id=uid(bob)) == 0


async def test_a_deleted_users_sockets_close_and_others_catch_the_erase(alice, bob, api):
    alice_api = await sync_to_async(api)(alice)  # a token of the standalone's is a row
    conversation = await sync_to_async(start)(alice_api, bob)
    await sync_to_async(send)(alice_api, conversation["id"], "to be erased")
    alices = Socket.for_user(await atoken_for(alice), conversation["id"])
    bobs = Socket.for_user(await atoken_for(bob), conversation["id"])
    await alices.open()
    await bobs.open()

    await database_sync_to_async(user_messages_erase)(user_id=alice.pk)
    await database_sync_to_async(alice.delete)()

    deleted = await bobs.receive_until("message.deleted")
    assert deleted["seq"] == 2
    assert await alices.closed_with(timeout=3) == 4401
    await bobs.close()
