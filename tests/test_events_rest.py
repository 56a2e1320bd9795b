"""Durable events from REST writes: one per change, numbered without gaps, written in the
change's transaction, replayable by `events/?since=`, and published only after commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from parley.events import publishing
from parley.models import Conversation, Event, Message
from parley.services import messages as message_services
from tests.conftest import body
from tests.helpers import conv_url, group, msg_url, send


class Recorder:
    """Stands in for parley.events.publishing.publish_to_conversation, where every
    conversation frame goes after commit (the only patch allowed here)."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, dict[str, Any]]] = []

    def __call__(self, conversation_id: int, frame: dict[str, Any]) -> None:
        self.frames.append((conversation_id, frame))


@pytest.fixture
def published(monkeypatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(publishing, "publish_to_conversation", recorder)
    return recorder


@pytest.fixture
def room(alice, bob, carol, make_user, api) -> dict[str, Any]:
    """A group (admin alice, bob, carol) with one message from bob; dave can be added."""
    g = group(api(alice), [bob, carol], title="Room")
    message = send(api(bob), g["id"], "first")
    return {"id": g["id"], "message": message["id"], "dave": make_user("dave")}


def _send(api, users, room):
    send(api(users["alice"]), room["id"], "another")


def _edit(api, users, room):
    assert api(users["bob"]).post(msg_url(room["message"], "edit_message"), json={"content": "v2"}).status_code == 200


def _delete(api, users, room):
    assert api(users["bob"]).post(msg_url(room["message"], "delete_message")).status_code == 200


def _read(api, users, room):
    assert api(users["carol"]).post(msg_url(room["message"], "mark_read")).status_code == 200


def _add(api, users, room):
    response = api(users["alice"]).post(
        conv_url(room["id"], "add_participants"), json={"participants": [room["dave"].pk]}
    )
    assert response.status_code == 200


def _remove(api, users, room):
    response = api(users["alice"]).post(conv_url(room["id"], "remove_participant"), json={"user": users["carol"].pk})
    assert response.status_code == 200


def _leave(api, users, room):
    assert api(users["carol"]).post(conv_url(room["id"], "leave")).status_code == 204


def _rename(api, users, room):
    assert api(users["bob"]).patch(conv_url(room["id"]), json={"title": "Renamed"}).status_code == 200


WRITES: dict[str, tuple[Callable[..., None], str]] = {
    "send": (_send, "message.created"),
    "edit": (_edit, "message.updated"),
    "delete": (_delete, "message.deleted"),
    "read": (_read, "message.read"),
    "add": (_add, "members.added"),
    "remove": (_remove, "member.removed"),
    "leave": (_leave, "member.removed"),
    "rename": (_rename, "conversation.renamed"),
}


@pytest.fixture
def users(alice, bob, carol) -> dict[str, Any]:
    return {"alice": alice, "bob": bob, "carol": carol}


@pytest.mark.parametrize("name", WRITES)
def test_every_write_appends_exactly_one_event_numbered_next(
    api, users, room, published, django_capture_on_commit_callbacks, name
):
    write, event_type = WRITES[name]
    before = Conversation.objects.get(pk=room["id"]).last_seq
    assert list(Event.objects.filter(conversation_id=room["id"]).values_list("seq", flat=True).order_by("seq")) == list(
        range(1, before + 1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        write(api, users, room)

    new = list(Event.objects.filter(conversation_id=room["id"], seq__gt=before))
    assert [(e.seq, e.type) for e in new] == [(before + 1, event_type)]
    assert Conversation.objects.get(pk=room["id"]).last_seq == before + 1
    # The frame published after commit is that event.
    assert [(cid, f["type"], f["seq"]) for cid, f in published.frames] == [(room["id"], event_type, before + 1)]


def test_a_message_carries_the_seq_of_its_created_event(alice, api, direct):
    sent = [send(api(alice), direct["id"], f"n{i}") for i in range(3)]
    created = dict(
        Event.objects.filter(conversation_id=direct["id"], type="message.created").values_list("message_id", "seq")
    )
    assert {m["id"]: m["seq"] for m in sent} == created
    assert [m["seq"] for m in sent] == [1, 2, 3]


def test_no_op_writes_append_nothing(alice, bob, api, direct):
    sent = send(api(alice), direct["id"], "same")
    assert api(bob).post(msg_url(sent["id"], "mark_read")).status_code == 200
    before = Event.objects.count()

    assert api(alice).post(msg_url(sent["id"], "edit_message"), json={"content": "same"}).status_code == 200
    assert api(bob).post(msg_url(sent["id"], "mark_read")).status_code == 200  # pointer already there
    assert api(alice).put(conv_url(direct["id"]), json={}).status_code == 200

    assert Event.objects.count() == before


def test_a_refused_write_appends_no_event(alice, bob, carol, api, direct):
    sent = send(api(alice), direct["id"], "x")
    before = Event.objects.count()

    assert api(bob).post(msg_url(sent["id"], "edit_message"), json={"content": "y"}).status_code == 403
    assert api(carol).post(conv_url(direct["id"], "send_message"), json={"content": "y"}).status_code == 403
    assert api(alice).post(conv_url(direct["id"], "send_message"), json={"content": ""}).status_code == 400

    assert Event.objects.count() == before


@pytest.mark.parametrize(
    "committed",
    [
        pytest.param(False, id="inside-a-transaction"),
        pytest.param(True, id="own-transaction", marks=pytest.mark.django_db(transaction=True)),
    ],
)
def test_the_event_and_the_change_share_one_transaction(alice, api, direct, committed):
    """If the event cannot be written, the message is not stored either: whether the
    send runs in a transaction of its own (as served) or inside an open one."""
    conversation = Conversation.objects.get(pk=direct["id"])
    Event.objects.create(conversation=conversation, seq=conversation.last_seq + 1, type="message.read")

    response = api(alice).post(conv_url(direct["id"], "send_message"), json={"content": "lost?"})

    assert response.status_code == 409  # an escaped integrity error is a conflict to retry
    assert body(response)["code"] == "conflict"
    assert not Message.objects.filter(content="lost?").exists()
    assert Conversation.objects.get(pk=direct["id"]).last_seq == conversation.last_seq


# --- Replay ---------------------------------------------------------------------------------------


def test_events_since_returns_them_in_order_exclusive_of_since(alice, bob, api, direct):
    a, b = api(alice), api(bob)
    m1 = send(a, direct["id"], "one")
    send(b, direct["id"], "two")
    assert b.post(msg_url(m1["id"], "mark_read")).status_code == 200
    assert a.post(msg_url(m1["id"], "edit_message"), json={"content": "one!"}).status_code == 200

    everything = body(a.get(conv_url(direct["id"], "events") + "?since=0"))
    assert [f["seq"] for f in everything["events"]] == [1, 2, 3, 4]
    assert [f["type"] for f in everything["events"]] == [
        "message.created",
        "message.created",
        "message.read",
        "message.updated",
    ]
    assert everything["last_seq"] == 4
    assert everything["has_more"] is False

    after_two = body(b.get(conv_url(direct["id"], "events") + "?since=2"))
    assert [f["seq"] for f in after_two["events"]] == [3, 4]
    assert body(b.get(conv_url(direct["id"], "events") + "?since=4"))["events"] == []
    assert body(b.get(conv_url(direct["id"], "events")))["events"] == everything["events"]


def test_events_are_paged_with_has_more(alice, api, direct):
    for i in range(5):
        send(api(alice), direct["id"], f"n{i}")

    first = body(api(alice).get(conv_url(direct["id"], "events") + "?since=0&limit=2"))
    assert [f["seq"] for f in first["events"]] == [1, 2]
    assert first["has_more"] is True
    rest = body(api(alice).get(conv_url(direct["id"], "events") + "?since=2&limit=10"))
    assert [f["seq"] for f in rest["events"]] == [3, 4, 5]
    assert rest["has_more"] is False


def test_replayed_message_events_show_the_current_message(alice, api, direct):
    sent = send(api(alice), direct["id"], "draft")
    assert api(alice).post(msg_url(sent["id"], "edit_message"), json={"content": "final"}).status_code == 200

    frames = body(api(alice).get(conv_url(direct["id"], "events")))["events"]

    assert [f["message"]["content"] for f in frames] == ["final", "final"]


def test_a_deleted_messages_content_never_appears_in_replayed_events(alice, bob, api, direct):
    secret = "SECRET-" + "x" * 8
    sent = send(api(alice), direct["id"], secret, client_id="c1")
    assert api(alice).post(msg_url(sent["id"], "edit_message"), json={"content": secret + "-edited"}).status_code == 200
    assert api(alice).post(msg_url(sent["id"], "delete_message")).status_code == 200

    response = api(bob).get(conv_url(direct["id"], "events") + "?since=0")

    assert response.status_code == 200
    assert secret not in response.text
    frames = body(response)["events"]
    assert frames[-1]["type"] == "message.deleted"
    assert frames[-1]["message_id"] == sent["id"]
    for frame in frames:
        if "message" in frame:
            assert frame["message"]["content"] == ""
            assert frame["message"]["attachment"] is None


# --- Publish after commit -------------------------------------------------------------------------


def test_nothing_is_published_before_commit(alice, api, direct, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sent = send(api(alice), direct["id"], "pending")
    assert published.frames == []
    assert callbacks

    for callback in callbacks:
        callback()

    frames = [f for _, f in published.frames]
    assert [(f["type"], f["seq"], f["message"]["id"]) for f in frames] == [("message.created", 1, sent["id"])]


def test_nothing_is_published_when_the_transaction_rolls_back(
    alice, bob, direct, published, django_capture_on_commit_callbacks
):
    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom), transaction.atomic():
        message_services.message_send(sender=alice, conversation_id=direct["id"], content="never")
        assert Event.objects.filter(conversation_id=direct["id"]).count() == 1  # visible inside
        raise Boom

    assert callbacks == []
    assert published.frames == []
    assert not Message.objects.exists()
    assert not Event.objects.exists()
    assert Conversation.objects.get(pk=direct["id"]).last_seq == 0


def test_each_committed_write_publishes_once(alice, bob, api, direct, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = send(api(alice), direct["id"], "one")
        api(alice).post(msg_url(sent["id"], "edit_message"), json={"content": "two"})
        api(bob).post(msg_url(sent["id"], "mark_read"))
        api(alice).post(msg_url(sent["id"], "delete_message"))

    assert [(f["type"], f["seq"]) for _, f in published.frames] == [
        ("message.created", 1),
        ("message.updated", 2),
        ("message.read", 3),
        ("message.deleted", 4),
    ]
    assert all(cid == direct["id"] for cid, _ in published.frames)
