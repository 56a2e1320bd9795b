"""Deterministic performance guards: query shapes, not timings.

Part of `make test`: on PostgreSQL (the second CI run) the EXPLAIN guards run too.

- send_message runs a fixed budget of statements, whatever the conversation's size;
- the keyset history page is a range scan of parley_msg_live_idx on PostgreSQL (EXPLAIN
  with sorts and sequential scans disabled, as at scale: the index gives the order),
  and the conversation list starts from the user's memberships, not a table scan, so
  their cost does not grow with the table;
- the messages embedded in a conversation page are one index scan per conversation,
  in one statement planned once;
- a WebSocket connect costs the same queries for a user in 2 or 40 conversations.

tests/test_queries.py pins the read endpoints' counts; these add the write path, the
plans and the socket handshake.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import pytest
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.test.utils import CaptureQueriesContext

from parley import selectors
from parley.models import Conversation, Membership, Message
from parley.selectors.conversations import _recent_message_ids
from parley.services import conversations as conversation_services
from parley.services import messages as message_services
from server.accounts.models import User
from tests.conftest import body

SMALL, LARGE = 2, 40


@pytest.fixture
def peers(make_user: Any) -> list[User]:
    return [make_user(f"guard{i:02d}") for i in range(LARGE)]


def send_queries(client: Any, conversation_id: int, **payload: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            f"/api/chat/conversations/{conversation_id}/send_message/", json={"content": "hi", **payload}
        )
    assert response.status_code == 201, response.text
    return len([q for q in queries if q["sql"] not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT")])


# A send is the token's user, then chat.services.sending: the locking UPDATE and one
# statement on PostgreSQL (the outbox row is one of its CTEs); on SQLite (no
# data-modifying CTEs) the gate and six writes, the notification outbox's row the sixth.
SEND_STATEMENTS = {"postgresql": 3, "sqlite": 8}


@pytest.mark.django_db(transaction=True)
def test_send_message_runs_its_statement_budget(alice: User, bob: User, api: Any) -> None:
    conversation, _ = conversation_services.conversation_start_direct(user=alice, other_user_id=bob.pk)
    client = api(alice)
    send_queries(client, conversation.pk)  # warm: connection setup

    assert send_queries(client, conversation.pk) == SEND_STATEMENTS[connection.vendor]
    assert send_queries(client, conversation.pk, client_id="guard-1") == SEND_STATEMENTS[connection.vendor]


@pytest.mark.django_db(transaction=True)
def test_send_message_queries_do_not_grow_with_the_group(alice: User, peers: list[User], api: Any) -> None:
    small = conversation_services.conversation_create_group(
        creator=alice, title="small", participant_ids=[u.pk for u in peers[: SMALL - 1]]
    )
    large = conversation_services.conversation_create_group(
        creator=alice, title="large", participant_ids=[u.pk for u in peers[: LARGE - 1]]
    )
    client = api(alice)
    send_queries(client, small.pk)  # warm: connection setup, content types
    assert send_queries(client, small.pk) == send_queries(client, large.pk)


@pytest.mark.django_db
def test_keyset_page_is_an_index_range_scan(alice: User, bob: User, peers: list[User]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN guard runs on PostgreSQL")
    conversations = []
    for other in [bob, *peers[:19]]:
        conversation, _ = conversation_services.conversation_start_direct(user=alice, other_user_id=other.pk)
        conversations.append(conversation)
        for n in range(30):
            message_services.message_send(sender=alice, conversation_id=conversation.pk, content=f"m{n}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE parley_message")
        # At test scale "read 30 rows and sort them" is cheaper and the planner rightly
        # takes it; without sorts it must show which index serves the order at scale.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
    target = conversations[0]
    newest = Message.objects.filter(conversation=target).order_by("-id").values_list("id", flat=True)[10]
    for before in (None, newest):
        messages = selectors.live_messages(conversation_id=target.pk)
        if before is not None:
            messages = messages.filter(id__lt=before)
        plan = str(messages.order_by("-id").values("id")[:51].explain())
        assert "parley_msg_live_idx" in plan, plan
        assert "Sort" not in plan and "Seq Scan" not in plan, plan
        # The history page's own statement (with the quotes, `me` and the blocks).
        history = selectors.ConversationHistory(target.pk, viewer_id=alice.pk)
        with CaptureQueriesContext(connection) as queries:
            history.keyset_page(before=before, after=None, limit=50)
        assert len(queries.captured_queries) == 1
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + queries.captured_queries[0]["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Backward using parley_msg_live_idx" in plan, plan
        assert "Sort" not in plan and "Seq Scan on parley_message" not in plan, plan


@pytest.mark.django_db
def test_embedded_messages_are_one_index_scan_per_conversation(alice: User, bob: User, peers: list[User]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN guard runs on PostgreSQL")
    conversation_ids = []
    for other in [bob, *peers[:9]]:
        conversation, _ = conversation_services.conversation_start_direct(user=alice, other_user_id=other.pk)
        conversation_ids.append(conversation.pk)
        for n in range(20):
            message_services.message_send(sender=alice, conversation_id=conversation.pk, content=f"m{n}")
    with CaptureQueriesContext(connection) as queries:
        ids = _recent_message_ids(conversation_ids, 5)
    captured = [q["sql"] for q in queries]
    assert len(ids) == 50 and len(captured) == 1
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE parley_message")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + captured[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # One short backward scan per conversation, in a single plan (no per-branch planning).
    assert "Nested Loop" in plan and "Backward using parley_msg_live_idx" in plan, plan
    assert "Sort" not in plan and "Seq Scan on parley_message" not in plan, plan


@pytest.mark.django_db
def test_conversation_list_is_driven_by_the_users_memberships(alice: User, peers: list[User]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN guard runs on PostgreSQL")
    for other in peers:
        conversation_services.conversation_start_direct(user=other, other_user_id=alice.pk)
    for other in peers[:10]:
        for friend in peers[10:30]:
            conversation_services.conversation_start_direct(user=other, other_user_id=friend.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE parley_membership")
        cursor.execute("ANALYZE parley_conversation")
    plan = str(
        Conversation.objects.filter(memberships__user_id=peers[0].pk, memberships__hidden=False)
        .order_by("-updated_at", "-id")
        .values("id")[:51]
        .explain()
    )
    assert "Seq Scan on parley_membership" not in plan, plan
    assert Membership.objects.filter(user=peers[0]).count() == 21


@contextmanager
def every_thread_queries() -> Iterator[list[str]]:
    """Statements run on any thread (the consumer's run on Channels' database thread)."""
    seen: list[str] = []
    execute, executemany = CursorWrapper.execute, CursorWrapper.executemany

    def counting(self: CursorWrapper, sql: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(sql)
        return execute(self, sql, *args, **kwargs)

    def counting_many(self: CursorWrapper, sql: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(sql)
        return executemany(self, sql, *args, **kwargs)

    with patch.object(CursorWrapper, "execute", counting), patch.object(CursorWrapper, "executemany", counting_many):
        yield seen


async def _connect(token: str) -> None:
    from channels.testing import WebsocketCommunicator

    from tests.conftest import in_process_application

    communicator = WebsocketCommunicator(in_process_application(), f"/ws/chat/?token={token}")
    connected, _ = await communicator.connect()
    assert connected
    while (await communicator.receive_json_from(timeout=10))["type"] != "ready":
        pass
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
def test_socket_connect_queries_do_not_grow_with_conversations(alice: User, peers: list[User], api: Any) -> None:
    from asgiref.sync import async_to_sync

    from server.accounts.tokens import token_pair_for_user

    token = token_pair_for_user(alice)["access"]
    for other in peers[:SMALL]:
        conversation_services.conversation_start_direct(user=other, other_user_id=alice.pk)
    async_to_sync(_connect)(token)  # warm
    with every_thread_queries() as small:
        async_to_sync(_connect)(token)
    for other in peers[SMALL:]:
        conversation_services.conversation_start_direct(user=other, other_user_id=alice.pk)
    assert len(body(api(alice).get("/api/chat/conversations/?embed=0"))) == LARGE
    with every_thread_queries() as large:
        async_to_sync(_connect)(token)
    assert len(large) == len(small), (small, large)


@contextmanager
def thread_hops() -> Iterator[list[str]]:
    """The sync functions the event loop handed to a thread (every sync_to_async call)."""
    from asgiref.sync import SyncToAsync

    seen: list[str] = []
    handler = SyncToAsync.thread_handler

    def counting(self: Any, loop: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(self.func, "__name__", repr(self.func)))
        return handler(self, loop, *args, **kwargs)

    with patch.object(SyncToAsync, "thread_handler", counting):
        yield seen


@pytest.mark.django_db(transaction=True)
async def test_a_socket_costs_two_thread_hops_to_open_one_per_command_and_none_per_live_frame(alice, bob) -> None:
    from channels.db import database_sync_to_async

    from tests.ws import Socket, atoken_for

    conversation, _ = await database_sync_to_async(conversation_services.conversation_start_direct)(
        user=alice, other_user_id=bob.pk
    )
    reader = Socket.for_user(await atoken_for(bob), conversation.pk)
    sender = Socket.for_user(await atoken_for(alice), conversation.pk)
    with thread_hops() as opening:
        await reader.open()
    assert opening == ["socket_open", "socket_catch_up"]
    await sender.open()
    await reader.drain(0.1)
    with thread_hops() as sending:
        await sender.send({"type": "message.send", "content": "hi", "ref": 1})
        await sender.receive_until("ack")
        with thread_hops() as live:
            assert (await reader.receive_until("message.created"))["message"]["content"] == "hi"
    assert sending == ["command_send"]
    assert live == []  # Channels' dispatch would hop to close_old_connections first
    await reader.close()
    await sender.close()
