"""Every list endpoint costs a fixed number of queries, whatever its length.

Each test measures the same request with 2 rows and with 40, asserts the counts are
equal, and pins the number (authentication is one query of it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parley.models import Message
from parley.services import conversations as conversation_services
from parley.services import members as member_services
from parley.services import messages as message_services
from parley.services import reads as read_services
from server.accounts.models import User
from tests.conftest import body
from tests.helpers import CONVERSATIONS, MESSAGES, conv_url

SMALL, LARGE = 2, 40


def queries(fetch: Callable[[], Any]) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as context:
        response = fetch()
    assert response.status_code == 200, response.text
    return len(context.captured_queries), body(response)


def assert_flat(
    fetch: Callable[[], Any], grow: Callable[[], None], expected: int, django_assert_num_queries, size: Callable
) -> None:
    small, data = queries(fetch)
    assert size(data) == SMALL
    grow()
    with django_assert_num_queries(expected):
        response = fetch()
    large = body(response)
    assert size(large) == LARGE
    assert small == expected


def send_many(user: User, conversation_id: int, count: int) -> list[Message]:
    return [
        message_services.message_send(sender=user, conversation_id=conversation_id, content=f"q{i}")[0]
        for i in range(count)
    ]


@pytest.fixture
def others(make_user) -> list[User]:
    return [make_user(f"peer{i:02d}") for i in range(LARGE)]


def test_conversation_list(alice, api, others, django_assert_num_queries):
    def add(users: list[User]) -> None:
        for user in users:
            conversation, _ = conversation_services.conversation_start_direct(user=user, other_user_id=alice.pk)
            send_many(user, conversation.pk, 2)

    add(others[:SMALL])
    client = api(alice)
    assert_flat(
        lambda: client.get(CONVERSATIONS),
        lambda: add(others[SMALL:]),
        6,  # auth, conversations, members, recent message ids, messages, the caller's blocks
        django_assert_num_queries,
        size=len,
    )
    listed = body(client.get(CONVERSATIONS))
    assert all(len(c["messages"]) == 2 and c["last_message"] for c in listed)


def test_conversation_list_with_large_groups(alice, api, others, django_assert_num_queries):
    group = conversation_services.conversation_create_group(
        creator=alice, title="big", participant_ids=[u.pk for u in others[: SMALL - 1]]
    )
    send_many(alice, group.pk, 3)
    client = api(alice)
    assert_flat(
        lambda: client.get(CONVERSATIONS),
        lambda: member_services.members_add(
            actor=alice, conversation_id=group.pk, user_ids=[u.pk for u in others[SMALL - 1 : LARGE - 1]]
        ),
        6,
        django_assert_num_queries,
        size=lambda data: len(data[0]["participants"]),
    )


def test_conversation_detail_embeds_messages_in_fixed_queries(alice, bob, api, direct, django_assert_num_queries):
    send_many(alice, direct["id"], SMALL)
    client = api(bob)
    assert_flat(
        lambda: client.get(conv_url(direct["id"])),
        lambda: send_many(alice, direct["id"], LARGE - SMALL),
        7,  # auth, membership, conversation, members, recent ids, messages, the caller's blocks
        django_assert_num_queries,
        size=lambda data: len(data["messages"]),
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The page reads the quotes, the caller's reactions and blocks in its own statement.
        ("?page=1&page_size=50", 4),  # auth, membership, count, page
        ("?page_size=500", 4),
        ("?limit=50", 3),  # auth, membership, page: keyset never counts
        ("?before=999999999&limit=50", 3),
        ("?after=0&limit=50", 3),
    ],
)
def test_conversation_messages(alice, bob, api, direct, query, expected, django_assert_num_queries):
    send_many(alice, direct["id"], SMALL)
    client = api(bob)
    assert_flat(
        lambda: client.get(conv_url(direct["id"], "messages") + query),
        lambda: send_many(bob, direct["id"], LARGE - SMALL),
        expected,
        django_assert_num_queries,
        size=lambda data: len(data["results"]),
    )


@pytest.mark.parametrize(("query", "expected"), [("", 4), ("?limit=100", 3)])
def test_global_messages(alice, api, others, query, expected, django_assert_num_queries):
    def add(users: list[User]) -> None:
        for user in users:
            conversation, _ = conversation_services.conversation_start_direct(user=user, other_user_id=alice.pk)
            send_many(user, conversation.pk, 1)

    add(others[:SMALL])
    client = api(alice)
    assert_flat(
        lambda: client.get(MESSAGES + query),
        lambda: add(others[SMALL:]),
        expected,  # auth, (count,) page, the caller's blocks
        django_assert_num_queries,
        size=lambda data: len(data["results"]),
    )


def test_events(alice, bob, api, direct, django_assert_num_queries):
    def add(count: int) -> None:
        for message in send_many(alice, direct["id"], count // 2):
            read_services.read_pointer_move(user=bob, message_id=message.pk)

    add(SMALL)
    client = api(bob)
    assert_flat(
        lambda: client.get(conv_url(direct["id"], "events")),
        lambda: add(LARGE - SMALL),
        4,  # auth, membership, events, the messages they name
        django_assert_num_queries,
        size=lambda data: len(data["events"]),
    )


def test_users_search(alice, api, make_user, django_assert_num_queries):
    def add(first: int, last: int) -> None:
        for i in range(first, last):
            make_user(f"findme{i:02d}")

    add(0, SMALL)
    client = api(alice)
    assert_flat(
        lambda: client.get("/api/users/?search=findme&limit=50"),
        lambda: add(SMALL, LARGE),
        2,  # auth, users
        django_assert_num_queries,
        size=len,
    )


# --- SPEC 10: reactions, replies and mentions cost no query per message ------------------------
# A page without reactions or replies costs what it did before SPEC 10 (the tests above);
# one with replies one statement more (the parents' quotes), one with reactions one more
# (the reader's own, for `me`), whatever the page's length.


def decorate(messages: list[Message], reactors: list[User], members: list[User]) -> None:
    """Every message gets reactions from two users, a reply quoting it, and a mention."""
    from parley.services import reactions as reaction_services

    for message in messages:
        for user in reactors:
            reaction_services.reaction_add(user=user, message_id=message.pk, emoji="👍")
        reaction_services.reaction_add(user=reactors[0], message_id=message.pk, emoji="🎉")
        message_services.message_send(
            sender=members[0],
            conversation_id=message.conversation_id,
            content="re",
            reply_to=message.pk,
            mentions=[members[1].pk],
        )


def test_history_page_with_reactions_replies_mentions(alice, bob, api, direct, django_assert_num_queries):
    def add(count: int) -> None:
        decorate(send_many(alice, direct["id"], count), [alice, bob], [bob, alice])

    add(3)  # 6 messages: 3 decorated, 3 replies; a page of 5
    client = api(bob)
    fetch_small = lambda: client.get(conv_url(direct["id"], "messages") + "?limit=5")  # noqa: E731
    small, data = queries(fetch_small)
    assert len(data["results"]) == 5
    assert any(m["reactions"] for m in data["results"]) and any(m["reply_to"] for m in data["results"])
    # auth, membership, the page: with the reaction counts, the parents' quotes, the
    # caller's own reactions and blocks (sender_blocked) in the same statement
    assert small == 3
    add(25)
    with django_assert_num_queries(small):
        response = client.get(conv_url(direct["id"], "messages") + "?limit=50")
    large = body(response)["results"]
    assert len(large) == 50
    assert sum(1 for m in large if m["reply_to"]) == 25 and sum(1 for m in large if m["reactions"]) == 25
    with django_assert_num_queries(small + 1):  # page mode: the count too
        client.get(conv_url(direct["id"], "messages") + "?page_size=50")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("thread", 6),  # auth, parent message, count, page, the parent's quote, the caller's blocks
        ("thread?after=0&limit=50", 5),  # auth, parent message, page, the parent's quote, blocks
    ],
)
def test_thread(alice, bob, api, direct, path, expected, django_assert_num_queries):
    parent = send_many(alice, direct["id"], 1)[0]
    reply = lambda count: [  # noqa: E731
        message_services.message_send(sender=bob, conversation_id=direct["id"], content="r", reply_to=parent.pk)
        for _ in range(count)
    ]
    reply(SMALL)
    client = api(alice)
    assert_flat(
        lambda: client.get(f"{MESSAGES}{parent.pk}/{path}"),
        lambda: reply(LARGE - SMALL),
        expected,
        django_assert_num_queries,
        size=lambda data: len(data["results"]),
    )


def test_mentions_pins_and_history(alice, bob, api, direct, django_assert_num_queries):
    from parley.services import pins as pin_services

    def grow(count: int) -> None:
        for message in send_many(alice, direct["id"], count):
            pin_services.message_pin_set(user=alice, message_id=message.pk, pinned=True)
            message_services.message_send(sender=alice, conversation_id=direct["id"], content="m", mentions=[bob.pk])
            message_services.message_edit(user=alice, message_id=message.pk, content=f"edited {message.pk}")

    grow(SMALL)
    client = api(bob)
    assert_flat(
        lambda: client.get("/api/chat/mentions/"),
        lambda: grow(LARGE - SMALL),
        2,  # auth, page
        django_assert_num_queries,
        size=lambda data: len(data["results"]),
    )
    with django_assert_num_queries(3):  # auth, membership, pins
        response = client.get(conv_url(direct["id"], "pins"))
    assert len(body(response)["results"]) == LARGE
    edited = Message.objects.filter(conversation_id=direct["id"], edited_at__isnull=False).first()
    assert edited is not None
    with django_assert_num_queries(3):  # auth, message, versions
        client.get(f"{MESSAGES}{edited.pk}/history/")
