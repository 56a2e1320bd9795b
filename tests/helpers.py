"""Small factories and HTTP shortcuts shared by the REST test modules.

Writes go through the public API or chat.services (the one write path), except
`bulk_messages`, which inserts many history rows at once for pagination and query
tests that only read them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone

from parley.models import Conversation, Message
from tests import hosts
from tests.conftest import Api, body

User = Any

CONVERSATIONS = "/api/chat/conversations/"
MESSAGES = "/api/chat/messages/"


def conv_url(conversation_id: int, action: str = "") -> str:
    return f"{CONVERSATIONS}{conversation_id}/" + (f"{action}/" if action else "")


def msg_url(message_id: int, action: str = "") -> str:
    return f"{MESSAGES}{message_id}/" + (f"{action}/" if action else "")


def start(client: Api, other: User) -> dict[str, Any]:
    response = client.post(f"{CONVERSATIONS}start/", json={"user2": hosts.uid(other)})
    assert response.status_code in (200, 201), response.text
    return body(response)


def group(client: Api, members: list[User], title: str = "Team") -> dict[str, Any]:
    response = client.post(CONVERSATIONS, json={"participants": [hosts.uid(u) for u in members], "title": title})
    assert response.status_code == 201, response.text
    return body(response)


def send(client: Api, conversation_id: int, content: str = "hello", **fields: Any) -> dict[str, Any]:
    response = client.post(conv_url(conversation_id, "send_message"), json={"content": content, **fields})
    assert response.status_code == 201, response.text
    return body(response)


def page(client: Api, conversation_id: int, query: str = "") -> dict[str, Any]:
    response = client.get(conv_url(conversation_id, "messages") + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text
    return body(response)


def bulk_messages(conversation_id: int, sender: User, count: int, *, prefix: str = "m") -> list[Message]:
    """`count` history rows in one INSERT, numbered after the conversation's last seq."""
    conversation = Conversation.objects.get(pk=conversation_id)
    start_seq = conversation.last_seq
    now = timezone.now()
    rows = Message.objects.bulk_create(
        [
            Message(
                conversation_id=conversation_id,
                sender=sender,
                content=f"{prefix}{i}",
                seq=start_seq + i,
                timestamp=now + timedelta(microseconds=i),
            )
            for i in range(1, count + 1)
        ]
    )
    latest = Message.objects.filter(conversation_id=conversation_id).aggregate(m=Max("id"))["m"]
    Conversation.objects.filter(pk=conversation_id).update(last_seq=start_seq + count, last_message_id=latest)
    return rows
