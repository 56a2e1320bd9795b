"""The member's own view of a conversation (SPEC 10): `PATCH .../me/`, the conversation
JSON's state fields, the list's archive and pins, `conversation.updated` to oneself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from parley import events
from parley.models import Membership
from parley.representations import iso
from parley.services.conversations import conversation_start_direct
from tests.conftest import Api, body
from tests.helpers import CONVERSATIONS, conv_url, start
from tests.hosts import uid
from tests.ws import Socket, atoken_for

DEFAULT = {
    "notification_level": "all",
    "muted_until": None,
    "muted": False,
    "archived": False,
    "pinned": False,
    "unread_mentions": 0,
}


def state(view: dict[str, Any]) -> dict[str, Any]:
    return {key: view[key] for key in DEFAULT}


def me(client: Api, conversation_id: int, **changes: Any) -> Any:
    return client.patch(conv_url(conversation_id, "me"), json=changes)


@pytest.mark.django_db
def test_state_defaults_and_each_field(alice, bob, api, direct):
    assert state(body(api(alice).get(conv_url(direct["id"])))) == DEFAULT
    later = timezone.now() + timedelta(hours=1)
    response = me(api(alice), direct["id"], notification_level="mentions", muted_until=later.isoformat())
    assert response.status_code == 200, response.text
    assert state(body(response)) == {
        **DEFAULT,
        "notification_level": "mentions",
        "muted_until": iso(later),
        "muted": True,
    }
    assert state(body(me(api(alice), direct["id"], archived=True, pinned=True))) == {
        **DEFAULT,
        "notification_level": "mentions",
        "muted_until": iso(later),
        "muted": True,
        "archived": True,
        "pinned": True,
    }
    past = state(body(me(api(alice), direct["id"], muted_until="2020-01-01T00:00:00", pinned=False)))
    assert past["muted_until"] == "2020-01-01T00:00:00Z" and past["muted"] is False and past["pinned"] is False
    assert state(body(me(api(alice), direct["id"], muted_until=None)))["muted_until"] is None
    assert state(body(api(bob).get(conv_url(direct["id"])))) == DEFAULT  # nobody else's business


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"notification_level": "loud"}, "invalid_choice"),
        ({"muted_until": "tomorrow"}, "invalid_time"),
        ({"muted_until": 5}, "invalid_time"),
        ({"muted_until": "2020-13-45T00:00:00"}, "invalid_time"),
        ({"archived": "yes"}, "invalid_type"),
        ({"pinned": 1}, "invalid_type"),
        ({"notification_level": "none", "archived": "no"}, "invalid_type"),  # nothing of it applied
    ],
)
def test_bad_values_change_nothing(alice, api, direct, changes, code):
    response = me(api(alice), direct["id"], **changes)
    assert response.status_code == 400, response.text
    assert body(response)["code"] == code
    assert state(body(api(alice).get(conv_url(direct["id"])))) == DEFAULT


@pytest.mark.django_db
def test_me_authorization(alice, bob, carol, api, direct):
    assert me(api(bob), direct["id"], archived=True).status_code == 200
    stranger = me(api(carol), direct["id"], archived=True)
    assert (stranger.status_code, body(stranger)["code"]) == (403, "not_participant")
    assert me(api(None), direct["id"], archived=True).status_code == 401
    assert me(api(alice), 999999, archived=True).status_code == 404
    assert not Membership.objects.filter(user=alice, archived=True).exists()
    # Other keys are ignored, never written.
    assert me(api(alice), direct["id"], role="admin", unread_mentions=9).status_code == 200
    assert state(body(api(alice).get(conv_url(direct["id"])))) == DEFAULT


@pytest.mark.django_db
def test_list_hides_archived_and_leads_with_pinned(alice, make_user, api):
    others = [make_user(f"pal{i}") for i in range(4)]
    ids = [start(api(alice), other)["id"] for other in others]  # newest activity last
    listed = lambda query="": [c["id"] for c in body(api(alice).get(CONVERSATIONS + query))]  # noqa: E731
    assert listed() == ids[::-1]
    me(api(alice), ids[1], archived=True)
    me(api(alice), ids[0], pinned=True)
    assert listed() == [ids[0], ids[3], ids[2]]
    assert listed("?archived=true") == [ids[1]]
    assert api(alice).get(CONVERSATIONS + "?archived=maybe").status_code == 400
    # Pages after the first hold only unpinned ones, and nothing twice.
    first = api(alice).get(CONVERSATIONS + "?limit=1")
    assert [c["id"] for c in body(first)] == [ids[0], ids[3]]
    following = first.headers["link"].split(";")[0].strip("<>")
    assert [c["id"] for c in body(api(alice).get(following))] == [ids[2]]


@pytest.mark.django_db
def test_pinned_conversations_are_capped(alice, make_user, api, settings):
    from parley.selectors.conversations import MAX_PINNED_CONVERSATIONS

    for i in range(MAX_PINNED_CONVERSATIONS + 1):
        conversation = start(api(alice), make_user(f"pin{i}"))
        response = me(api(alice), conversation["id"], pinned=True)
    assert response.status_code == 400 and body(response)["code"] == "too_many_pins"
    assert Membership.objects.filter(user=alice, pinned_at__isnull=False).count() == MAX_PINNED_CONVERSATIONS


@pytest.mark.django_db(transaction=True)
async def test_change_is_published_to_ones_own_user_sockets_only(alice, bob):
    conversation, _ = await database_sync_to_async(conversation_start_direct)(user=alice, other_user_id=bob.pk)
    cid = int(conversation.pk)
    own = Socket.for_user(await atoken_for(alice))
    others = Socket.for_user(await atoken_for(bob))
    for sock in (own, others):
        await sock.open()
        await sock.drain(0.05)
    client = Api(await atoken_for(alice))
    response = await database_sync_to_async(client.patch)(conv_url(cid, "me"), json={"notification_level": "none"})
    assert response.status_code == 200, response.text
    frame = await own.receive_until("conversation.updated")
    view = await database_sync_to_async(client.get)(conv_url(cid) + "?embed=0")
    assert frame == {"type": "conversation.updated", "conversation": body(view)}
    assert events.shape_of(frame) is events.ConversationUpdated
    assert frame["conversation"]["notification_level"] == "none"
    assert "conversation.updated" not in [f["type"] for f in await others.drain(0.3)]
    assert uid(alice) in frame["conversation"]["participants"]
    await own.close()
    await others.close()
