"""The benchmark's data generator writes rows the product reads as its own.

bench/seed.py bulk-loads messages and events (PostgreSQL COPY, SQLite executemany)
with every column of the models: a column added to Message or Event without a value
there breaks every `make bench` run at the seed, as SPEC 10's did once.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.seed import messages_insert
from parley.models import Conversation, Event
from server.accounts.models import User
from tests.conftest import body
from tests.helpers import conv_url


@pytest.mark.django_db(transaction=True)
def test_seeded_messages_are_a_normal_history(alice: User, bob: User, api: Any, direct: dict[str, Any]) -> None:
    spans = messages_insert([(direct["id"], [alice.pk, bob.pk], 7)])
    first, last = spans[direct["id"]]
    assert last - first == 6

    page = body(api(bob).get(conv_url(direct["id"], "messages") + "?limit=50"))["results"]
    assert [m["id"] for m in page] == list(range(first, last + 1))
    assert [m["sender"] for m in page[:2]] == [alice.pk, bob.pk]
    assert all(m["reactions"] == [] and m["reply_to"] is None and m["mentions"] == [] for m in page)
    assert not any(m["pinned"] or m["is_deleted"] for m in page)
    conversation = Conversation.objects.get(pk=direct["id"])
    assert conversation.last_message_id == last
    events = Event.objects.filter(message_id__in=[m["id"] for m in page]).order_by("seq")
    assert list(events.values_list("seq", flat=True)) == [m["seq"] for m in page]
