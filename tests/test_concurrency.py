"""Races between real threads, each with its own database connection.

On PostgreSQL the conversation row lock (SELECT ... FOR UPDATE) and the unique
constraints decide; on SQLite the IMMEDIATE transactions admit one writer at a time.
Both must give the same answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from django.db import connection

from parley.common.errors import NotParticipant
from parley.models import Conversation, Event, Membership, Message
from parley.services import conversations as conversation_services
from parley.services import messages as message_services
from parley.services import reads as read_services
from parley.services.sequencing import conversation_write
from server.accounts.tokens import token_pair_for_user
from tests.conftest import Api, body
from tests.helpers import CONVERSATIONS, conv_url

pytestmark = pytest.mark.django_db(transaction=True)

T = TypeVar("T")


def race(count: int, work: Callable[[int], T]) -> list[T]:
    """Run `work(0..count-1)` in threads released together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def test_simultaneous_starts_from_both_sides_give_one_conversation(make_user):
    pairs = [(make_user(f"left{i}"), make_user(f"right{i}")) for i in range(4)]
    for left, right in pairs:
        sides = [(left, right), (right, left), (left, right), (right, left)]

        results = race(
            len(sides),
            lambda i, sides=sides: conversation_services.conversation_start_direct(
                user=sides[i][0], other_user_id=sides[i][1].pk
            ),
        )

        assert len({conversation.pk for conversation, _ in results}) == 1
        assert [created for _, created in results].count(True) == 1
    assert Conversation.objects.count() == len(pairs)
    assert Membership.objects.count() == 2 * len(pairs)


def test_simultaneous_starts_over_http(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    clients = [Api(token_pair_for_user(u)["access"]) for u in (alice, bob)]
    targets = [bob, alice]

    responses = race(2, lambda i: clients[i].post(f"{CONVERSATIONS}start/", json={"user2": targets[i].pk}))

    assert sorted(r.status_code for r in responses) == [200, 201]
    assert len({body(r)["id"] for r in responses}) == 1
    assert Conversation.objects.count() == 1


def test_concurrent_sends_get_gapless_unique_seqs(make_user):
    members = [make_user(f"member{i}") for i in range(4)]
    group = conversation_services.conversation_create_group(
        creator=members[0], title="busy", participant_ids=[u.pk for u in members[1:]]
    )
    threads, per_thread = 8, 5

    def work(i: int) -> list[int]:
        sender = members[i % len(members)]
        return [
            message_services.message_send(sender=sender, conversation_id=group.pk, content=f"t{i}-{n}")[0].pk
            for n in range(per_thread)
        ]

    sent = [pk for ids in race(threads, work) for pk in ids]

    total = threads * per_thread
    assert len(set(sent)) == total
    events = list(Event.objects.filter(conversation=group).order_by("seq").values_list("seq", "type", "message_id"))
    assert [seq for seq, _, _ in events] == list(range(1, total + 1))
    assert {t for _, t, _ in events} == {"message.created"}
    messages = dict(Message.objects.filter(conversation=group).values_list("id", "seq"))
    assert sorted(messages.values()) == list(range(1, total + 1))
    assert {message_id: seq for seq, _, message_id in events} == messages
    # Message ids and seqs agree on the order.
    assert sorted(messages, key=messages.__getitem__) == sorted(messages)
    group.refresh_from_db()
    assert group.last_seq == total
    assert group.last_message_id == max(messages)
    for membership in Membership.objects.filter(conversation=group):
        own = Message.objects.filter(conversation=group, sender_id=membership.user_id).count()
        assert membership.unread_count == total - own


def test_concurrent_sends_with_one_client_id_store_one_message(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    conversation, _ = conversation_services.conversation_start_direct(user=alice, other_user_id=bob.pk)

    results = race(
        8,
        lambda i: message_services.message_send(
            sender=alice, conversation_id=conversation.pk, content="once", client_id="retry-1"
        ),
    )

    assert len({message.pk for message, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert Message.objects.count() == 1
    assert Event.objects.filter(conversation=conversation).count() == 1
    assert Membership.objects.get(conversation=conversation, user=bob).unread_count == 1


def test_concurrent_retries_over_http_are_idempotent(make_user, tmp_path, settings):
    alice, bob = make_user("alice"), make_user("bob")
    conversation, _ = conversation_services.conversation_start_direct(user=alice, other_user_id=bob.pk)
    clients = [Api(token_pair_for_user(alice)["access"]) for _ in range(4)]

    responses = race(
        4,
        lambda i: clients[i].post(
            conv_url(conversation.pk, "send_message"),
            data={"content": "with file", "client_id": "upload-1"},
            files={"attachment": ("a.txt", b"payload", "text/plain")},
        ),
    )

    assert [r.status_code for r in responses] == [201] * 4
    assert len({body(r)["id"] for r in responses}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in responses) == 1
    assert Message.objects.count() == 1
    # The retries' copies of the file are discarded: one file is left.
    stored = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert len(stored) == 1


def test_concurrent_read_pointer_moves_keep_the_highest(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    conversation, _ = conversation_services.conversation_start_direct(user=alice, other_user_id=bob.pk)
    ids = [
        message_services.message_send(sender=alice, conversation_id=conversation.pk, content=f"r{i}")[0].pk
        for i in range(6)
    ]

    race(len(ids), lambda i: read_services.read_pointer_move(user=bob, message_id=ids[i]))

    membership = Membership.objects.get(conversation=conversation, user=bob)
    assert membership.last_read_message_id == max(ids)
    assert membership.unread_count == 0
    assert Message.objects.filter(conversation=conversation, is_read=False).count() == 0
    seqs = list(Event.objects.filter(conversation=conversation).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_refresh_token_is_single_use_under_concurrency(make_user):
    """Rotation detects a stolen refresh token only if two uses cannot both succeed."""
    alice = make_user("alice")
    refresh = token_pair_for_user(alice)["refresh"]
    clients = [Api() for _ in range(6)]

    responses = race(6, lambda i: clients[i].post("/api/auth/refresh/", json={"refresh": refresh}))

    assert sorted(r.status_code for r in responses) == [200] + [401] * 5


def _removed_while_waiting(make_user: Callable[..., Any], write: Callable[[Any, int], object]) -> object:
    """Remove bob from a group while holding its lock, and let bob's `write` queue
    behind that lock; return what `write` returned or raised."""
    alice, bob = make_user("alice"), make_user("bob")
    group = conversation_services.conversation_create_group(creator=alice, title="g", participant_ids=[bob.pk])
    locked, outcome = threading.Event(), {}

    def remover() -> None:
        try:
            with conversation_write(group.pk):
                Membership.objects.filter(conversation=group, user=bob).delete()
                locked.set()
                time.sleep(0.5)  # bob's write is now waiting for the lock
        finally:
            connection.close()

    def writer() -> None:
        locked.wait(10)
        try:
            outcome["result"] = write(bob, group.pk)
        except Exception as exc:  # noqa: BLE001 - the outcome is the point
            outcome["result"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=remover), threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcome["result"]


def test_a_member_removed_while_a_send_waits_for_the_lock_cannot_send(make_user):
    # The membership check must see the removal that committed while the send waited.
    result = _removed_while_waiting(
        make_user, lambda bob, cid: message_services.message_send(sender=bob, conversation_id=cid, content="late")
    )

    assert isinstance(result, NotParticipant), result
    assert not Message.objects.filter(content="late").exists()


def test_a_member_removed_while_a_rename_waits_for_the_lock_cannot_rename(make_user):
    result = _removed_while_waiting(
        make_user,
        lambda bob, cid: conversation_services.conversation_rename(user=bob, conversation_id=cid, title="mine"),
    )

    assert isinstance(result, NotParticipant), result
    assert not Conversation.objects.filter(title="mine").exists()


def test_refused_sends_leave_no_gap_in_seq(make_user):
    alice, bob, mallory = make_user("alice"), make_user("bob"), make_user("mallory")
    conversation, _ = conversation_services.conversation_start_direct(user=alice, other_user_id=bob.pk)
    message_services.message_send(sender=alice, conversation_id=conversation.pk, content="one", client_id="k1")

    with pytest.raises(NotParticipant):
        message_services.message_send(sender=mallory, conversation_id=conversation.pk, content="sneak")
    replay, created = message_services.message_send(
        sender=alice, conversation_id=conversation.pk, content="one", client_id="k1"
    )
    message_services.message_send(sender=bob, conversation_id=conversation.pk, content="two")

    assert created is False and replay.content == "one"
    assert list(Event.objects.filter(conversation=conversation).order_by("seq").values_list("seq", flat=True)) == [1, 2]
    conversation.refresh_from_db()
    assert conversation.last_seq == 2
    assert conversation.last_message_id == Message.objects.get(content="two").pk
    assert Membership.objects.get(conversation=conversation, user=alice).unread_count == 1
    assert Membership.objects.get(conversation=conversation, user=bob).unread_count == 1
