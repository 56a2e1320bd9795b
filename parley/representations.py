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
from django.utils import timezone

from parley import users
from parley.conf import parley_settings
from parley.message_parts import json_list, parent_quotes, quote_of, reactions_json, viewer_reactions
from parley.models import Membership, Message

MEMBER_COLUMNS = (
    "conversation_id",
    "user_id",
    "role",
    "last_read_message_id",
    "unread_count",
    # The member's own view (SPEC 10), shown only on their own conversation JSON.
    "notification_level",
    "muted_until",
    "archived",
    "pinned_at",
    "unread_mentions",
)


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


def message_rows_json(rows: Iterable[dict[str, Any]], *, viewer_id: Any = None) -> list[dict[str, Any]]:
    """Rows of `message_values` as JSON, reactions' `me` from `viewer_id`'s point of view.
    One statement more when some row is a reply (the parents' quotes), one when some row
    has reactions (the viewer's own); names a host's DISPLAY_NAME gives cost one."""
    listed = with_names(list(rows), id_key="sender_id", name_key="sender_name")
    quotes = parent_quotes(r["reply_to_id"] for r in listed if r["reply_to_id"] is not None)
    reacted = (r["id"] for r in listed if r["reaction_summary"] and r["reaction_summary"] != "[]")
    mine = viewer_reactions(reacted, viewer_id=viewer_id)
    return [
        message_row_json(row, mine=mine.get(row["id"], frozenset()), quote=quotes.get(row["reply_to_id"]))
        for row in listed
    ]


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
    "reply_to_id",
    "mentions",
    "pinned_at",
    "reaction_summary",
)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 as DRF writes it: UTC as `Z`."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def attachment_url(message_id: int) -> str:
    return parley_settings.PUBLIC_BASE_URL + reverse("message-attachment", kwargs={"pk": message_id})


def message_row_json(
    row: Mapping[str, Any], *, mine: set[str] | frozenset[str] = frozenset(), quote: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A message as the seed documents it, plus `seq`, `client_id` and attachment details,
    and SPEC 10's `reactions`, `reply_to`, `mentions` and `pinned`."""
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
        "reactions": reactions_json(row["reaction_summary"], mine),
        "reply_to": quote,
        "mentions": json_list(row["mentions"]),
        "pinned": row["pinned_at"] is not None,
    }


def message_json(message: Message, *, viewer_id: Any = None) -> dict[str, Any]:
    """The same JSON from a model instance (its sender must be loaded or cached; a
    reply's parent is read unless cached). With a viewer and reactions, one query for `me`."""
    parent = message.reply_to if message.reply_to_id is not None else None
    summary = message.reaction_summary
    mine = viewer_reactions([message.pk] if json_list(summary) else [], viewer_id=viewer_id)
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
            "reply_to_id": message.reply_to_id,
            "mentions": message.mentions,
            "pinned_at": message.pinned_at,
            "reaction_summary": summary,
        },
        mine=mine.get(message.pk, frozenset()),
        quote=quote_of(parent) if parent is not None else None,
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
        **member_state_json(membership),
    }


def member_state_json(membership: Mapping[str, Any]) -> dict[str, Any]:
    """The member's own view of the conversation (SPEC 10)."""
    muted_until = membership["muted_until"]
    return {
        "notification_level": membership["notification_level"],
        "muted_until": iso(muted_until),
        "muted": muted_until is not None and muted_until > timezone.now(),
        "archived": membership["archived"],
        "pinned": membership["pinned_at"] is not None,
        "unread_mentions": membership["unread_mentions"],
    }
