"""Retention keeps catch-up honest: a pruned `since` gets `resync_required`, a recent one
catches up as before.

    prune_events             events older than N days go, each conversation's latest stays
    apply_message_retention  messages older than PARLEY["MESSAGE_RETENTION_DAYS"] go, with
                             their files and events; unread counters are recounted
    cleanup_attachments      orphan files go, found by the storage's listdir

Events are aged by moving their `created_at` back (the clock, not the data, is faked).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.management import CommandError, call_command
from django.utils import timezone

from parley.models import Conversation, Event, Membership, Message
from parley.services.conversations import conversation_start_direct
from parley.services.messages import message_send
from parley.storage import attachment_storage
from tests.conftest import body
from tests.helpers import conv_url
from tests.ws import Socket, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)

OLD = timedelta(days=40)


def conversation_with(alice: Any, bob: Any, count: int) -> int:
    cid = conversation_start_direct(user=alice, other_user_id=bob.pk)[0].pk
    for i in range(count):
        message_send(sender=alice, conversation_id=cid, content=f"m{i}")
    return int(cid)


def age_events(cid: int, *, through_seq: int) -> None:
    Event.objects.filter(conversation_id=cid, seq__lte=through_seq).update(created_at=timezone.now() - OLD)


def prune(days: int = 30) -> None:
    call_command("prune_events", older_than_days=days, stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_prune_keeps_recent_events_and_each_conversations_latest(alice: Any, bob: Any, carol: Any) -> None:
    busy = conversation_with(alice, bob, 10)
    quiet = conversation_with(alice, carol, 3)
    last = Conversation.objects.get(pk=busy).last_seq
    age_events(busy, through_seq=6)
    age_events(quiet, through_seq=10**9)  # all of it old
    prune()
    assert list(Event.objects.filter(conversation_id=busy).values_list("seq", flat=True).order_by("seq")) == list(
        range(7, last + 1)
    )
    quiet_last = Conversation.objects.get(pk=quiet).last_seq
    assert list(Event.objects.filter(conversation_id=quiet).values_list("seq", flat=True)) == [quiet_last]
    with pytest.raises(CommandError):
        call_command("prune_events", older_than_days=0)


def test_rest_events_after_a_pruned_since_is_410_resync_required(alice: Any, bob: Any, api: Any) -> None:
    cid = conversation_with(alice, bob, 10)
    last = Conversation.objects.get(pk=cid).last_seq
    age_events(cid, through_seq=6)
    prune()
    gone = api(alice).get(conv_url(cid, "events") + "?since=2")
    assert gone.status_code == 410
    assert body(gone) == {
        "detail": "Events after this seq are no longer kept; reload the conversation and use its last_seq.",
        "code": "resync_required",
        "conversation": cid,
        "oldest_seq": 7,
    }
    assert api(alice).get(conv_url(cid, "events") + "?since=0").status_code == 410
    recent = body(api(alice).get(conv_url(cid, "events") + "?since=6"))
    assert [e["seq"] for e in recent["events"]] == list(range(7, last + 1)) and recent["last_seq"] == last
    assert body(api(alice).get(conv_url(cid, "events") + f"?since={last}"))["events"] == []
    # The way back: reload the conversation, then go on from its last_seq.
    reloaded = body(api(alice).get(conv_url(cid)))
    assert reloaded["last_seq"] == last
    assert body(api(alice).get(conv_url(cid, "events") + f"?since={reloaded['last_seq']}"))["events"] == []


async def test_conversation_socket_with_a_pruned_since_is_told_and_closed_4410(alice: Any, bob: Any) -> None:
    cid = await database_sync_to_async(conversation_with)(alice, bob, 10)
    await database_sync_to_async(age_events)(cid, through_seq=6)
    await database_sync_to_async(prune)()
    token = await atoken_for(bob)

    stale = Socket.for_user(token, cid, since=3)
    assert await stale.connect()
    frame = await stale.receive()
    assert frame == {
        "type": "error",
        "ref": None,
        "code": "resync_required",
        "detail": "Events after your 'since' are no longer kept; reload the conversation and use its last_seq.",
        "conversation": cid,
        "oldest_seq": 7,
    }
    assert await stale.closed_with() == 4410

    recent = Socket.for_user(token, cid, since=6)
    assert await recent.connect()
    frames = [await recent.receive() for _ in range(5)]
    assert [f["seq"] for f in frames[:4]] == [7, 8, 9, 10] and frames[4]["type"] == "ready"
    await recent.close()


async def test_user_socket_resyncs_only_the_pruned_conversation_and_stays_open(
    alice: Any, bob: Any, carol: Any
) -> None:
    pruned = await database_sync_to_async(conversation_with)(alice, bob, 10)
    kept = await database_sync_to_async(conversation_with)(carol, bob, 4)
    await database_sync_to_async(age_events)(pruned, through_seq=6)
    await database_sync_to_async(prune)()
    socket = Socket.for_user(await atoken_for(bob), since={str(pruned): 2, str(kept): 2})
    assert await socket.connect()
    seen = []
    while (frame := await socket.receive())["type"] != "ready":
        seen.append(frame)
    assert [(f["type"], f.get("code"), f.get("conversation")) for f in seen if f["type"] == "error"] == [
        ("error", "resync_required", pruned)
    ]
    assert [f["seq"] for f in seen if f["type"] != "error" and f["conversation"] == kept] == [3, 4]
    assert not [f for f in seen if f["type"] != "error" and f["conversation"] == pruned]
    assert frame["conversations"] == {str(pruned): 10, str(kept): 4}
    # Live from there on.
    await database_sync_to_async(message_send)(sender=alice, conversation_id=pruned, content="after")
    live = await socket.receive_until("message.created")
    assert (live["conversation"], live["seq"]) == (pruned, 11)
    await socket.close()


def test_apply_message_retention_deletes_old_messages_files_and_events(
    alice: Any, bob: Any, api: Any, settings: Any
) -> None:
    with pytest.raises(CommandError, match="MESSAGE_RETENTION_DAYS"):
        call_command("apply_message_retention")
    cid = conversation_with(alice, bob, 0)
    with_file = api(alice).post(
        conv_url(cid, "send_message"), data={"content": "old file"}, files={"attachment": ("a.txt", b"x" * 100)}
    )
    assert with_file.status_code == 201
    old_file = Message.objects.get(pk=body(with_file)["id"]).attachment.name
    for i in range(3):
        message_send(sender=alice, conversation_id=cid, content=f"old{i}")
    old_ids = list(Message.objects.filter(conversation_id=cid).values_list("id", flat=True))
    Message.objects.filter(id__in=old_ids).update(timestamp=timezone.now() - OLD)
    age_events(cid, through_seq=10**9)
    new = message_send(sender=alice, conversation_id=cid, content="new")[0]
    assert Membership.objects.get(conversation_id=cid, user=bob).unread_count == 5

    settings.PARLEY = {**settings.PARLEY, "MESSAGE_RETENTION_DAYS": 30}
    call_command("apply_message_retention", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(Message.objects.filter(conversation_id=cid).values_list("id", flat=True)) == [new.pk]
    assert not attachment_storage.exists(old_file)
    assert Membership.objects.get(conversation_id=cid, user=bob).unread_count == 1
    assert api(bob).get(conv_url(cid, "events") + "?since=1").status_code == 410
    history = body(api(bob).get(conv_url(cid, "messages")))
    assert [m["content"] for m in history["results"]] == ["new"]


def test_cleanup_attachments_walks_the_storage(alice: Any, bob: Any, api: Any) -> None:
    cid = conversation_with(alice, bob, 0)
    kept = api(alice).post(conv_url(cid, "send_message"), data={"content": "f"}, files={"attachment": ("k", b"k")})
    kept_name = Message.objects.get(pk=body(kept)["id"]).attachment.name
    orphan = attachment_storage.save("ab/cd/orphan", _content(b"orphan"))
    call_command("cleanup_attachments", min_age=3600, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert attachment_storage.exists(orphan)  # too young
    call_command("cleanup_attachments", min_age=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not attachment_storage.exists(orphan) and attachment_storage.exists(kept_name)


def _content(data: bytes) -> Any:
    from django.core.files.base import ContentFile

    return ContentFile(data)
