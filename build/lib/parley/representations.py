"""The JSON of messages and conversations, built without DRF field serializers.

REST responses and WebSocket frames both use these functions, so a message looks
the same wherever a client meets it. They read plain rows (`.values()` dicts) on the
hot read paths and model instances on the write paths; `tests/test_representations.py`
checks both against the documented DRF output serializers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db.models import F, QuerySet
from django.urls import reverse

from parley import users
from parley.conf import parley_settings
from parley.models import Membership, Message

MEMBER_COLUMNS = ("conversation_id", "user_id", "role", "last_read_message_id", "unread_count")


def message_values(messages: QuerySet[Message]) -> QuerySet[Message, dict[str, Any]]:
    """`messages` as rows for `message_rows_json`. With the default DISPLAY_NAME the
    sender's name comes in the same query; a host's callable costs one more per page."""
    column = users.name_column()
    if column is None:
        return messages.values(*MESSAGE_COLUMNS)
    return messages.values(*MESSAGE_COLUMNS, sender_name=F(f"sender__{column}"))


def member_values(memberships: QuerySet[Membership]) -> QuerySet[Membership, dict[str, Any]]:
    column = users.name_column()
    if column is None:
        return memberships.values(*MEMBER_COLUMNS)
    return memberships.values(*MEMBER_COLUMNS, user_name=F(f"user__{column}"))


def with_names(rows: list[dict[str, Any]], *, id_key: str, name_key: str) -> list[dict[str, Any]]:
    """Fill in display names the query did not select (a host's DISPLAY_NAME), in one query."""
    if rows and name_key not in rows[0]:
        names = users.display_names(row[id_key] for row in rows)
        for row in rows:
            row[name_key] = names.get(row[id_key])
    return rows


def message_rows_json(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [message_row_json(row) for row in with_names(list(rows), id_key="sender_id", name_key="sender_name")]


# Columns a message row needs; `message_values` adds the sender's name.
MESSAGE_COLUMNS = (
    "id",
    "conversation_id",
    "sender_id",
    "content",
    "attachment",
    "attachment_name",
    "attachment_size",
    "attachment_type",
    "timestamp",
    "is_read",
    "read_at",
    "is_deleted",
    "edited_at",
    "client_id",
    "seq",
)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 as DRF writes it: UTC as `Z`."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def attachment_url(message_id: int) -> str:
    return parley_settings.PUBLIC_BASE_URL + reverse("message-attachment", kwargs={"pk": message_id})


def message_row_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A message as the seed documents it, plus `seq`, `client_id` and attachment details."""
    has_file = bool(row["attachment"]) and not row["is_deleted"]
    return {
        "id": row["id"],
        "conversation": row["conversation_id"],
        "sender": users.wire_id(row["sender_id"]),
        "sender_name": row["sender_name"] if row["sender_id"] is not None else users.DELETED_USER_NAME,
        "content": row["content"],
        "attachment": attachment_url(row["id"]) if has_file else None,
        "attachment_name": row["attachment_name"] if has_file else None,
        "attachment_size": row["attachment_size"] if has_file else None,
        "attachment_type": row["attachment_type"] if has_file else None,
        "timestamp": iso(row["timestamp"]),
        "is_read": row["is_read"],
        "read_at": iso(row["read_at"]),
        "is_deleted": row["is_deleted"],
        "edited_at": iso(row["edited_at"]),
        "client_id": row["client_id"],
        "seq": row["seq"],
    }


def message_json(message: Message) -> dict[str, Any]:
    """The same JSON from a model instance (its sender must be loaded or cached)."""
    return message_row_json(
        {
            "id": message.pk,
            "conversation_id": message.conversation_id,
            "sender_id": message.sender_id,
            "sender_name": users.display_name(message.sender),
            "content": message.content,
            "attachment": message.attachment.name if message.attachment else "",
            "attachment_name": message.attachment_name,
            "attachment_size": message.attachment_size,
            "attachment_type": message.attachment_type,
            "timestamp": message.timestamp,
            "is_read": message.is_read,
            "read_at": message.read_at,
            "is_deleted": message.is_deleted,
            "edited_at": message.edited_at,
            "client_id": message.client_id,
            "seq": message.seq,
        }
    )


def member_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": users.wire_id(row["user_id"]),
        "username": row["user_name"],  # the display name (PARLEY["DISPLAY_NAME"])
        "role": row["role"],
        "last_read_message_id": row["last_read_message_id"],
    }


def conversation_json(
    conversation: Mapping[str, Any],
    *,
    membership: Mapping[str, Any],
    members: Iterable[Mapping[str, Any]],
    messages: list[dict[str, Any]],
    last_message: dict[str, Any] | None,
) -> dict[str, Any]:
    """A conversation as one member sees it: the seed's fields plus SPEC section 2's."""
    member_list = [member_json(m) for m in members]
    return {
        "id": conversation["id"],
        "kind": conversation["kind"],
        "title": conversation["title"],
        "participants": [m["id"] for m in member_list],
        "members": member_list,
        "messages": messages,
        "last_message": last_message,
        "unread_count": membership["unread_count"],
        "last_read_message_id": membership["last_read_message_id"],
        "last_seq": conversation["last_seq"],
        "created_at": iso(conversation["created_at"]),
        "updated_at": iso(conversation["updated_at"]),
    }
