"""Reads of SPEC 10's lists: a thread, a conversation's pins, the caller's mentions, the
edit history. Each is a fixed number of queries whatever its length; messages come as
`parley.representations` JSON with the reader's `me` on reactions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from parley.models import Message, MessageEdit, MessageMention
from parley.representations import iso, message_rows_json, message_values
from parley.selectors.messages import live_messages, messages_visible_to

MAX_PINS = 200  # a conversation's pins list, newest pin first


def thread_replies(*, message_id: int) -> QuerySet[Message]:
    """The live replies to a message (the partial index on `reply_to`)."""
    return Message.objects.filter(reply_to_id=message_id, is_deleted=False)


def pins_json(*, conversation_id: int, viewer_id: Any) -> list[dict[str, Any]]:
    pinned = live_messages(conversation_id=conversation_id).filter(pinned_at__isnull=False).order_by("-pinned_at")
    return message_rows_json(message_values(pinned)[:MAX_PINS], viewer_id=viewer_id)


def edit_history_json(*, message_id: int) -> list[dict[str, Any]]:
    """The versions an edit replaced, oldest first: each as it was (`edited_at` null
    for the original)."""
    rows = MessageEdit.objects.filter(message_id=message_id).order_by("id").values("content", "edited_at")
    return [{"content": row["content"], "edited_at": iso(row["edited_at"])} for row in rows]


def mentions_page(*, user_id: Any, before: int | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Live messages mentioning the user in conversations they are still in, newest
    first: `(results, has_more)`; the next page is `before` the last id."""
    mentioned = MessageMention.objects.filter(user_id=user_id).values("message_id")
    messages = messages_visible_to(user_id=user_id).filter(id__in=mentioned)
    if before is not None:
        messages = messages.filter(id__lt=before)
    rows = list(message_values(messages.order_by("-id"))[: limit + 1])
    return message_rows_json(rows[:limit], viewer_id=user_id), len(rows) > limit
